#!/usr/bin/env bash
# Install everything the tests need and run them all under a virtual X server.
#   - Debian packages napari/Qt need (only the missing ones; apt-get as root, else sudo)
#   - .venv with the package and its [test] extra
#   - ruff, then pytest under Xvfb on every core (pytest-xdist, one file per worker at a time: a file's
#     module fixtures are made once; extra arguments go to pytest, e.g. -n 0 for one process)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(xvfb xauth libgl1 libegl1 libgl1-mesa-dri libxkbcommon-x11-0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-xinerama0 libxcb-xfixes0 libxcb-shape0
  libxcb-cursor0 libdbus-1-3 libfontconfig1)
missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
.venv/bin/ruff check src tests benchmarks docs
exec xvfb-run -a -s "-screen 0 1920x1080x24" .venv/bin/python -m pytest --numprocesses auto --maxprocesses 4 \
  --dist loadfile "$@"

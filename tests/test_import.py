import os
import subprocess
import sys

import pytest


def test_import_needs_no_qt_or_napari():
    code = (
        "import sys, napari_resolution, napari_resolution.cli, napari_resolution.io;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('qtpy', 'PyQt5', 'PyQt6', 'PySide2', 'PySide6', 'napari', 'magicgui', 'pyqtgraph')];"
        "print(','.join(bad))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == ""


def test_import_changes_no_process_setting():
    code = (
        "import os; os.environ.pop('OMP_WAIT_POLICY', None);"
        "import napari_resolution, napari_resolution.core.kernels;"
        "print(os.environ.get('OMP_WAIT_POLICY', 'unset'));"
        "from napari_resolution import fsc; from napari_resolution.core.simulate import phantom_pair;"
        "pair = phantom_pair((16, 16, 16), seed=0); fsc(pair.half1, pair.half2, apodization=2);"
        "print(os.environ.get('OMP_WAIT_POLICY', 'unset'))"
    )
    output = _run_with_kernels_and_no_policy(code)
    assert output.stdout.split() == ["unset", "PASSIVE"]  # set when a compiled kernel first runs


def test_wait_policy_is_set_before_numba_starts_its_threads():
    """numba starts its OpenMP pool on the first parallel kernel or thread-count query; OpenMP reads the
    policy then, so it must be set by that moment (a later setting is ignored: 6.0 s instead of 4.4 s for
    the 256^3 local FSC, the spinning threads taking the cores from the FFTs)."""
    code = (
        "import os; os.environ.pop('OMP_WAIT_POLICY', None);"
        "import numba.np.ufunc.parallel as pool; seen = [];"
        "launch = pool._launch_threads;"
        "pool._launch_threads = lambda: (seen.append(os.environ.get('OMP_WAIT_POLICY', 'unset')), launch())[1];"
        "from napari_resolution import fsc, local_fsc; from napari_resolution.core.simulate import phantom_pair;"
        "pair = phantom_pair((32, 32, 32), seed=0); fsc(pair.half1, pair.half2);"
        "local_fsc(pair.half1, pair.half2, box=16);"
        "print(seen[0] if seen else 'not started')"
    )
    output = _run_with_kernels_and_no_policy(code)
    assert output.stdout.split() == ["PASSIVE"]


def _run_with_kernels_and_no_policy(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh Python with the compiled kernels enabled and no OMP_WAIT_POLICY set."""
    unset = ("OMP_WAIT_POLICY", "NAPARI_RESOLUTION_NO_JIT")
    env = {key: value for key, value in os.environ.items() if key not in unset}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)


def test_public_names_are_imported_on_first_use():
    code = (
        "import sys, napari_resolution as package;"
        "assert 'napari_resolution.core.correlation' not in sys.modules;"
        "assert set(package.__all__) <= set(dir(package));"
        "missing = [name for name in package.__all__ if getattr(package, name, None) is None];"
        "from napari_resolution import fsc, local_fsc;"
        "from napari_resolution.core.correlation import fsc as defined;"
        "assert fsc is defined and callable(local_fsc);"
        "print(','.join(missing))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert output.stdout.strip() == ""


#: The core modules the command line's parser may import: the light ones its help text comes from.
PARSER_CORE_MODULES = {"napari_resolution.core", "napari_resolution.core.results", "napari_resolution.core.thresholds",
                       "napari_resolution.core.validation"}


@pytest.mark.parametrize("argv", [["--help"], ["fsc", "--help"], ["batch", "blink-psf", "--help"]])
def test_the_cli_help_imports_no_estimator(argv):
    """``--help`` builds every subcommand's parser; the estimators (and numba, scipy, matplotlib, dask, the GUI)
    are imported only when a subcommand runs."""
    code = "\n".join((
        "import contextlib, io, sys",
        "from napari_resolution.cli import main",
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):",
        f"    main({argv!r})",
        "heavy = ('numba', 'scipy', 'matplotlib', 'dask', 'distributed', 'napari_resolution.gui')",
        "print(*sorted(m for m in sys.modules if m.startswith(('napari_resolution.core', *heavy))))",
    ))
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert set(output.stdout.split()) <= PARSER_CORE_MODULES

import os
import subprocess
import sys


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
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    env.pop("NAPARI_RESOLUTION_NO_JIT", None)
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert output.stdout.split() == ["unset", "PASSIVE"]  # set when a compiled kernel first runs

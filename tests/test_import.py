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

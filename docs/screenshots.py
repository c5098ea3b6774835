"""Take the README/docs screenshots of the widgets in a real viewer.

Run under a (virtual) display: ``xvfb-run -a .venv/bin/python docs/screenshots.py``.
Writes docs/images/viewer_fsc.png, fsc_widget.png and ssnr_widget.png.
"""

from __future__ import annotations

import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

from napari_resolution.gui.widgets.fourier import FourierCorrelationWidget, SSNRWidget

IMAGES = Path(__file__).parent / "images"


def wait_for(widget, timeout: float = 120.0) -> None:
    """Process Qt events until the widget's computation has finished."""
    deadline = time.monotonic() + timeout
    while widget.runner.busy and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)
    for _ in range(20):
        QApplication.processEvents()


def main() -> None:
    IMAGES.mkdir(exist_ok=True)
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 950)
    viewer.open_sample("napari-resolution", "half_maps")
    viewer.dims.current_step = (64, 0, 0)
    fsc = FourierCorrelationWidget(viewer)
    ssnr = SSNRWidget(viewer)
    viewer.window.add_dock_widget(fsc, name="Fourier shell correlation", area="right")
    viewer.window.add_dock_widget(ssnr, name="SSNR", area="right", tabify=True)
    fsc.show_all.value = True
    for widget in (fsc, ssnr):
        widget.run()
        wait_for(widget)
    viewer.window._qt_window.raise_()
    ssnr.grab().save(str(IMAGES / "ssnr_widget.png"))
    dock = fsc.parentWidget()
    while dock is not None and not dock.inherits("QDockWidget"):
        dock = dock.parentWidget()
    dock.raise_()
    for _ in range(20):
        QApplication.processEvents()
    fsc.grab().save(str(IMAGES / "fsc_widget.png"))
    viewer.screenshot(str(IMAGES / "viewer_fsc.png"), canvas_only=False, flash=False)
    viewer.close()


if __name__ == "__main__":
    main()

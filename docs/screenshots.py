"""Take the README/docs screenshots of the widgets in a real viewer.

Run under a (virtual) display: ``xvfb-run -a .venv/bin/python docs/screenshots.py``.
Writes docs/images/viewer_fsc.png, fsc_widget.png, ssnr_widget.png, mask_widget.png,
randomized_fsc.png, decorrelation_widget.png and mtf_widget.png. With ``--widgets``:
every widget docked on its sample, run, in a 1600 x 1000 and a 1280 x 800 window
(docs/images/widgets/<widget>_<width>x<height>.png; ``tests/gui/test_papercuts.py``
checks that each dock's content fits its width there); ``--widgets loc dfsc`` takes only those
(the names of ``napari-resolution view --widget``).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtWidgets import QApplication

from napari_resolution.core.masks import spherical_mask
from napari_resolution.core.simulate import band_limited_noise, slanted_edge, two_region_pair
from napari_resolution.gui.widgets.decorrelation import DecorrelationWidget
from napari_resolution.gui.widgets.fourier import FourierCorrelationWidget, SSNRWidget
from napari_resolution.gui.widgets.local import SINGLE_MAP, LocalResolutionWidget
from napari_resolution.gui.widgets.mask import MaskWidget
from napari_resolution.gui.widgets.mtf import MTFWidget

IMAGES = Path(__file__).parent / "images"
#: The window sizes of the per-widget screenshots: a large and a small laptop screen.
WINDOW_SIZES = ((1600, 1000), (1280, 800))


def _whole(widget):
    """A picture of the whole dock widget, also the part its scroll area hides (painted once first: a plot never
    shown sizes its axes to their tick labels when it is first painted)."""
    content = widget.body.parentWidget()
    content.grab()
    for _ in range(20):
        QApplication.processEvents()
    return content.grab()


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
    _whole(ssnr).save(str(IMAGES / "ssnr_widget.png"))
    dock = fsc.parentWidget()
    while dock is not None and not dock.inherits("QDockWidget"):
        dock = dock.parentWidget()
    dock.raise_()
    for _ in range(20):
        QApplication.processEvents()
    _whole(fsc).save(str(IMAGES / "fsc_widget.png"))
    viewer.screenshot(str(IMAGES / "viewer_fsc.png"), canvas_only=False, flash=False)
    masks_and_randomisation(viewer, fsc)
    viewer.close()
    decorrelation_shot()
    mtf_shot()
    local_shot()
    blink_shot()
    tomography_shot()


def _sample_shot(sample: str, widget_name: str, image: str) -> None:
    """Open a sample, dock a widget by its display name, run it and save the viewer."""
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 950)
    viewer.open_sample("napari-resolution", sample)
    widget = viewer.window.add_plugin_dock_widget("napari-resolution", widget_name)[1]
    widget.run()
    wait_for(widget)
    for _ in range(20):
        QApplication.processEvents()
    viewer.screenshot(str(IMAGES / image), canvas_only=False, flash=False)
    viewer.close()


def blink_shot() -> None:
    """The Blink PSF widget on the simulated blinking movie: the table, the PSF and its radial profile."""
    _sample_shot("blinking", "Blink PSF", "blink_psf_widget.png")


def tomography_shot() -> None:
    """The Tomography split widget on the simulated sinogram: the even/odd reconstructions and their FRC."""
    _sample_shot("sinogram", "Tomography split", "tomography_widget.png")


def mtf_shot() -> None:
    """The MTF widget with two edge ROIs of different sharpness and the ESF/LSF view."""
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 1000)
    chart = np.hstack([slanted_edge((300, 200), 84, 0.9, noise=0.004, seed=0),
                       slanted_edge((300, 200), 84, 2.0, noise=0.004, seed=1)])
    viewer.add_image(chart, name="chart", scale=(2.5, 2.5))
    widget = MTFWidget(viewer)
    viewer.window.add_dock_widget(widget, name="MTF", area="right")
    widget.unit.value = "µm"
    widget.start_picking()
    layer = viewer.layers["chart MTF edges"]
    layer.add_rectangles(np.array([[40, 40], [260, 160]]))
    wait_for(widget)
    layer.add_rectangles(np.array([[40, 240], [260, 360]]))
    wait_for(widget)
    widget.show_profile.value = True
    viewer.reset_view()
    for _ in range(20):
        QApplication.processEvents()
    viewer.screenshot(str(IMAGES / "mtf_widget.png"), canvas_only=False, flash=False)
    viewer.close()


def masks_and_randomisation(viewer, fsc) -> None:
    """The Mask widget on the half-maps, then the phase-randomised FSC with a soft sphere."""
    mask = MaskWidget(viewer)
    viewer.window.add_dock_widget(mask, name="Mask", area="right", tabify=True)
    mask.second.value = viewer.layers["half-map 2"]
    mask.run()
    wait_for(mask)
    _whole(mask).save(str(IMAGES / "mask_widget.png"))
    viewer.add_image(spherical_mask((128, 128, 128), radius=45, soft_edge=4), name="sphere", scale=(1.1,) * 3,
                     opacity=0.3)
    fsc.reset_choices()
    fsc.mask.value = viewer.layers["sphere"]
    fsc.show_all.value = False
    fsc.randomize.value = True
    fsc.run()
    wait_for(fsc)
    _whole(fsc).save(str(IMAGES / "randomized_fsc.png"))


def decorrelation_shot() -> None:
    """The decorrelation widget on a stack of band-limited frames."""
    viewer = napari.Viewer(show=True)
    frames = [band_limited_noise((256, 256), c, seed=i) for i, c in enumerate((0.12, 0.16, 0.2, 0.24, 0.28))]
    viewer.add_image(np.stack(frames), name="frames", scale=(1, 65, 65))
    widget = DecorrelationWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Decorrelation analysis", area="right")
    widget.unit.value = "nm"
    widget.run()
    wait_for(widget)
    _whole(widget).save(str(IMAGES / "decorrelation_widget.png"))
    viewer.close()


def local_shot() -> None:
    """The local-resolution widget on half-maps sharp in one region and blurred in the other, one box inspected (a
    window tall enough for the histogram and the box's FSC both)."""
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1500, 1200)
    half1, half2, _ = two_region_pair((96, 96, 96), noise=0.3, seed=0)
    viewer.add_image(half1, name="half-map 1", scale=(1.1,) * 3)
    viewer.add_image(half2, name="half-map 2", scale=(1.1,) * 3, visible=False)
    viewer.dims.current_step = (48, 0, 0)
    widget = LocalResolutionWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Local resolution", area="right")
    widget.unit.value = "Å"
    widget.run()
    wait_for(widget)
    widget.inspect((48, 48, 20))  # map pixel coordinates: a box of the sharp region
    for _ in range(20):
        QApplication.processEvents()
    viewer.reset_view()  # the whole map in the canvas of the resized window
    viewer.screenshot(str(IMAGES / "local_resolution.png"), canvas_only=False, flash=False)
    widget.method.value = SINGLE_MAP  # the same halves by the single-map test (their difference is the noise)
    widget.half2.value = viewer.layers["half-map 2"]  # optional with a single map: not filled for the user
    widget.run()
    wait_for(widget)
    widget.inspect((48, 48, 20))
    for _ in range(20):
        QApplication.processEvents()
    viewer.screenshot(str(IMAGES / "local_resolution_single_map.png"), canvas_only=False, flash=False)
    viewer.close()


def widget_shots(keys=()) -> None:
    """Every widget of ``napari-resolution view`` (or those of ``keys``, e.g. ("loc",)) docked on its sample and run
    (MTF: two edges drawn), at each of :data:`WINDOW_SIZES`."""
    from napari_resolution.gui.launch import WIDGETS

    folder = IMAGES / "widgets"
    folder.mkdir(exist_ok=True)
    for key, (name, sample) in WIDGETS.items():
        if keys and key not in keys:
            continue
        for width, height in WINDOW_SIZES:
            viewer = napari.Viewer(show=True)
            viewer.window._qt_window.resize(width, height)
            viewer.open_sample("napari-resolution", sample)
            widget = viewer.window.add_plugin_dock_widget("napari-resolution", name)[1]
            if widget.run_text:
                widget.run()
            else:  # MTF: the sample's first two edges
                widget.start_picking()
                for row0, col0, row1, col1 in viewer.layers[0].metadata["known_answer"]["rois"][:2]:
                    viewer.layers[-1].add_rectangles(np.array([[row0 + 2, col0 + 2], [row1 - 3, col1 - 3]]))
                    wait_for(widget)
            wait_for(widget)
            viewer.reset_view()  # the canvas took its size after the sample was opened
            viewer.screenshot(str(folder / f"{key}_{width}x{height}.png"), canvas_only=False, flash=False)
            viewer.close()


if __name__ == "__main__":
    if "--widgets" in sys.argv[1:]:
        widget_shots(sys.argv[sys.argv.index("--widgets") + 1:])
    else:
        main()

"""Issue #27, widget papercuts: the compiling notice, docks that fit their width, tabified docks."""

import logging
import threading

import numpy as np
import pytest

from napari_resolution.core import kernels

RNG = np.random.default_rng(0)


def test_the_compiling_notice_goes_with_the_run(make_napari_viewer, wait_idle, monkeypatch, qtbot):
    import napari_resolution.gui.notices as notices

    shown = []
    monkeypatch.setattr(notices, "show_info", shown.append)
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Fourier shell correlation")
    gate = threading.Event()
    compute = widget.compute

    def compiling(parameters, progress):
        kernels.logger.info(kernels.COMPILING_MESSAGE)  # what numba's compile event logs, in the worker
        assert gate.wait(30)
        return compute(parameters, progress)

    monkeypatch.setattr(widget, "compute", compiling)
    widget.run()
    qtbot.waitUntil(lambda: widget.runner.note.text() == kernels.COMPILING_MESSAGE, timeout=10_000)
    assert widget.runner.note.isVisibleTo(widget) and not shown  # under the bar, not a toast on the canvas
    gate.set()
    wait_idle(widget)
    assert not widget.runner.note.isVisibleTo(widget) and widget.runner.note.text() == ""
    logging.getLogger("napari_resolution.core.kernels").info(kernels.COMPILING_MESSAGE)  # nothing runs
    assert shown == [kernels.COMPILING_MESSAGE]

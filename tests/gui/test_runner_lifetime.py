"""The runner owns its lifetime: closing the viewer (or the dock) during a run cancels it, and nothing touches
a deleted Qt object afterwards (pytest-qt fails a test on any exception raised in a Qt slot)."""

import threading
import time

import numpy as np
import pytest


def _slow(seen: dict):
    """A computation reporting progress every 10 ms for up to 20 s; ``seen`` records how it ended."""

    def compute(parameters, progress):
        start = time.monotonic()
        try:
            while time.monotonic() - start < 20:
                progress(min(0.99, (time.monotonic() - start) / 20))
                time.sleep(0.01)
        except BaseException as error:
            seen["stopped"] = (type(error).__name__, time.monotonic())
            raise
        seen["stopped"] = ("finished", time.monotonic())

    return compute


@pytest.mark.parametrize("how", ["viewer", "dock"])
def test_closing_during_a_run_cancels_it_within_a_second(make_napari_viewer, qtbot, monkeypatch, how):
    viewer = make_napari_viewer()
    viewer.add_image(np.random.default_rng(0).random((64, 64)).astype(np.float32), name="one")
    viewer.add_image(np.random.default_rng(1).random((64, 64)).astype(np.float32), name="two")
    dock, widget = viewer.window.add_plugin_dock_widget("napari-resolution", "Fourier shell correlation")
    seen = {}
    monkeypatch.setattr(widget, "compute", _slow(seen))
    widget.run()
    qtbot.waitUntil(lambda: widget.runner.busy, timeout=5000)
    qtbot.wait(200)  # progress flowing
    if how == "viewer":
        viewer.close()
    else:
        viewer.window.remove_dock_widget(dock)
    closed = time.monotonic()  # once closing returned (it takes a while on a loaded machine)
    qtbot.waitUntil(lambda: "stopped" in seen, timeout=3000)
    kind, when = seen["stopped"]
    assert kind == "Cancelled" and when - closed < 1.0
    qtbot.wait(300)  # the worker's finished/errored signals arrive after the widgets are gone
    assert not any(thread.name.startswith("Dummy") and thread.is_alive() for thread in threading.enumerate()
                   if thread is not threading.current_thread() and "worker" in thread.name.lower())

import pytest


@pytest.fixture
def notifications(monkeypatch):
    """Capture the error/info notifications the widgets and the runner raise."""
    messages = []
    import napari_resolution.gui.runner as runner
    import napari_resolution.gui.widgets.base as base
    import napari_resolution.gui.widgets.decorrelation as decorrelation
    import napari_resolution.gui.widgets.fourier as fourier
    import napari_resolution.gui.widgets.local as local
    import napari_resolution.gui.widgets.mask as mask
    import napari_resolution.gui.widgets.mtf as mtf

    for module in (runner, base, fourier, mask, decorrelation, mtf, local):
        for kind in ("error", "info", "warning"):
            monkeypatch.setattr(module, f"show_{kind}", lambda text, kind=kind: messages.append((kind, text)),
                                raising=False)
    return messages


@pytest.fixture
def wait_idle(qtbot):
    """Wait until a widget's runner has finished (worker returned or failed)."""

    def wait(widget, timeout=60_000):
        qtbot.waitUntil(lambda: not widget.runner.busy, timeout=timeout)

    return wait

import pytest


@pytest.fixture
def notifications(monkeypatch):
    """Capture the error/info notifications the widgets and the runner raise."""
    messages = []
    import napari_resolution.gui.runner as runner
    import napari_resolution.gui.widgets.fourier as fourier

    for module in (runner, fourier):
        monkeypatch.setattr(module, "show_error", lambda text: messages.append(("error", text)), raising=False)
        monkeypatch.setattr(module, "show_info", lambda text: messages.append(("info", text)), raising=False)
    return messages


@pytest.fixture
def wait_idle(qtbot):
    """Wait until a widget's runner has finished (worker returned or failed)."""

    def wait(widget, timeout=60_000):
        qtbot.waitUntil(lambda: not widget.runner.busy, timeout=timeout)

    return wait

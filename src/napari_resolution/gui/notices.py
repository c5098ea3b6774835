"""The core's INFO log lines (e.g. "compiling the CPU kernels ...") in the running widgets, else as napari
notifications."""

from __future__ import annotations

import logging

import napari
from napari.utils.notifications import show_info

from .runner import note_running

__all__ = ["NotificationHandler", "show_core_notes"]


class NotificationHandler(logging.Handler):
    """Shows each record of the package's logger under the progress bar of the running computations (it goes when
    they end), else as a napari info notification while a viewer is open."""

    def emit(self, record: logging.LogRecord) -> None:
        text = self.format(record)
        if not note_running(text) and napari.current_viewer() is not None:  # without one, napari prints it
            show_info(text)


def show_core_notes() -> None:
    """Route the package's INFO log lines to napari notifications, once per process."""
    package_logger = logging.getLogger("napari_resolution")
    if any(isinstance(handler, NotificationHandler) for handler in package_logger.handlers):
        return
    package_logger.addHandler(NotificationHandler(logging.INFO))
    if package_logger.getEffectiveLevel() > logging.INFO:
        package_logger.setLevel(logging.INFO)

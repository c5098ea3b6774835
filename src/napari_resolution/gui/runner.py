"""Run a core computation off the GUI thread, with progress, Cancel and error notifications."""

from __future__ import annotations

import threading

from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info
from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

__all__ = ["Cancelled", "Runner", "checked", "note_running"]


def checked(function, on_error=None):
    """Call ``function()``; a ValueError (bad input) becomes an error notification and the result None.

    ``on_error(error)``, when given, is called with that ValueError too.
    """
    try:
        return function()
    except ValueError as error:
        show_error(str(error))
        if on_error is not None:
            on_error(error)
        return None


class Cancelled(Exception):
    """Raised inside the progress callback when the user pressed Cancel."""


class _Bridge(QObject):
    progressed = Signal(float)
    noted = Signal(str)


#: The workers still running, with their progress bridges: kept alive here until they finish, so that a worker
#: whose runner (dock, viewer) is gone still has its signals to end on (else Qt aborts the process).
_LIVE: set = set()


def note_running(text: str) -> bool:
    """Show ``text`` under the progress bar of every running computation, until it ends (from any thread).

    Returns
    -------
    bool
        False when no computation runs (nothing shown).
    """
    bridges = {bridge for _, bridge in tuple(_LIVE)}
    for bridge in bridges:
        bridge.noted.emit(text)
    return bool(bridges)


class Runner(QWidget):
    """A progress bar and a Cancel button that run one computation at a time.

    The computation receives a ``progress(fraction)`` callback; pressing
    Cancel makes the next call raise :class:`Cancelled`, which stops it (so
    a step in progress, such as one large FFT, finishes first).
    ValueErrors (bad input) become error notifications with their message;
    any other exception too, so the viewer keeps running.

    A note of the core while it runs (e.g. "compiling the CPU kernels",
    :func:`note_running`) is shown under the bar and goes with the run.

    Signals of the underlying napari worker are not exposed: use the
    ``on_done`` callback of :meth:`start` and :attr:`busy`.

    The runner owns its lifetime: when it is destroyed (its dock closed, the
    viewer closed), the running computation is cancelled at its next
    progress report, and the worker's signals no longer reach any widget
    (every connection goes to a slot of the runner, which Qt removes with it).
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.note = QLabel()
        self.note.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(self.progress_bar)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.note)
        self._bridge = _Bridge()
        self._bridge.progressed.connect(self._show_progress)
        self._bridge.noted.connect(self._show_note)
        self._cancel = threading.Event()
        self.destroyed.connect(self._cancel.set)  # a plain callable: it runs when every widget is gone
        self.worker = None
        self._controls = []
        self._callbacks = (None, None, None)
        self._set_busy(False)

    @property
    def busy(self) -> bool:
        """True while a computation runs."""
        return self.worker is not None

    def set_controls(self, widgets) -> None:
        """Widgets disabled while a computation runs (the Run button, inputs)."""
        self._controls = list(widgets)

    def start(self, function, on_done, *, on_finish=None, on_error=None) -> None:
        """Run ``function(progress)`` in a worker thread; ``on_done(result)`` in the GUI thread.

        ``on_error(error)`` runs in the GUI thread after an error or a cancel (then ``error`` is
        :class:`Cancelled`), once it is notified; ``on_finish()`` after success, error or cancel.
        """
        if self.busy:
            show_info("A computation is already running; cancel it first.")
            return
        self._cancel.clear()

        def task():
            return function(self._report)

        worker = create_worker(task, _ignore_errors=True)  # errors are shown by _errored
        self._callbacks = (on_done, on_error, on_finish)
        worker.returned.connect(self._returned)
        worker.errored.connect(self._errored)
        worker.finished.connect(self._finished)
        live = (worker, self._bridge)
        _LIVE.add(live)
        worker.finished.connect(lambda: _LIVE.discard(live))
        self.worker = worker
        self._set_busy(True)
        worker.start()

    def cancel(self) -> None:
        """Ask the running computation to stop at its next progress report."""
        self._cancel.set()

    def _report(self, fraction: float) -> None:
        if self._cancel.is_set():
            raise Cancelled
        self._bridge.progressed.emit(float(fraction))

    def _show_progress(self, fraction: float) -> None:
        self.progress_bar.setValue(int(1000 * fraction))

    def _show_note(self, text: str) -> None:
        if self.busy:
            self.note.setText(text)
            self.note.setVisible(True)

    def _returned(self, result) -> None:
        self._callbacks[0](result)

    def _errored(self, error: Exception) -> None:
        if isinstance(error, Cancelled):
            show_info("Computation cancelled.")
        elif isinstance(error, ValueError):
            show_error(str(error))
        else:
            show_error(f"{type(error).__name__}: {error}")
        if self._callbacks[1] is not None:
            self._callbacks[1](error)

    def _finished(self) -> None:
        on_finish = self._callbacks[2]
        self.worker = None
        self._callbacks = (None, None, None)
        self._set_busy(False)
        if on_finish is not None:
            on_finish()

    def _set_busy(self, busy: bool) -> None:
        self.progress_bar.setValue(0)
        self.progress_bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.note.clear()
        self.note.setVisible(False)
        for widget in self._controls:
            widget.setEnabled(not busy)

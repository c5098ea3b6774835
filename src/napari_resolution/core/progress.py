"""Progress of long computations: one callback, split into parts that report into their own sub-range.

Every estimator takes ``progress=None`` or a callable taking the fraction done
in [0, 1]. :func:`progress_of` checks it once and gives a :class:`Progress`,
always callable (a no-op for None); :meth:`Progress.part` gives the report of a
part of the run, so that nested steps compose without hand-written arithmetic::

    report = progress_of(progress)
    reconstruct(..., progress=report.part(0.0, 0.45))   # the even half: 0 -> 0.45
    reconstruct(..., progress=report.part(0.45, 0.9))   # the odd half: 0.45 -> 0.9
    report(1.0)

A callback that raises (the GUI's Cancel) stops the computation: the exception
goes through every part unchanged.
"""

from __future__ import annotations

from .validation import check_progress

__all__ = ["Progress", "progress_of"]


class Progress:
    """A progress report mapped onto the sub-range [``start``, ``stop``] of the caller's callback.

    Parameters
    ----------
    callback : callable or None
        The caller's callback, taking a fraction in [0, 1]; None reports nothing.
    start, stop : float
        Where this part begins and ends in the caller's fractions.
    """

    def __init__(self, callback=None, start: float = 0.0, stop: float = 1.0):
        self._callback = callback
        self.start = float(start)
        self.stop = float(stop)

    def __call__(self, fraction: float) -> None:
        """Report ``fraction`` (clipped to [0, 1]) of this part done."""
        if self._callback is not None:
            self._callback(self.start + (self.stop - self.start) * min(max(float(fraction), 0.0), 1.0))

    @property
    def reports(self) -> bool:
        """True when reports reach a callback (False for a no-op report)."""
        return self._callback is not None

    def part(self, start: float, stop: float) -> Progress:
        """The report of the part of this run from ``start`` to ``stop`` (fractions of this part)."""
        span = self.stop - self.start
        return Progress(self._callback, self.start + span * start, self.start + span * stop)

    def parts(self, count: int) -> list[Progress]:
        """``count`` equal consecutive parts of this run (e.g. one per channel)."""
        return [self.part(index / count, (index + 1) / count) for index in range(count)]

    def counter(self, total: int):
        """A callable reporting ``done`` of ``total`` items (``done / total`` of this part)."""
        return lambda done: self(done / total)


def progress_of(progress) -> Progress:
    """``progress`` (None, a callable or a :class:`Progress`) as a :class:`Progress`.

    Raises
    ------
    ValueError
        ``progress`` is neither None nor callable.
    """
    if isinstance(progress, Progress):
        return progress
    check_progress(progress)
    return Progress(progress)

"""``no_hang``: the fuzz tests' guard against a call that never returns."""

import contextlib
import signal

#: Seconds after which a call is taken for a hang.
HANG_SECONDS = 30


@contextlib.contextmanager
def no_hang(seconds: float = HANG_SECONDS, error=TimeoutError):
    """Raise ``error`` (TimeoutError) in the test if the block runs longer than ``seconds``."""

    def hang(signum, frame):
        raise error(f"no answer after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

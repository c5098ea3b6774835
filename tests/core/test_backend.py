"""Array back-end helpers: transform threads."""

import os

from napari_resolution.core import backend


def test_fft_threads_follow_omp_num_threads(monkeypatch):
    """A batch worker's share of the cores (OMP_NUM_THREADS) limits its FFTs; nonsense or 0 is ignored."""
    cores = os.cpu_count() or 1
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert backend._workers() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", str(cores + 5))
    assert backend._workers() == cores
    for ignored in ("0", "four", ""):
        monkeypatch.setenv("OMP_NUM_THREADS", ignored)
        assert backend._workers() == cores
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert backend._workers() == cores

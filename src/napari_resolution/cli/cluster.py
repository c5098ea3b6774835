"""Where dask runs the work of ``batch`` and of a block-by-block ``local-fsc``: a new LocalCluster or a running
cluster. Importing this module does not import dask."""

from __future__ import annotations

import contextlib
import os

__all__ = ["cluster_client"]


@contextlib.contextmanager
def cluster_client(workers: int | None, address: str | None):
    """A dask client of a new LocalCluster of ``workers`` processes, or of the cluster at ``address``.

    Closed on exit, the client before the cluster it started. Its workers start without the nannies'
    ``MALLOC_TRIM_THRESHOLD_`` (:func:`~..core.scheduling.worker_spawn_config`).

    Raises
    ------
    ValueError
        dask.distributed is not installed.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ValueError("--workers and --scheduler need dask.distributed: "
                         "pip install 'napari-resolution[dask]'") from None
    if address:
        with Client(address) as client:
            yield client
        return
    import dask

    from ..core.scheduling import worker_spawn_config

    threads = max(1, (os.cpu_count() or 1) // workers)  # the kernels of all workers share the cores
    with dask.config.set(worker_spawn_config()), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                         env={"NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": str(threads)}) as cluster, \
            Client(cluster) as client:
        yield client

"""Computing a dask array on the scheduler in use, block by block, with progress and cancel.

Where the blocks run: on the dask.distributed cluster of the current client
(``distributed.Client(...)`` made by the caller, or by the batch CLI's
``--workers`` / ``--scheduler``), else on dask's local scheduler (threads,
unless ``dask.config`` says otherwise). Progress is the fraction of blocks
done: from the futures as they complete (``distributed.as_completed``), or
from a local-scheduler callback. The progress callback raising (the GUI's
Cancel) cancels the blocks not yet done. Importing this module does not
import dask.
"""

from __future__ import annotations

import sys

import numpy as np

__all__ = ["active_client", "compute_blocks", "worker_spawn_config"]

#: What distributed's nannies set in a new worker's environment and the kernels must not get (see
#: :func:`worker_spawn_config`).
SLOW_WORKER_ENVIRONMENT = ("MALLOC_TRIM_THRESHOLD_",)


def active_client():
    """The current dask.distributed client, or None (also when distributed was never imported)."""
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:  # no client
        return None


def worker_spawn_config() -> dict:
    """dask config for starting worker processes whose kernels run as fast as in this process.

    distributed's nannies start workers with ``MALLOC_TRIM_THRESHOLD_=65536``
    (``distributed.nanny.pre-spawn-environ``), which also turns off glibc's
    adaptive mmap threshold: every temporary array above 128 KiB (a chunk of
    boxes and its spectra) is then freshly mapped and page-faulted, and the
    local FSC's blocks ran 1.6x slower in a worker than here (256^3: 7.5 s
    against 4.6 s). A None value unsets the variable and keeps the nannies'
    other settings (one BLAS thread...). A nanny reads it when it is made:
    ``with dask.config.set(worker_spawn_config()): LocalCluster(...)``; in a
    dask config file, ``MALLOC_TRIM_THRESHOLD_: null`` under
    ``distributed: nanny: pre-spawn-environ:`` does the same. (A nanny also
    sets the variable in the process that makes it, so workers of a later
    cluster of that process inherit it anyway.)
    """
    return {f"distributed.nanny.pre-spawn-environ.{name}": None for name in SLOW_WORKER_ENVIRONMENT}


def compute_blocks(array, progress=None, done=0.0, share=1.0) -> np.ndarray:
    """``array`` (a dask array) computed into memory, its blocks reported as they finish.

    Parameters
    ----------
    array : dask array
    progress : callable, optional
        Called with ``done + share * (blocks finished / blocks)``; raising in
        it cancels the blocks not yet computed and propagates.
    done, share : float
        Where this computation starts in the caller's progress, and how much
        of it it takes.

    Returns
    -------
    ndarray, ``array``'s shape and dtype
    """
    blocks = array.to_delayed()
    client = active_client()
    if client is None:
        computed = _compute_here(blocks, progress, done, share)
    else:
        computed = _compute_on(client, blocks, progress, done, share)
    return _assembled(array, computed)


def _compute_here(blocks, progress, done: float, share: float) -> dict:
    """The blocks computed by dask's local scheduler; block index -> ndarray."""
    import dask
    from dask.callbacks import Callback

    indices = list(np.ndindex(blocks.shape))
    keys = {blocks[index].key for index in indices}
    finished = []

    def count(key, *_):
        if key in keys:
            finished.append(key)
            if progress is not None:
                progress(done + share * len(finished) / len(keys))

    with Callback(posttask=count):
        results = dask.compute(*[blocks[index] for index in indices])
    return dict(zip(indices, results))


def _compute_on(client, blocks, progress, done: float, share: float) -> dict:
    """The blocks computed on ``client``'s cluster, one future each; block index -> ndarray."""
    from distributed import as_completed

    indices = list(np.ndindex(blocks.shape))
    futures = dict(zip(client.compute([blocks[index] for index in indices]), indices))  # one graph, sent once
    results = {}
    try:
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            if progress is not None:
                progress(done + share * len(results) / len(futures))
    except BaseException:  # a failed block, or the caller cancelling through progress: stop the others
        client.cancel(list(futures))
        raise
    return results


def _assembled(array, computed: dict) -> np.ndarray:
    """One ndarray of ``array``'s shape from its computed blocks (block index -> ndarray)."""
    whole = np.empty(array.shape, array.dtype)
    edges = [np.concatenate([[0], np.cumsum(sizes)]) for sizes in array.chunks]
    for index, block in computed.items():
        whole[tuple(slice(edge[i], edge[i + 1]) for edge, i in zip(edges, index))] = block
    return whole

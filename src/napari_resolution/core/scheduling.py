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

from .progress import progress_of

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


def compute_blocks(array, progress=None) -> np.ndarray:
    """``array`` (a dask array) computed into memory, its blocks reported as they finish.

    Parameters
    ----------
    array : dask array
    progress : callable or Progress, optional
        Called with the fraction of blocks finished (a :meth:`~.progress.Progress.part`
        for a part of a run); raising in it cancels the blocks not yet computed and propagates.

    Returns
    -------
    ndarray, ``array``'s shape and dtype
    """
    blocks = array.to_delayed()
    indices = list(np.ndindex(blocks.shape))
    report = progress_of(progress).counter(len(indices))
    ordered = [blocks[index] for index in indices]
    client = active_client()
    computed = _compute_here(ordered, report) if client is None else _compute_on(client, ordered, report)
    return _assembled(array, dict(zip(indices, computed)))


def _compute_here(blocks: list, report) -> list:
    """The ``blocks`` (delayed) computed by dask's local scheduler, in order; ``report(n finished)``."""
    import dask
    from dask.callbacks import Callback

    keys = {block.key for block in blocks}
    finished = []

    def count(key, *_):
        if key in keys:
            finished.append(key)
            report(len(finished))

    with Callback(posttask=count):
        return list(dask.compute(*blocks))


def _compute_on(client, blocks: list, report) -> list:
    """The ``blocks`` (delayed) computed on ``client``'s cluster, one future each, in order;
    ``report(n finished)`` as they complete."""
    from distributed import as_completed

    futures = client.compute(blocks)  # one graph, sent once
    results = {}
    try:
        for future in as_completed(futures):
            results[future.key] = future.result()  # a failed block raises here, at once
            report(len(results))
        return [results[future.key] for future in futures]
    except BaseException:  # a failed block, or the caller cancelling through progress: stop the others
        client.cancel(futures)
        raise


def _assembled(array, computed: dict) -> np.ndarray:
    """One ndarray of ``array``'s shape from its computed blocks (block index -> ndarray)."""
    whole = np.empty(array.shape, array.dtype)
    edges = [np.concatenate([[0], np.cumsum(sizes)]) for sizes in array.chunks]
    for index, block in computed.items():
        whole[tuple(slice(edge[i], edge[i + 1]) for edge, i in zip(edges, index))] = block
    return whole

"""Local resolution from boxes: the local FSC of two half-maps, in memory or block by block.

* :mod:`.boxes`: the grid of boxes and their FSC (shell sums batched in
  chunks, values, statuses), shared by both paths;
* :mod:`.maps`: the map interpolated between box centres, its statistics
  and :class:`LocalResolutionResult`, shared by both paths and by the
  single-map test (:mod:`napari_resolution.core.single_map`);
* :mod:`.streamed`: lazy inputs block by block on dask, and :func:`streams`,
  the one decision between the two paths;
* :mod:`.fsc`: :func:`local_fsc`, the entry point;
* :mod:`.bands` and :mod:`.noise`: the bands, edge taper and local band
  power of the single-map test, and its noise reference (checked, then
  modelled), used by :mod:`napari_resolution.core.single_map`.

Imports run one way: ``fsc`` → ``streamed`` → ``maps`` → ``boxes``; ``noise`` → ``bands``.
"""

from .boxes import WINDOWS, axis_centres, box_results, box_sums, centres_inside, default_box, grid_centres
from .fsc import local_fsc
from .maps import (
    LocalResolutionResult,
    map_statistics,
    map_warnings,
    merged_map,
    overall_status,
    spread_out,
    statistics_dict,
)
from .streamed import streamed_local_fsc, streams

__all__ = ["WINDOWS", "LocalResolutionResult", "axis_centres", "box_results", "box_sums", "centres_inside",
           "default_box", "grid_centres", "local_fsc", "map_statistics", "map_warnings", "merged_map",
           "overall_status", "spread_out", "statistics_dict", "streamed_local_fsc", "streams"]

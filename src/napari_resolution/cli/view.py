"""``view``: open napari with files (or a sample) and a widget docked (needs the [napari] extra)."""

from __future__ import annotations

import logging

from .. import io
from .jobs import second_half_map

__all__ = ["HALF_MAP_WIDGETS", "WIDGETS", "register", "run_view"]

#: The widgets of ``--widget``: the names of :data:`~..gui.launch.WIDGETS`, written out so that ``--help`` does
#: not import the GUI package (a test checks that the two agree).
WIDGETS = ("fsc", "ssnr", "mask", "decorr", "mtf", "local", "blink", "tomo", "dfsc", "loc")
#: The widgets of half-maps (their sample is the half-maps): one half-map given, they get its other half too.
HALF_MAP_WIDGETS = ("fsc", "ssnr", "mask", "local", "dfsc")
#: Where the notes go (``main`` prints the package's INFO lines as ``note: ...``).
_LOG = logging.getLogger(__name__)


def register(commands) -> None:
    """Add ``view`` to ``commands`` (argparse subparsers)."""
    view = commands.add_parser(
        "view", help="open napari with the files (or sample data) and a widget docked",
        description='Open napari with FILES loaded (MRC/TIFF with their pixel sizes, localisation tables as '
                    'points; none: sample data with a known answer) and a widget docked. One half-map named like '
                    'RELION\'s (run_half1_class001_unfil.mrc) or cryoSPARC\'s (..._half_A.mrc) opens with its other '
                    'half beside it, as fsc finds it (without it, in the single-map local resolution). Needs a '
                    'display (over SSH: ssh -X, or xvfb-run -a) and napari: pip install "napari-resolution[napari]".')
    view.add_argument("files", nargs="*", help="images, maps or localisation tables (ThunderSTORM .csv, "
                                               "rapidSTORM .txt, Picasso .hdf5, SMAP .mat) to open")
    view.add_argument("--widget", choices=WIDGETS,
                      help="widget to dock (default: loc for localisation tables, fsc for two files or one half-map "
                           "with its other half beside it, local (single map) for one half-map without it, decorr "
                           "for one other file)")
    view.set_defaults(handler=run_view)


def _paired(files, widget: str | None) -> list:
    """``files``; one half-map named like a pair (RELION's ``run_half1_class001_unfil.mrc``) whose other half lies
    beside it, for a widget of half-maps (:data:`HALF_MAP_WIDGETS`) or none, comes with that half
    (:func:`.jobs.second_half_map`: a note says which)."""
    if len(files) != 1 or widget not in (None, *HALF_MAP_WIDGETS) or io.half_map_partner(files[0]) is None:
        return list(files)
    return [files[0], second_half_map(files[0])]


def _lone_half_map_widget(files, widget: str | None) -> str | None:
    """``widget``; without one, "local" (the single-map local resolution) for one file named like a half-map
    (:func:`.io.half_map_names`) whose other half is not beside it, with a note naming the missing file."""
    if widget is not None or len(files) != 1:
        return widget
    names = io.half_map_names(files[0])
    if not names or io.half_map_partner(files[0]) is not None:
        return widget
    _LOG.info("%s is named like a half-map, and its other half %s is not beside it: docking the single-map local "
              "resolution (for the FSC give both: napari-resolution view HALF1 HALF2)", files[0], names[0])
    return "local"


def run_view(args) -> int:
    """Open the viewer (with :func:`_paired` files, a lone half-map in the single-map local resolution; none without
    a display: :func:`~..gui.launch.check_display`) and run napari's event loop until the window closes."""
    from ..gui import launch

    widget = _lone_half_map_widget(args.files, args.widget)
    try:
        launch.open_viewer(_paired(args.files, widget), widget)
    except ImportError as err:
        raise ValueError(str(err)) from None
    import napari

    napari.run()
    return 0

"""``view``: open napari with files (or a sample) and a widget docked (needs the [napari] extra)."""

from __future__ import annotations

__all__ = ["WIDGETS", "register", "run_view"]

#: The widgets of ``--widget``: the names of :data:`~..gui.launch.WIDGETS`, written out so that ``--help`` does
#: not import the GUI package (a test checks that the two agree).
WIDGETS = ("fsc", "ssnr", "mask", "decorr", "mtf", "local", "blink", "tomo", "dfsc", "loc")


def register(commands) -> None:
    """Add ``view`` to ``commands`` (argparse subparsers)."""
    view = commands.add_parser(
        "view", help="open napari with the files (or sample data) and a widget docked",
        description='Open napari with FILES loaded (MRC/TIFF with their pixel sizes; none: sample data with a '
                    'known answer) and a widget docked. Needs napari: pip install "napari-resolution[napari]".')
    view.add_argument("files", nargs="*", help="images or maps to open")
    view.add_argument("--widget", choices=WIDGETS, help="widget to dock (default: decorr for one file, else fsc)")
    view.set_defaults(handler=run_view)


def run_view(args) -> int:
    """Open the viewer and run napari's event loop until the window closes."""
    from ..gui import launch

    try:
        launch.open_viewer(args.files, args.widget)
    except ImportError as err:
        raise ValueError(str(err)) from None
    import napari

    napari.run()
    return 0

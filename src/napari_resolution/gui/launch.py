"""``napari-resolution view``: napari with the user's files (or a sample) loaded and a widget docked."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .. import io
from ..core.localization import is_localization_table
from ..core.validation import working_dtype
from .reader import SUFFIXES as READER_SUFFIXES

__all__ = ["WIDGETS", "check_display", "default_widget", "open_viewer"]

PLUGIN = "napari-resolution"

#: CLI name -> (the widget's display name in napari.yaml, the sample opened when no file is given).
WIDGETS = {
    "fsc": ("Fourier shell correlation", "half_maps"),
    "ssnr": ("SSNR", "half_maps"),
    "mask": ("Mask", "half_maps"),
    "decorr": ("Decorrelation analysis", "band_limited"),
    "mtf": ("MTF", "edge_chart"),
    "local": ("Local resolution", "half_maps"),
    "blink": ("Blink PSF", "blinking"),
    "tomo": ("Tomography split", "sinogram"),
    "dfsc": ("Directional FSC", "half_maps"),
    "loc": ("Localisation FRC", "localizations"),
}


def default_widget(paths) -> str:
    """The widget for the files ``paths``: localisation tables (:func:`~..core.localization.is_localization_table`)
    → the localisation FRC, one image → decorrelation, otherwise the FSC (pairs, samples)."""
    if paths and all(is_localization_table(path) for path in paths):
        return "loc"
    return "decorr" if len(paths) == 1 else "fsc"


def _checked_paths(paths) -> list[Path]:
    """``paths`` as Paths, checked before napari and Qt start (a bad file could abort Qt).

    Every file must exist; an MRC, TIFF or NPY file is read through :mod:`..io`'s readers (memory-mapped where
    it can be) and must hold a non-empty 2-D or 3-D real image (colour samples aside), not booleans.

    Raises
    ------
    ValueError
        Naming the first bad file and what is wrong with it.
    """
    checked = [Path(path) for path in paths]
    for path in checked:
        if not path.is_file():
            raise ValueError(f"{path}: {'is a directory' if path.is_dir() else 'no such file'}")
        if path.suffix.lower() in io.MRC_SUFFIXES + io.TIFF_SUFFIXES + (".npy",):
            _check_viewable(io.map_image(path), path)
    return checked


def check_display(environ=None, platform: str | None = None) -> None:
    """Refuse to open a window on Linux without a display (Qt would abort the process): neither ``DISPLAY`` nor
    ``WAYLAND_DISPLAY`` set, nor ``QT_QPA_PLATFORM``.

    Parameters
    ----------
    environ : mapping, optional
        The environment (default: ``os.environ``).
    platform : str, optional
        ``sys.platform`` (its default): a Mac or Windows always has its window system.

    Raises
    ------
    ValueError
        Naming the ways out: X forwarding, a virtual display, the commands that write files.
    """
    environ, platform = os.environ if environ is None else environ, platform or sys.platform
    if not platform.startswith("linux") or any(environ.get(name) for name in
                                                ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")):
        return
    raise ValueError("view opens a window and there is no display (DISPLAY and WAYLAND_DISPLAY are not set): "
                     "connect with X forwarding (ssh -X), run it under a virtual display (xvfb-run -a "
                     "napari-resolution view ...), or measure without a window with the commands that write "
                     "PNG and JSON (e.g. napari-resolution fsc HALF1 HALF2 --plot fsc.png --json fsc.json)")


def _check_viewable(image: io.LoadedImage, path: Path) -> None:
    """ValueError naming ``path`` unless ``image`` is a non-empty 2-D or 3-D real image (RGB samples aside)."""
    data = image.data
    rank = data.ndim - image.axes.endswith("S")
    if data.size == 0:
        raise ValueError(f"{path}: is empty (shape {data.shape})")
    try:
        working_dtype(data.dtype)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
    if rank not in (2, 3):
        raise ValueError(f"{path}: is {rank}-D (shape {data.shape}); view opens 2-D images and 3-D maps or stacks")


def _open_file(viewer, path: Path) -> None:
    """Open ``path`` with this plugin's readers when they read it (the image reader's :data:`.reader.SUFFIXES`,
    localisation tables), else with napari's choice."""
    ours = path.name.lower().endswith(READER_SUFFIXES) or is_localization_table(path)
    viewer.open(str(path), plugin=PLUGIN if ours else None)


def open_viewer(paths=(), widget: str | None = None, *, show: bool = True):
    """A napari viewer with ``paths`` opened (a sample without any) and the ``widget`` docked.

    Parameters
    ----------
    paths : sequence of str or Path
        Files to open as layers (MRC, TIFF, localisation tables as points, or anything napari reads).
    widget : str, optional
        One of :data:`WIDGETS` (default: :func:`default_widget`); "local" with one file starts in single-map mode.
    show : bool
        Show the window (False for tests).

    Returns
    -------
    napari.Viewer

    Raises
    ------
    ValueError
        An unknown widget, a missing or bad file (see :func:`_checked_paths`), or no display
        (:func:`check_display`), before napari is imported.
    ImportError
        napari is not installed (``pip install "napari-resolution[napari]"``).
    """
    paths = _checked_paths(paths)
    widget = widget or default_widget(paths)
    if widget not in WIDGETS:
        raise ValueError(f"widget must be one of {', '.join(WIDGETS)}, got {widget!r}")
    check_display()
    try:
        import napari
    except ImportError:
        raise ImportError('napari is not installed: pip install "napari-resolution[napari]"') from None
    display_name, sample = WIDGETS[widget]
    viewer = napari.Viewer(show=show)
    for path in paths:
        _open_file(viewer, path)
    if not paths:
        viewer.open_sample(PLUGIN, sample)
    viewer.window.add_plugin_dock_widget(PLUGIN, display_name)  # one map: the local widget starts in single-map
    return viewer

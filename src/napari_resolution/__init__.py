"""napari-resolution: how sharp is your data?

The public API is Qt-free: importing this package never imports Qt or napari.
Its names are imported on first use (``from napari_resolution import fsc``
imports the Fourier correlation, not every estimator), so that importing the
package, or starting the command line, stays fast.

>>> from napari_resolution import fourier_correlation
>>> from napari_resolution.core.simulate import phantom_pair
>>> pair = phantom_pair((64, 64, 64), sigma=2.0, noise=0.5, seed=0)
>>> result = fourier_correlation(pair.half1, pair.half2)
>>> result.status
'resolved'
"""

from importlib import import_module

__version__ = "0.1.0"

#: Public name -> the module (relative to this package) that defines it.
_SOURCES = {
    **dict.fromkeys(("BlinkChannelsResult", "BlinkPSFResult", "blink_psf"), ".core.blink"),
    **dict.fromkeys(("CorrelationResult", "fourier_correlation", "frc", "fsc"), ".core.correlation"),
    "ctf": ".core.ctf",
    **dict.fromkeys(("DirectionalFSCResult", "directional_fsc"), ".core.directional"),
    **dict.fromkeys(("DecorrelationResult", "DecorrelationStackResult", "decorrelation"), ".core.decorrelation"),
    **dict.fromkeys(("LocalResolutionResult", "local_fsc"), ".core.local"),
    **dict.fromkeys(("LocalizationResult", "localization_frc", "read_localizations"), ".core.localization"),
    **dict.fromkeys(("make_mask", "mask_from_half_maps", "raised_cosine_mask", "soft_mask_outside_map",
                     "soften_mask", "spherical_mask"), ".core.masks"),
    **dict.fromkeys(("EdgeMTFResult", "MTFResult", "PointMTFResult", "mtf_edge", "mtf_point"), ".core.mtf"),
    **dict.fromkeys(("PhaseRandomizedResult", "phase_randomized_fsc", "randomize_phases"), ".core.randomization"),
    "STATUSES": ".core.results",
    **dict.fromkeys(("particle_half_maps", "phantom_pair"), ".core.simulate"),
    **dict.fromkeys(("SingleMapResult", "local_resolution"), ".core.single_map"),
    "single_image_frc": ".core.single_image",
    **dict.fromkeys(("CRITERIA", "threshold_curve"), ".core.thresholds"),
    **dict.fromkeys(("TomographyResult", "detect_tilt_axis", "split_dataset", "tomography_frc"), ".core.tomography"),
}

__all__ = sorted(_SOURCES)


def __getattr__(name: str):
    """A public name, imported from its core module on first use (and kept here after that).

    Raises
    ------
    AttributeError
        ``name`` is not a public name of the package.
    """
    if name not in _SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(_SOURCES[name], __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's attributes and every public name, imported or not."""
    return sorted({*globals(), *__all__})

"""napari-resolution: how sharp is your data?

The public API is Qt-free: importing this package never imports Qt or napari.

>>> from napari_resolution import fourier_correlation
>>> from napari_resolution.core.simulate import phantom_pair
>>> pair = phantom_pair((64, 64, 64), sigma=2.0, noise=0.5, seed=0)
>>> result = fourier_correlation(pair.half1, pair.half2)
>>> result.status
'resolved'
"""

from .core.blink import BlinkPSFResult, blink_psf
from .core.correlation import CorrelationResult, fourier_correlation, frc, fsc
from .core.decorrelation import DecorrelationResult, DecorrelationStackResult, decorrelation
from .core.local import LocalResolutionResult, local_fsc
from .core.masks import (
    make_mask,
    mask_from_half_maps,
    raised_cosine_mask,
    soft_mask_outside_map,
    soften_mask,
    spherical_mask,
)
from .core.mtf import EdgeMTFResult, MTFResult, PointMTFResult, mtf_edge, mtf_point
from .core.randomization import PhaseRandomizedResult, phase_randomized_fsc, randomize_phases
from .core.results import STATUSES
from .core.simulate import phantom_pair
from .core.single_map import SingleMapResult, local_resolution
from .core.thresholds import CRITERIA, threshold_curve
from .core.tomography import TomographyResult, split_dataset, tomography_frc

__version__ = "0.1.0"

__all__ = [
    "BlinkPSFResult",
    "CRITERIA",
    "CorrelationResult",
    "DecorrelationResult",
    "DecorrelationStackResult",
    "EdgeMTFResult",
    "LocalResolutionResult",
    "MTFResult",
    "PhaseRandomizedResult",
    "PointMTFResult",
    "STATUSES",
    "SingleMapResult",
    "TomographyResult",
    "blink_psf",
    "decorrelation",
    "fourier_correlation",
    "frc",
    "fsc",
    "local_fsc",
    "local_resolution",
    "make_mask",
    "mask_from_half_maps",
    "mtf_edge",
    "mtf_point",
    "phantom_pair",
    "phase_randomized_fsc",
    "raised_cosine_mask",
    "randomize_phases",
    "soft_mask_outside_map",
    "soften_mask",
    "spherical_mask",
    "split_dataset",
    "threshold_curve",
    "tomography_frc",
]

"""Sample data with a known answer (from core.simulate), for trying every widget.

Each layer has its pixel size as ``scale`` and, for the widgets, as
``metadata["pixel_size"]`` with its unit in ``metadata["unit"]``; the answer is
``metadata["known_answer"]`` (and ``known_resolution`` / ``known_criterion``).
No layer sets napari ``units``: a plain layer the user adds next to a sample
(in pixels) would make napari warn of inconsistent units.
"""

from __future__ import annotations

import numpy as np

from ..core.simulate import (
    band_limited_noise,
    bead_field,
    blinking_movie,
    edge_chart,
    gaussian_mtf_answer,
    phantom_pair,
    tomography_sinogram,
)

__all__ = ["band_limited_image", "bead_image", "blinking_movie_sample", "cryo_em_half_maps", "simulated_half_maps",
           "simulated_image_pair", "simulated_localizations", "simulated_sinogram",
           "slanted_edge_chart"]

#: Edge directions of the slanted-edge chart (degrees), clear of 0, 45 and 90.
CHART_ANGLES = (5.0, 30.0, 80.0, 95.0)
#: The simulated localisations: 5 µm of filaments labelled 15 nm wide, 10 nm precision, about 4 localisations
#: per emitter in consecutive frames (the table of tests/core/test_localization.py).
SMLM = {"field": 5000.0, "filaments": 40, "density": 200.0, "width": 15.0, "precision": 10.0, "repeats": 4.0,
        "frames": 5000}


def _layer(data, name: str, pixel_size: float, unit: str, resolution: float, criterion: str, answer: dict) -> tuple:
    """An image layer tuple with its pixel size as scale and the known answer in its metadata."""
    sizes = (pixel_size,) * data.ndim
    metadata = {"pixel_size": sizes, "unit": unit, "known_resolution": resolution, "known_criterion": criterion,
                "known_answer": answer}
    return data, {"name": name, "scale": sizes, "metadata": metadata}, "image"


def _pair_layers(shape, pixel_size: float, unit: str, names) -> list[tuple]:
    pair = phantom_pair(shape, sigma=2.0 * pixel_size, noise=0.5, pixel_size=pixel_size, seed=0,
                        dtype=np.float32)
    truth = pair.truth
    return [_layer(data, name, pixel_size, unit, truth.resolution, truth.criterion, truth.to_dict())
            for data, name in zip((pair.half1, pair.half2), names)]


def blinking_movie_sample() -> list[tuple]:
    """A blinking single-molecule movie, 3000 frames of 64² uint16 (100 nm pixels), with a known PSF and on-time.

    The PSF is a pixel-integrated Gaussian with σx = 150 nm, σy = 120 nm, its major axis at θ = 30° (from +x
    towards +y); about 20 of 1000 emitters are on per frame, each for 4 frames on average. ``known_answer``
    is the simulator's truth (:func:`~napari_resolution.core.simulate.blinking_movie`) without the positions.
    """
    pixel_size = 100.0
    simulated = blinking_movie((3000, 64, 64), sigma=(150.0, 120.0), theta=30.0, pixel_size=pixel_size,
                               n_emitters=1000, seed=0)
    answer = {key: value for key, value in simulated.truth.items() if key != "positions"}
    sizes = (1.0, pixel_size, pixel_size)
    metadata = {"pixel_size": sizes, "unit": "nm", "known_answer": answer}
    return [(simulated.movie, {"name": "blinking movie", "scale": sizes, "metadata": metadata}, "image")]


def simulated_half_maps() -> list[tuple]:
    """Two 128³ half-maps (1.1 Å voxels) with a known half-bit resolution in their metadata."""
    return _pair_layers((128, 128, 128), 1.1, "Å", ("half-map 1", "half-map 2"))


def simulated_image_pair() -> list[tuple]:
    """Two 512² images (10 nm pixels) with a known half-bit resolution in their metadata."""
    return _pair_layers((512, 512), 10.0, "nm", ("image 1", "image 2"))


def slanted_edge_chart() -> list[tuple]:
    """A 512² chart of four slanted edges (0.5 µm pixels) blurred by a Gaussian of σ = 1.5 px.

    ``known_answer`` has the MTF figures (:func:`~napari_resolution.core.simulate.gaussian_mtf_answer`),
    the edge ``angles`` and each edge's tile as ``rois`` (row0, col0, row1, col1), to draw the ROI in.
    """
    image, rois = edge_chart(CHART_ANGLES, 1.5, noise=0.01, seed=0)
    answer = {**gaussian_mtf_answer(1.5, 0.5), "angles": CHART_ANGLES, "rois": rois}
    return [_layer(image.astype(np.float32), "slanted edges", 0.5, "µm", answer["resolution_50"], "MTF50", answer)]


def bead_image() -> list[tuple]:
    """Nine sub-resolution beads in a 256² image (65 nm pixels), Gaussian PSF σ = 1.6 px (FWHM 245 nm).

    ``known_answer`` has the MTF figures and the FWHM (:func:`~napari_resolution.core.simulate.gaussian_mtf_answer`)
    and the sub-pixel bead ``centers`` (row, col).
    """
    grid = 64.0 * np.stack(np.meshgrid(np.arange(1, 4), np.arange(1, 4), indexing="ij"), axis=-1).reshape(-1, 2)
    centers = grid + np.random.default_rng(0).uniform(-0.5, 0.5, grid.shape)
    image = bead_field((256, 256), centers, 1.6, background=0.1, noise=0.01, seed=0)
    answer = {**gaussian_mtf_answer(1.6, 65.0), "centers": centers.tolist()}
    return [_layer(image.astype(np.float32), "beads", 65.0, "nm", answer["resolution_50"], "MTF50", answer)]


def band_limited_image() -> list[tuple]:
    """A 512² image (10 nm pixels) with no signal beyond 0.2 cycles/pixel, plus white noise (a fifth of the
    signal's standard deviation, as a camera adds): resolution 50 nm.

    ``known_answer`` has the ``cutoff`` (cycles/pixel), ``kc`` (the cut-off
    normalised to Nyquist, as decorrelation reports it) and the ``resolution``
    (``pixel_size / cutoff``, the period decorrelation analysis reports).
    """
    cutoff, pixel_size = 0.2, 10.0
    answer = {"cutoff": cutoff, "kc": 2 * cutoff, "resolution": pixel_size / cutoff}
    image = band_limited_noise((512, 512), cutoff, seed=0, dtype=np.float32)
    image += 0.2 * image.std() * np.random.default_rng(1).standard_normal(image.shape, dtype=np.float32)
    return [_layer(image, "band-limited", pixel_size, "nm", answer["resolution"], "cut-off", answer)]


def simulated_sinogram() -> list[tuple]:
    """A sinogram (detector, angles) of a 256-px Shepp–Logan head (50 nm pixels), 806 angles over [0, 180),
    Poisson noise at 100 photons per ray.

    The angles are ``metadata["theta"]`` (degrees), which the "Tomography split"
    widget reads. Each half of the split has 403 angles, enough for the 256-px
    field (pi/2 * 256 = 402). There is no analytic resolution to compare with
    (``known_answer`` describes the simulation): the measured one coarsens as the dose falls.
    """
    pixel_size, dose = 50.0, 100.0
    sim = tomography_sinogram(256, phantom="shepp-logan", dose=dose, seed=0)
    answer = {"phantom": "shepp-logan", "dose": dose, "angles": sim.theta.size, "layout": "(detector, angles)"}
    metadata = {"pixel_size": (pixel_size, pixel_size), "unit": "nm", "theta": sim.theta.tolist(), "angle_axis": 1,
                "known_answer": answer}
    return [(sim.sinogram, {"name": "sinogram", "scale": (pixel_size, pixel_size), "metadata": metadata}, "image")]


def cryo_em_half_maps() -> list[tuple]:
    """Two 48³ half-maps (2.5 Å voxels) reconstructed from 2000 noisy, CTF-modulated particle images, and the truth.

    The particles (:func:`~napari_resolution.core.simulate.particle_half_maps`) are projections of a model of
    Gaussian atoms at uniform orientations, defocus 1-2 µm, B-factor 150 Å², SNR 0.05, split into two halves
    reconstructed with a Wiener filter. ``known_resolution`` is where the expected FSC of the halves crosses
    0.143 (compare with the FSC without an edge taper, apodization 0); ``known_answer`` has the expected curve
    and the parameters. The third layer is the volume the particles were projected from.
    """
    from ..core.particles import model_volume
    from ..core.simulate import particle_half_maps

    pixel_size = 2.5
    volume = model_volume(48, seed=0)
    half1, half2, info = particle_half_maps(volume, 2000, pixel_size=pixel_size, snr=0.05,
                                            defocus_range=(10000.0, 20000.0), bfactor=150.0, seed=0)
    answer = {"expected_fsc": info["expected_fsc"], "expected_status": info["expected_status"],
              "parameters": info["parameters"]}
    resolution = info["expected_resolution"]
    return [_layer(data, name, pixel_size, "Å", resolution, "0.143", answer)
            for data, name in ((half1, "cryo-EM half-map 1"), (half2, "cryo-EM half-map 2"),
                               (volume, "cryo-EM truth"))]


def simulated_localizations() -> list[tuple]:
    """About 150,000 localisations (nm) of filaments, as a 2-D Points layer (y, x) with the frame and the
    precision of each as features.

    The table is :func:`~napari_resolution.core.simulate.smlm_localizations` with :data:`SMLM` (structure 0,
    seed 0). ``known_resolution`` is the 0.143 FRC of two independent acquisitions of the same filaments
    (:func:`~napari_resolution.core.simulate.smlm_reference_table`) rendered at 5 nm (half the precision, the
    widget's default): what a split that keeps each emitter in one half reads (the time-block split within 15 %;
    a random split reads finer, and warns).
    """
    from ..core.localization import localization_frc
    from ..core.simulate import smlm_localizations, smlm_reference_table

    table = smlm_localizations(**SMLM, structure_seed=0, seed=0).table
    reference = localization_frc(smlm_reference_table(0, **SMLM), split="blocks", n_blocks=2)
    answer = {**SMLM, "structure_seed": 0, "seed": 0, "pixel_size": reference.parameters["pixel_size"],
              "reference": "two independent acquisitions (smlm_reference_table), blocks split with 2 blocks"}
    metadata = {"unit": "nm", "known_resolution": reference.resolution, "known_criterion": reference.criterion,
                "known_answer": answer}
    style = {"size": 6.0, "border_width": 0.0, "face_color": "#ffd54f", "border_color": "#ffd54f", "opacity": 0.3}
    return [(table[:, [1, 0]], {"name": "localisations", "features": {"frame": table[:, 2], "precision": table[:, 3]},
                                "metadata": metadata, **style}, "points")]

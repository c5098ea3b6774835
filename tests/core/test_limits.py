"""Limits: every entry point refuses, before allocating, what would not fit in memory, and refuses or warns
absurd values (issue #24, items 4 and 7): one ValueError naming the argument and a size, quickly."""

import re
import time
import warnings

import numpy as np
import pytest

from napari_resolution.core import backend, simulate
from napari_resolution.core.blink import blink_psf
from napari_resolution.core.correlation import fourier_correlation
from napari_resolution.core.decorrelation import decorrelation
from napari_resolution.core.local import local_fsc
from napari_resolution.core.masks import make_mask, raised_cosine_mask, soften_mask, spherical_mask
from napari_resolution.core.mtf import mtf_edge, mtf_point
from napari_resolution.core.randomization import phase_randomized_fsc, randomize_phases
from napari_resolution.core.single_map import local_resolution
from napari_resolution.core.tomography import filtered_back_projection, tomography_frc

#: The memory the tests pretend is available: what the small calls below need fits, the huge ones do not.
AVAILABLE = 64 * 2**20
#: A size in a message, as :func:`~napari_resolution.core.backend.format_bytes` writes it.
SIZE = r"needs ([\d.e+]+ (B|KiB|MiB|GiB|TiB|PiB|EiB)|more than 1e308 bytes), more than the 64 MiB of memory available"

_RNG = np.random.default_rng(0)
_IMAGE = _RNG.standard_normal((64, 64))
_STACK = _RNG.standard_normal((3, 64, 64))
_PAIR = simulate.phantom_pair((128, 128, 128), sigma=1.5, noise=0.4, seed=1, dtype=np.float32)
_MOVIE = simulate.blinking_movie((40, 64, 64), n_emitters=300, on_probability=0.05, seed=2).movie
_SINOGRAM = _RNG.random((4096, 16))
_ANGLES = np.linspace(0.0, 180.0, 16, endpoint=False)
_SPOT = simulate.gaussian_spot((1024, 1024), (512, 512), 2.0)


@pytest.fixture
def little_memory(monkeypatch):
    """Pretend 64 MiB of memory are available, whatever the machine."""
    monkeypatch.setattr(backend, "available_memory", lambda: AVAILABLE)


#: (id, call, the message's start): each call needs far more than 64 MiB.
TOO_LARGE = [
    ("phantom_pair", lambda: simulate.phantom_pair((100000,) * 3), r"shape \(100000, 100000, 100000\)"),
    ("band_limited_noise", lambda: simulate.band_limited_noise((100000, 100000), 0.2), r"shape \(100000, 100000\)"),
    ("slanted_edge", lambda: simulate.slanted_edge((100000, 100000), 5.0, 1.0), r"shape \(100000, 100000\)"),
    ("gaussian_spot", lambda: simulate.gaussian_spot((100000, 100000), (5, 5), 1.0), r"shape \(100000, 100000\)"),
    ("bead_field of many beads", lambda: simulate.bead_field((64, 64), np.zeros((10**5, 2)), 1.0),
     r"centers \(100000 spots on a \(64, 64\) image\)"),
    ("edge_chart", lambda: simulate.edge_chart(tile=100000), r"tile \(100000 pixels, 4 edges\)"),
    ("two_region_pair", lambda: simulate.two_region_pair((100000, 100000)), r"shape \(100000, 100000\)"),
    ("blinking_movie of many frames", lambda: simulate.blinking_movie((10**6, 512, 512), n_emitters=10),
     r"shape \(1000000, 512, 512\)"),
    ("blinking_movie of a huge PSF", lambda: simulate.blinking_movie((10, 64, 64), sigma=1e4),
     r"sigma and pixel_size \(1000 emitters, PSFs of 8e\+04 x 8e\+04 pixels"),
    ("blinking_movie of a PSF beyond the float range", lambda: simulate.blinking_movie((10, 64, 64), sigma=1e300,
                                                                                       pixel_size=1e-30),
     r"sigma and pixel_size \(1000 emitters, PSFs of inf x inf pixels"),
    ("blinking_movie of many emitters", lambda: simulate.blinking_movie((10, 64, 64), n_emitters=10**9),
     r"n_emitters \(1000000000 emitters"),
    ("tomography_sinogram of a huge size", lambda: simulate.tomography_sinogram(10**9), r"size 1000000000"),
    ("tomography_sinogram of many rows", lambda: simulate.tomography_sinogram(64, rows=10**8),
     r"size 64 \(202 angles, 100000000 rows\)"),
    ("spherical_mask", lambda: spherical_mask((100000,) * 3), r"shape \(100000, 100000, 100000\)"),
    ("raised_cosine_mask", lambda: raised_cosine_mask((100000, 100000), 3.0, 5.0), r"shape \(100000, 100000\)"),
    ("decorrelation of a slice repeated", lambda: decorrelation(_STACK, slices=[0] * 10**6),
     r"image \(1000000 slices of 64 x 64, each 22 curves of 50 radii\)"),
    ("local_fsc at step 1", lambda: local_fsc(_PAIR.half1, _PAIR.half2, box=16, step=1),
     r"step \(1 px: 1442897 boxes of 16 px in a \(128, 128, 128\) map\)"),
    ("local_fsc of large maps in memory", lambda: local_fsc(
        *[np.broadcast_to(h[:1], (1024, 128, 128)) for h in (_PAIR.half1, _PAIR.half2)], box=16),
     r"half1 and half2 \(\(1024, 128, 128\) voxels: the map is made in memory\)"),
    ("blink_psf with many lags", lambda: blink_psf(np.broadcast_to(_MOVIE[:1, :1, :1], (201, 512, 512)), lags=10**9,
                                                   chunk_frames=2),
     r"lags \(200 frames of 9045 low frequencies\)"),
    ("blink_psf with many frames per chunk", lambda: blink_psf(np.broadcast_to(_MOVIE[:1], (10**6, 64, 64)),
                                                               chunk_frames=10**9),
     r"chunk_frames \(1000000 frames at a time, 64 x 64 pixels each\)"),
    ("blink_psf with a moving window of the whole movie", lambda: blink_psf(
        np.broadcast_to(_MOVIE[:1], (10**6, 64, 64)), background=("moving", 10**9)),
     r"background \(1000000 frames at a time, a moving window of 1000000"),
    ("blink_psf of huge frames", lambda: blink_psf(np.broadcast_to(_MOVIE[:1, :1, :1], (16, 10**5, 10**5))),
     r"movie \(16 frames of 100000 x 100000 pixels\)"),
    ("blink_psf with a large crop", lambda: blink_psf(np.broadcast_to(_MOVIE[:, :1, :1], (40, 512, 512)),
                                                      crop=511, chunk_frames=2, lags=4),
     r"crop \(511 px: frames zero-padded to 768 x 768\)"),
    ("tomography_frc of a wide detector", lambda: tomography_frc(_SINOGRAM, _ANGLES),
     r"sinogram \(1 slices of 8 angles x 4096 detector pixels: reconstructions of 1 x 4096 x 4096\)"),
    ("filtered_back_projection of a wide detector", lambda: filtered_back_projection(_SINOGRAM.T[None], _ANGLES),
     r"stack \(1 slices of 16 angles x 4096 detector pixels"),
    ("mtf_edge of a large image", lambda: mtf_edge(_SPOT), r"image \(1024 x 1024 pixels analysed\)"),
    ("mtf_point of a large box", lambda: mtf_point(_SPOT, box=1024),
     r"box \(1024 px, transformed zero-padded to 4096 x 4096\)"),
    ("local_resolution of a large map", lambda: local_resolution(np.broadcast_to(_PAIR.half1[:1], (512, 128, 128)),
                                                                 noise=1.0),
     r"half1 \(\(512, 128, 128\) voxels, 20 bands on \d+ grids\)"),
    ("fourier_correlation of large maps", lambda: fourier_correlation(
        *[np.broadcast_to(h[:1], (2048, 128, 128)) for h in (_PAIR.half1, _PAIR.half2)]),
     r"half1 and half2 \(\(2048, 128, 128\) voxels, computed in float32\)"),
    ("phase_randomized_fsc of large maps", lambda: phase_randomized_fsc(
        *[np.broadcast_to(h[:1], (2048, 128, 128)) for h in (_PAIR.half1, _PAIR.half2)],
        np.broadcast_to(np.float32(1), (2048, 128, 128))),
     r"half1 and half2 \(\(2048, 128, 128\) voxels"),
    ("randomize_phases of a large map", lambda: randomize_phases(np.broadcast_to(_PAIR.half1[:1], (2048, 128, 128)),
                                                                 0.2),
     r"volume \(\(2048, 128, 128\) voxels"),
    ("make_mask of a large map", lambda: make_mask(np.broadcast_to(_PAIR.half1[:1], (2048, 128, 128))),
     r"volume \(\(2048, 128, 128\) voxels\)"),
]


@pytest.mark.parametrize(("call", "start"), [pytest.param(*row[1:], id=row[0]) for row in TOO_LARGE])
def test_what_would_not_fit_in_memory_is_refused_at_once_by_argument_and_size(call, start, little_memory):
    began = time.perf_counter()
    with pytest.raises(ValueError) as refused:
        call()
    assert re.match(f"{start}.* {SIZE}", str(refused.value)), str(refused.value)
    assert time.perf_counter() - began < 5.0


def test_the_same_calls_at_a_modest_size_run(little_memory):
    """The guard refuses what would not fit, nothing else."""
    assert simulate.phantom_pair((32, 32, 32), seed=0).half1.shape == (32, 32, 32)
    assert spherical_mask((64, 64, 64), soft_edge=3).shape == (64, 64, 64)
    assert simulate.tomography_sinogram(32, seed=0).sinogram.shape == (32, 102)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # e.g. a box small next to the global resolution
        assert local_fsc(_PAIR.half1, _PAIR.half2, box=16, step=8).status == "resolved"


def test_format_bytes_and_an_estimate_that_overflowed(monkeypatch):
    assert [backend.format_bytes(n) for n in (512, 1536, 3 * 2**30, 2**70)] == ["512 B", "1.5 KiB", "3 GiB",
                                                                                 "1.02e+03 EiB"]
    assert backend.format_bytes(10**400) == backend.format_bytes(float("inf")) == "more than 1e308 bytes"
    monkeypatch.setattr(backend, "available_memory", lambda: 10**12)
    with pytest.raises(ValueError, match="^what needs more than 1e308 bytes"):
        backend.check_allocation(float("nan"), "what")
    backend.check_allocation(10**12, "what")  # exactly what is available fits


# ----------------------------------------------------------------------------- counts beyond what the data supports
def test_decorrelation_radii_and_filters_are_limited_by_the_frequency_sampling():
    with pytest.raises(ValueError, match=r"n_radii must be at most 50 for a 64 x 64 plane \(32 Fourier rings"):
        decorrelation(_IMAGE, n_radii=100_000_000)
    with pytest.raises(ValueError, match=r"n_radii must be at most 128 for a 256 x 256 plane"):
        decorrelation(_RNG.standard_normal((256, 256)), n_radii=129)
    with pytest.raises(ValueError, match=r"n_highpass must be at most n_radii \(50\)"):
        decorrelation(_IMAGE, n_highpass=1_000_000)


def test_mtf_oversampling_is_limited():
    with pytest.raises(ValueError, match=r"oversample must be an integer in \[1, 16\], got 1000000000"):
        mtf_edge(simulate.slanted_edge((64, 64), 5.0, 1.5), oversample=10**9)


def test_more_bands_than_fourier_shells_are_refused():
    with pytest.raises(ValueError, match=r"resolutions must hold at most 32 periods for a map of \(64, 64\)"):
        local_resolution(_IMAGE, noise=1.0, resolutions=np.linspace(2.5, 60, 33))


# ----------------------------------------------------------------------------- absurd values
@pytest.mark.parametrize(("name", "value"), [("extend", 1e9), ("soft_edge", 1e9), ("soft_edge", 65.0)])
def test_a_mask_extension_or_edge_longer_than_the_box_is_refused(name, value):
    volume = simulate.phantom_pair((16, 64, 48), seed=3).half1
    shown = re.escape(f"{value:g}")
    with pytest.raises(ValueError, match=rf"{name} \({shown}\) is larger than the box \(\(16, 64, 48\) voxels of "
                                         r"\(2.0, 1.0, 1.0\): 64 along its longest axis\)"):
        make_mask(volume, pixel_size=(2.0, 1.0, 1.0), **{name: value})
    make_mask(volume, pixel_size=(2.0, 1.0, 1.0), extend=2.0, soft_edge=60.0)  # within the box
    with pytest.raises(ValueError, match=r"width \(100\) is larger than the box"):
        soften_mask(volume > 1, 100.0)


def test_a_step_that_leaves_too_few_boxes_is_refused_with_the_largest_that_does_not():
    half1, half2, _ = simulate.two_region_pair((64, 64, 64), seed=4)
    with pytest.raises(ValueError, match=r"step \(1000000 px\) leaves 8 boxes of 16 px in a \(64, 64, 64\) map: its "
                                         r"statistics need at least 20 .*; use step <= 47"):
        local_fsc(half1, half2, box=16, step=1_000_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert local_fsc(half1, half2, box=16, step=47).parameters["n_boxes"] == 27  # 3 per axis


def test_a_step_longer_than_the_box_warns_of_the_gaps():
    half1, half2, _ = simulate.two_region_pair((96, 96), seed=5)
    with pytest.warns(RuntimeWarning, match=r"step \(20 px\) is longer than the box \(16 px\): the boxes leave gaps"):
        result = local_fsc(half1, half2, box=16, step=20)
    assert any("leave gaps" in note for note in result.warnings)


def test_a_movie_of_fewer_frames_than_the_jackknife_needs_is_refused():
    with pytest.raises(ValueError, match=r"movie must have at least 16 frames \(the PSF's errors come from 8 blocks"):
        blink_psf(_MOVIE[:2])
    with pytest.raises(ValueError, match=r"movie\[1\] must have at least 16 frames"):
        blink_psf([_MOVIE, _MOVIE[:15]])

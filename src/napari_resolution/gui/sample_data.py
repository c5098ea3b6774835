"""Sample data with a known answer (from core.simulate), for trying every widget."""

from __future__ import annotations

import numpy as np

from ..core.simulate import phantom_pair

__all__ = ["simulated_half_maps", "simulated_image_pair"]


def _pair_layers(shape, pixel_size: float, unit: str, names) -> list[tuple]:
    pair = phantom_pair(shape, sigma=2.0 * pixel_size, noise=0.5, pixel_size=pixel_size, seed=0,
                        dtype=np.float32)
    truth = pair.truth
    metadata = {
        "pixel_size": (pixel_size,) * len(shape), "unit": unit,
        "known_resolution": truth.resolution, "known_criterion": truth.criterion,
        "known_answer": truth.to_dict(),
    }
    units = ("angstrom" if unit == "Å" else "nanometer",) * len(shape)
    return [
        (data, {"name": name, "scale": (pixel_size,) * len(shape), "units": units, "metadata": dict(metadata)},
         "image")
        for data, name in zip((pair.half1, pair.half2), names)
    ]


def simulated_half_maps() -> list[tuple]:
    """Two 128³ half-maps (1.1 Å voxels) with a known half-bit resolution in their metadata."""
    return _pair_layers((128, 128, 128), 1.1, "Å", ("half-map 1", "half-map 2"))


def simulated_image_pair() -> list[tuple]:
    """Two 512² images (10 nm pixels) with a known half-bit resolution in their metadata."""
    return _pair_layers((512, 512), 10.0, "nm", ("image 1", "image 2"))

"""Accuracy of the FRC/FSC default edge taper (taper="auto") against the simulator's analytic answer.

Periodic phantoms (three seeds each) and a crop of a larger field (edges that do not wrap), for
blur sigma from 1 to 16 px in 2-D (256^2) and 3-D (128^3): the relative error of the default
reading, how many axes were tapered, whether a warning came, and the crop read without any taper
(the edge artefact the taper exists for). Run: ``python benchmarks/taper_accuracy.py``.
"""

from __future__ import annotations

import warnings

from napari_resolution import fourier_correlation
from napari_resolution.core.simulate import phantom_pair

SIGMAS = (1, 2, 4, 8, 12, 16)


def error(result, truth) -> float:
    """Relative error of a reading, in percent."""
    return 100 * (result.resolution / truth.resolution - 1)


def periodic_errors(shape, sigma) -> tuple[list, list]:
    """Errors and tapered-axis counts of the default reading for three periodic phantoms."""
    errors, tapered = [], []
    for seed in range(3):
        pair = phantom_pair(shape, sigma=sigma, noise=0.5, seed=seed)
        result = fourier_correlation(pair.half1, pair.half2)
        errors.append(round(error(result, pair.truth), 1))
        tapered.append(sum(result.parameters["tapered_axes"]))
    return errors, tapered


def crop_line(shape, sigma) -> str:
    """The default and the untapered reading of a crop of a field twice as large."""
    big = tuple(2 * n for n in shape)
    pair = phantom_pair(big, sigma=sigma, noise=0.5, seed=5)
    window = tuple(slice(n // 3, n // 3 + m) for n, m in zip(big, shape))
    a, b = pair.half1[window], pair.half2[window]
    truth = phantom_pair(shape, sigma=sigma, noise=0.5, seed=5).truth
    default = fourier_correlation(a, b)
    untapered = fourier_correlation(a, b, apodization=0)
    return (f"crop: default {error(default, truth):+.1f} % (tapered axes {sum(default.parameters['tapered_axes'])}, "
            f"warning {bool(default.warnings)}), no taper {error(untapered, truth):+.1f} %")


def main() -> None:
    """Print one line per shape and blur."""
    warnings.simplefilter("ignore", RuntimeWarning)  # counted in the output instead
    for shape in ((256, 256), (128, 128, 128)):
        for sigma in SIGMAS:
            errors, tapered = periodic_errors(shape, sigma)
            print(f"{shape} sigma {sigma:>2}: periodic errors % {errors} tapered axes {tapered} | "
                  f"{crop_line(shape, sigma)}")


if __name__ == "__main__":
    main()

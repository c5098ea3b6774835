"""Accuracy of the localisation FRC's splits against two independent acquisitions of the same structure.

For filaments labelled at several widths and emitters localised 2, 4 or 8 times on average (bursts of
consecutive frames), three structures each (5 µm field, 10 nm precision, 5 nm pixels): the blocks split, the
random split and the Q-corrected random split of one acquisition, each as the ratio to the reference (the FRC
of two independent acquisitions of the structure, each with half the emitters); and the Q the correction
estimates (the truth: 1 + Poisson(r - 1) localisations per emitter give E n(n-1) / E n = r - 1/r... see below).

Truth of Q: with n = 1 + Poisson(r - 1), E n(n - 1) / E n = (r - 1)(r + 1) / r.

Run: ``python benchmarks/localization_accuracy.py`` (a minute or two).
"""

from __future__ import annotations

import warnings

import numpy as np

from napari_resolution import localization_frc
from napari_resolution.core.simulate import smlm_localizations, smlm_reference_table

CASES = ((8.0, 4.0), (15.0, 2.0), (15.0, 4.0), (15.0, 8.0), (25.0, 4.0))
BASE = {"field": 5000.0, "filaments": 40, "density": 200.0, "precision": 10.0, "frames": 5000}


def reference(structure: int, width: float, repeats: float) -> float:
    """The FRC of two independent acquisitions, each with half the emitters (two time blocks)."""
    table = smlm_reference_table(structure, (1000 + structure, 2000 + structure), **BASE, width=width,
                                 repeats=repeats)
    return localization_frc(table, pixel_size=5.0, split="blocks", n_blocks=2).resolution


def main() -> None:
    print("| label width (nm) | localisations per emitter | reference (nm) | blocks | random | Q-corrected random "
          "| Q (truth) |")
    print("|---|---|---|---|---|---|---|")
    for width, repeats in CASES:
        rows = []
        for structure in range(3):
            table = smlm_localizations(**BASE, width=width, repeats=repeats, structure_seed=structure,
                                       seed=structure).table
            truth = reference(structure, width, repeats)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                blocks = localization_frc(table, pixel_size=5.0).resolution
                random = localization_frc(table, pixel_size=5.0, split="random", seed=0).resolution
                corrected = localization_frc(table, pixel_size=5.0, split="random", seed=0, correct_repeats=True)
            rows.append((truth, blocks / truth, random / truth, corrected.resolution / truth,
                         corrected.parameters["repeats"]["q"]))
        rows = np.array(rows)
        cells = [f"{np.mean(rows[:, k]):.2f} ({np.min(rows[:, k]):.2f}–{np.max(rows[:, k]):.2f})" for k in (1, 2, 3)]
        q_truth = (repeats - 1) * (repeats + 1) / repeats
        print(f"| {width:g} | {repeats:g} | {np.mean(rows[:, 0]):.0f} | {' | '.join(cells)} | "
              f"{np.mean(rows[:, 4]):.2f} ({q_truth:.2f}) |")


if __name__ == "__main__":
    main()

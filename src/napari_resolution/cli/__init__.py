"""Command line: ``napari-resolution <estimator> ...``.

The package: :mod:`.main` (the entry point and the parser), :mod:`.options`
(the shared option builders and value types), :mod:`.jobs` (what the
subcommands and every input of ``batch`` run, and the report of a result), one
module per estimator or tool registering its subcommand (:mod:`.correlation`
for ``fsc``/``frc``/``ssnr``, :mod:`.mask`, :mod:`.decorrelation`, :mod:`.mtf`,
:mod:`.local_fsc`, :mod:`.local_res`, :mod:`.blink`, :mod:`.tomography`,
:mod:`.simulate`, :mod:`.demo`, :mod:`.view`), :mod:`.batch` and
:mod:`.cluster` (dask). An estimator is imported only when its subcommand runs.
"""

from .jobs import run_job
from .main import build_parser, main

__all__ = ["build_parser", "main", "run_job"]

"""``python -m napari_resolution.cli``: the same as ``napari-resolution``."""

import sys

from .main import main

sys.exit(main())

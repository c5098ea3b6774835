"""``python -m napari_resolution``: the same as ``napari-resolution``."""

import sys

from .cli.main import main

sys.exit(main())

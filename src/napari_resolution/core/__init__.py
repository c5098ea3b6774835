"""Qt-free science core: numpy/cupy arrays in, frozen result dataclasses out."""

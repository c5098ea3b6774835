"""Dock widgets, one module per estimator."""

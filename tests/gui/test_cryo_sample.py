"""The cryo-EM sample: half-maps from CTF-modulated particles, the truth, and their known answer."""

import numpy as np
import pytest

from napari_resolution import fsc
from napari_resolution.gui.sample_data import cryo_em_half_maps


@pytest.fixture(scope="module")
def layers():
    return cryo_em_half_maps()


def test_half_maps_read_as_their_known_answer(layers):
    (half1, kwargs, kind), (half2, _, _), (truth, truth_kwargs, _) = layers
    assert kind == "image" and half1.shape == half2.shape == truth.shape == (48, 48, 48)
    assert [kwargs["name"], truth_kwargs["name"]] == ["cryo-EM half-map 1", "cryo-EM truth"]
    metadata = kwargs["metadata"]
    assert kwargs["scale"] == (2.5,) * 3 and metadata["unit"] == "Å" and "units" not in kwargs
    assert metadata["known_criterion"] == "0.143"
    measured = fsc(half1, half2, pixel_size=2.5, threshold="0.143", apodization=0)
    assert measured.resolution == pytest.approx(metadata["known_resolution"], rel=0.05)
    curve = metadata["known_answer"]["expected_fsc"]
    np.testing.assert_allclose(measured.correlation, curve["correlation"], atol=0.1)


def test_opens_in_napari(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "cryo_em")
    assert [layer.name for layer in viewer.layers] == ["cryo-EM half-map 1", "cryo-EM half-map 2", "cryo-EM truth"]
    assert tuple(viewer.layers[0].scale) == (2.5, 2.5, 2.5)

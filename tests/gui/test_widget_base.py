"""What every estimator widget gets from the base: pickers, pixel size, GPU option, clean-up on close."""

import numpy as np
import pytest

from napari_resolution.gui.layers import add_or_update_image, layer_data

WIDGETS = ["Fourier shell correlation", "SSNR", "Mask", "Decorrelation analysis", "MTF"]
RNG = np.random.default_rng(0)


def _names(picker) -> list:
    return [name for name, _ in picker.choices] if picker.choices and isinstance(picker.choices[0], tuple) \
        else [layer.name for layer in picker.choices if layer is not None]


@pytest.mark.parametrize("name", WIDGETS)
def test_a_widget_docked_first_picks_layers_opened_later(make_napari_viewer, name):
    viewer = make_napari_viewer()
    _, widget = viewer.window.add_plugin_dock_widget("napari-resolution", name)
    first = widget.pickers()[0]
    assert first.value is None
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="one", scale=(2.5, 2.5))
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="two", scale=(2.5, 2.5))
    assert first.value is viewer.layers["one"]
    assert widget.pixel_size.value == "2.5"
    required = [p for spec, p in zip(widget.layer_inputs, widget.pickers()) if not spec.optional]
    assert len({id(p.value) for p in required}) == len(required)  # two required pickers get two layers


@pytest.mark.parametrize("name", WIDGETS)
def test_a_closed_widget_no_longer_follows_the_viewer(make_napari_viewer, name, qtbot):
    viewer = make_napari_viewer()
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="one")
    dock, widget = viewer.window.add_plugin_dock_widget("napari-resolution", name)
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="two")
    assert "two" in [layer.name for layer in widget.usable_layers(widget.layer_inputs[0])]
    assert "two" in _names(widget.pickers()[0])
    viewer.window.remove_dock_widget(dock)  # what napari's close button does
    qtbot.wait(10)
    viewer.add_image(RNG.random((64, 64)).astype(np.float32), name="three")
    assert "three" not in _names(widget.pickers()[0])  # the picker stopped following the layer list
    viewer.layers.remove("one")  # a closed widget must not fail on later viewer events
    viewer.theme = "light"
    assert [layer.name for layer in viewer.layers] == ["two", "three"]


def test_use_gpu_maps_to_the_core_device(make_napari_viewer, monkeypatch, notifications, wait_idle):
    import napari_resolution.gui.widgets.base as base
    from napari_resolution.gui.widgets.fourier import FourierCorrelationWidget

    viewer = make_napari_viewer()
    viewer.open_sample("napari-resolution", "image_pair")
    monkeypatch.setattr(base, "gpu_available", lambda: False)
    widget = FourierCorrelationWidget(viewer)
    widget.use_gpu.value = True  # ticked although disabled: ignored
    assert not widget.use_gpu.enabled and widget.parameters()["device"] is None
    monkeypatch.setattr(base, "gpu_available", lambda: True)  # pretend: the core then needs cupy
    widget = FourierCorrelationWidget(viewer)
    widget.use_gpu.value = True
    assert widget.parameters()["device"] == "gpu"
    if not __import__("napari_resolution.core.backend", fromlist=["x"]).gpu_available():
        widget.run()
        wait_idle(widget)
        assert any("cupy" in text for kind, text in notifications if kind == "error")


def test_add_or_update_image_takes_and_refreshes_placement(make_napari_viewer):
    viewer = make_napari_viewer()
    source = viewer.add_image(RNG.random((32, 32)), name="map", scale=(2.0, 2.0), translate=(5.0, 5.0))
    layer = add_or_update_image(viewer, np.zeros((16, 16)), source=source, estimator="local", metadata={"a": 1},
                                scale=(4.0, 4.0))
    assert tuple(layer.scale) == (4.0, 4.0) and tuple(layer.translate) == (5.0, 5.0)
    again = add_or_update_image(viewer, np.ones((32, 32)), source=source, estimator="local", metadata={"a": 2})
    assert again is layer and len(viewer.layers) == 2
    assert tuple(layer.scale) == (2.0, 2.0) and layer.metadata == {"a": 2} and layer.data.shape == (32, 32)
    assert source.data.shape == (32, 32)  # the source layer is untouched


def test_layer_data_stays_lazy(make_napari_viewer):
    da = pytest.importorskip("dask.array")
    viewer = make_napari_viewer()
    lazy = da.zeros((4, 32, 32), chunks=(1, 32, 32))
    layer = viewer.add_image(lazy, name="lazy")
    assert layer_data(layer) is lazy

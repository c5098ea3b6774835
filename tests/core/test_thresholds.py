import numpy as np
import pytest

from napari_resolution.core.thresholds import (
    CRITERIA,
    find_crossing,
    parse_threshold,
    threshold_curve,
)


@pytest.mark.parametrize(
    ("n", "half_bit", "one_bit"),
    [(8, 0.5772, 0.6768), (100, 0.3067, 0.4517), (10000, 0.1860, 0.3462)],
)
def test_threshold_check_values(n, half_bit, one_bit):
    assert threshold_curve("half-bit", [n])[0] == pytest.approx(half_bit, abs=5e-5)
    assert threshold_curve("one-bit", [n])[0] == pytest.approx(one_bit, abs=5e-5)


def test_threshold_asymptotes_and_fixed_values():
    big = [1e12]
    assert threshold_curve("half-bit", big)[0] == pytest.approx(0.2071 / 1.2071, abs=1e-5)
    assert threshold_curve("one-bit", big)[0] == pytest.approx(1 / 3, abs=1e-5)
    assert threshold_curve("0.143", [10, 1000]) == pytest.approx([1 / 7, 1 / 7])
    assert threshold_curve(0.3, [10]) == pytest.approx([0.3])
    assert threshold_curve("3-sigma", [200])[0] == pytest.approx(3 / np.sqrt(100))


def test_threshold_aliases_and_errors():
    assert parse_threshold("halfbit")[0] == "half-bit"
    assert parse_threshold("onebit")[0] == "one-bit"
    assert parse_threshold("1/7") == ("0.143", 1 / 7)
    assert set(CRITERIA) == {"half-bit", "one-bit", "0.143", "0.5", "3-sigma"}
    for bad in ("quarter-bit", 1.5, 0, None, True):
        with pytest.raises(ValueError, match="threshold"):
            parse_threshold(bad)


def test_crossing_is_linearly_interpolated():
    frequency = np.array([0.0, 0.1, 0.2, 0.3, 0.4])
    curve = np.array([1.0, 0.8, 0.4, 0.0, -0.1])
    crossing, status = find_crossing(frequency, curve, np.full(5, 0.2))
    assert status == "resolved"
    assert crossing == pytest.approx(0.25)


def test_crossing_first_not_last():
    frequency = np.linspace(0, 0.5, 6)
    curve = np.array([1.0, 0.9, 0.1, 0.5, 0.1, 0.1])
    first, _ = find_crossing(frequency, curve, np.full(6, 0.3))
    last, _ = find_crossing(frequency, curve, np.full(6, 0.3), rule="last-above")
    assert first == pytest.approx(0.1 + 0.1 * 0.6 / 0.8)
    assert last == pytest.approx(0.3)


def test_crossing_statuses():
    frequency = np.linspace(0, 0.5, 5)
    assert find_crossing(frequency, np.ones(5), np.full(5, 0.5)) == (None, "bound")
    assert find_crossing(frequency, np.r_[1.0, np.zeros(4)], np.full(5, 0.5)) == (None, "unresolved")
    assert find_crossing(frequency, np.ones(5), np.full(5, 0.5), rule="last-above") == (None, "bound")
    with pytest.raises(ValueError, match="crossing_rule"):
        find_crossing(frequency, np.ones(5), np.full(5, 0.5), rule="middle")


def test_shells_with_threshold_above_one_are_skipped():
    frequency = np.linspace(0, 0.5, 5)
    threshold = np.array([4.0, 1.5, 0.5, 0.5, 0.5])
    curve = np.array([1.0, 0.9, 0.9, 0.3, 0.1])
    crossing, status = find_crossing(frequency, curve, threshold)
    assert status == "resolved"
    assert 0.25 < crossing < 0.375


def test_ssnr_threshold_asymptotes():
    from napari_resolution.core.correlation import ssnr_from_correlation

    half_bit, one_bit = threshold_curve("half-bit", [1e12])[0], threshold_curve("one-bit", [1e12])[0]
    assert ssnr_from_correlation([half_bit])[0] == pytest.approx(np.sqrt(2) - 1, abs=1e-4)
    assert ssnr_from_correlation([one_bit])[0] == pytest.approx(1.0, abs=1e-4)

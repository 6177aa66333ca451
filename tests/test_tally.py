"""The recording's compiled histogram and CRC-32C (cnn/fast/tally.py) give numpy's and the table's answers."""
import numpy as np
import pytest

from cnn.fast import tally


def python_crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = int(tally.TABLE[(crc ^ byte) & 0xFF]) ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


@pytest.mark.parametrize("data", [b"", b"123456789", bytes(32), bytes(range(256)) * 7, b"\xff" * 1001])
def test_crc32c_is_the_table_driven_one(data):
    assert tally.crc32c(data) == python_crc32c(data)


def edge_cases() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    spread = rng.normal(size=50_001)
    on_edges = np.linspace(-1.0, 1.0, 31)      # every value exactly on an edge of 30 equal bins
    ulps = np.nextafter(on_edges, np.inf)      # and one step above each
    return [spread, on_edges, np.concatenate([on_edges, ulps, -ulps]), np.full(7, 0.25), np.array([3.0]),
            rng.uniform(-1e-300, 1e-300, 999), rng.standard_cauchy(10_000),
            rng.normal(size=3000).astype(np.float32).astype(np.float64)]


@pytest.mark.parametrize("values", edge_cases())
@pytest.mark.parametrize("bins", [1, 7, 30])
def test_histogram_counts_as_numpy_does(values, bins):
    low, high = values.min(), values.max()
    expected = np.histogram(values, bins=bins, range=(low, high) if low < high else None)
    counts, edges = tally.histogram(values, bins)
    assert np.array_equal(edges, expected[1])
    assert np.array_equal(counts, expected[0]) and counts.sum() == values.size


@pytest.mark.parametrize("values", edge_cases())
def test_extent_is_numpys_min_max_sum_and_squares(values):
    low, high, total, squares = tally.extent(values)
    assert (low, high) == (values.min(), values.max())
    scale = np.abs(values).sum()
    assert abs(total - values.sum()) <= 1e-12 * scale and squares == pytest.approx(np.dot(values, values), rel=1e-12)


@pytest.mark.parametrize("odd", [np.nan, np.inf, -np.inf])
def test_extent_with_a_nan_or_an_infinity_answers_as_numpy(odd):
    values = np.array([0.5, odd, -2.0, 3.0])
    expected = (values.min(), values.max(), values.sum(), np.dot(values, values))
    np.testing.assert_array_equal(tally.extent(values), expected)

"""MNIST's preprocessing against hand-made pictures whose right answer is known by construction."""
import numpy as np
import pytest

from cnn.preprocess import BOX, FIELD, EmptyImage, area_resize, centre_of_mass, grey_levels, preprocess


def bar_digit(height=40, width=16):
    """A white-on-black 'digit': a filled rectangle, whose MNIST form is known exactly."""
    return np.ones((height, width))


def test_a_digit_in_the_corner_of_a_large_white_page():
    page = np.full((900, 1200), 255, dtype=np.uint8)       # white paper
    page[30:110, 40:80] = 0                                  # an 80×40 black stroke near the top-left corner
    result = preprocess(page)
    assert result.inverted and result.background == 1.0
    assert result.box == (30, 110, 40, 80)
    assert result.scaled.shape == (BOX, 10)                  # longest side 20, aspect ratio 2:1 kept
    np.testing.assert_allclose(result.scaled, 1.0)           # solid ink stays solid
    assert result.image.shape == (FIELD, FIELD)
    # centre of mass on the centre (13.5, 13.5) of the field: the 20×10 bar from row 4 (3.5 or 4.5
    # rounded to even: 4) and column 9
    assert result.offset == (4, 9)
    assert result.image.sum() == pytest.approx(200.0)
    expected = np.zeros((FIELD, FIELD))
    expected[4:24, 9:19] = 1
    np.testing.assert_array_equal(result.image, expected)


def test_an_inverted_image_gives_the_same_28x28_as_the_original():
    white_on_black = np.zeros((60, 60))
    white_on_black[10:50, 25:33] = 1.0
    white_on_black[10:18, 15:33] = 0.7
    dark_on_light = 1.0 - white_on_black
    a, b = preprocess(white_on_black), preprocess(dark_on_light)
    assert not a.inverted and b.inverted
    np.testing.assert_allclose(a.image, b.image, atol=1e-12)


def test_a_thin_stroke_keeps_its_ink_spread_by_the_antialiasing():
    page = np.zeros((200, 200))
    page[20:180, 100] = 1.0                                  # a 160-pixel line one pixel wide
    result = preprocess(page)
    assert result.cropped.shape == (160, 1)
    assert result.scaled.shape == (BOX, 1)                   # the short side is at least one pixel
    # 160 → 20 rows is 8 to 1 and the column is kept at 1 pixel: each output pixel averages 8 lit pixels
    np.testing.assert_allclose(result.scaled, 1.0)
    assert np.count_nonzero(result.image) == BOX
    com = centre_of_mass(result.image)
    assert abs(com[0] - 13.5) <= 0.5 and abs(com[1] - 13.5) <= 0.5


def test_antialiased_downscaling_averages_what_each_pixel_covers():
    image = np.zeros((4, 6))
    image[:, 1] = 1.0                                        # column 1 lit
    out = area_resize(image, (2, 4))                         # 6 → 4 columns: each covers 1.5 input columns
    # output column 0 covers input [0, 1.5): half of column 1 → 0.5 / 1.5; column 1 covers [1.5, 3): 0.5 / 1.5
    np.testing.assert_allclose(out, [[1 / 3, 1 / 3, 0, 0], [1 / 3, 1 / 3, 0, 0]])
    assert out.sum() * (4 / 2) * (6 / 4) == pytest.approx(image.sum())   # ink is conserved by area


def test_an_empty_page_is_refused_clearly():
    with pytest.raises(EmptyImage, match="no ink"):
        preprocess(np.full((300, 400), 250, dtype=np.uint8))
    with pytest.raises(EmptyImage, match="no ink"):
        preprocess(np.zeros((28, 28)))
    noisy = np.full((100, 100), 0.97) + np.random.default_rng(0).uniform(-0.02, 0.02, (100, 100))
    with pytest.raises(EmptyImage):
        preprocess(noisy)                                    # paper grain is not ink


def test_grey_paper_background_becomes_black():
    page = np.full((100, 100), 0.8)                          # grey paper
    page[20:80, 45:55] = 0.2                                 # dark ink
    result = preprocess(page)
    assert result.inverted
    np.testing.assert_allclose(result.ink[0, 0], 0.0)
    assert result.image.max() == pytest.approx(1.0)
    assert result.image.min() == 0.0


def test_colour_and_alpha_pictures_use_luma_over_white():
    rgba = np.zeros((10, 10, 4), dtype=np.uint8)             # fully transparent: white paper
    rgba[2:8, 4:6] = (0, 0, 255, 255)                        # an opaque blue stroke
    grey = grey_levels(rgba)
    assert grey[0, 0] == 1.0
    assert grey[3, 4] == pytest.approx(0.114)
    assert preprocess(rgba).inverted


def test_bad_arrays_are_refused_by_shape():
    with pytest.raises(ValueError, match="shape"):
        preprocess(np.zeros((3, 4, 5, 6)))
    with pytest.raises(EmptyImage, match="no pixels"):
        preprocess(np.zeros((0, 10)))


def test_centre_of_mass_of_an_off_centre_digit_is_moved_to_the_centre():
    page = np.zeros((50, 50))
    page[5:45, 5:25] = 1.0                                   # a bar 40×20
    page[5:10, 25:45] = 1.0                                  # with a top bar: a '7'-like shape, heavy on the left
    result = preprocess(page)
    com = centre_of_mass(result.image)
    assert abs(com[0] - 13.5) <= 0.5 and abs(com[1] - 13.5) <= 0.5
    assert result.image.sum() == pytest.approx(result.scaled.sum())   # nothing fell off the field

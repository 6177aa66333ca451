"""The one reader of picture files (cnn/pictures.py), cnn-predict's, a --data folder's and the studio's: bad
files refused by name before they are decoded, large ones decoded scaled down, colours and transparency as
grey levels. (cnn-predict's lines: tests/test_predict.py; the studio's Open picture: tests/test_draw_pad.py.)"""
import gzip
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnn.pictures import FORMATS, MAX_DECLARED_SIDE, MAX_SIDE, SUFFIXES, PictureError, load_digit, \
    read_grey
from tests.conftest import absurd_png, on_a_page

NOT_AN_IMAGE = "not an image (PNG, JPEG, BMP, GIF, TIFF, WebP, PNM, TGA, ICO)"
DRAWING = "which is not read here; open a PNG, JPEG, BMP… picture of the digit"
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
       '<rect width="100" height="100" fill="white"/><rect x="45" y="20" width="10" height="60"/></svg>')


def save_png(path, grey: np.ndarray) -> str:
    """(H, W) floats in [0, 1] as an 8-bit grey PNG."""
    Image.fromarray((np.clip(grey, 0, 1) * 255).round().astype(np.uint8), "L").save(path, "PNG")
    return str(path)


def svg_bomb(path, levels=29) -> str:
    """A 100×100 SVG of `levels` doubling <use>: 2**levels rectangles, minutes for a renderer."""
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" '
             'height="100"><defs><rect id="l0" width="1" height="1"/>']
    parts += [f'<g id="l{i}"><use xlink:href="#l{i - 1}"/><use xlink:href="#l{i - 1}" x="0.01"/></g>'
              for i in range(1, levels + 1)]
    path.write_text("".join(parts) + f'</defs><use xlink:href="#l{levels}"/></svg>')
    return str(path)


def test_the_suffixes_offered_are_those_of_the_formats_read():
    """The studio's file dialog and its drop route offer SUFFIXES: each is the name of a format read here."""
    Image.init()
    assert {Image.registered_extensions().get(suffix) for suffix in SUFFIXES} == set(FORMATS)


def test_a_dark_on_light_png_is_preprocessed_like_mnist(tmp_path):
    digit = np.zeros((28, 28))
    digit[4:24, 12:16] = 1.0                                   # a '1' as MNIST draws it: 20 rows, centred
    page = on_a_page(digit, size=(500, 700), at=(350, 540), scale=5)   # bottom-right corner of a white page
    result = load_digit(save_png(tmp_path / "one.png", page))
    assert result.inverted
    np.testing.assert_allclose(result.image, digit, atol=1 / 255)


def test_transparency_is_white_paper_and_colour_is_luma(tmp_path):
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[2:8, 2:8] = (255, 0, 0, 255)                       # opaque red on a transparent ground
    Image.fromarray(rgba, "RGBA").save(tmp_path / "red.png")
    grey = read_grey(tmp_path / "red.png")
    assert grey[0, 0] == 255 and grey[5, 5] == round(0.299 * 255)


def test_large_pictures_are_decoded_scaled_down_and_a_folder_is_refused(tmp_path):
    page = np.ones((1500, 3000))
    page[200:1200, 1000:1300] = 0.0
    assert read_grey(save_png(tmp_path / "large.png", page)).shape == (MAX_SIDE // 2, MAX_SIDE)
    with pytest.raises(PictureError) as error:
        read_grey(tmp_path)
    assert str(error.value) == f"{tmp_path}: is a folder, not a file"


MORE = "more than the 40 million pixels read here"


def test_declared_sizes_beyond_the_limits_are_refused_before_decoding(tmp_path):
    long = absurd_png(tmp_path / "long.png", width=MAX_DECLARED_SIDE + 1, height=10)
    huge = absurd_png(tmp_path / "huge.png")                  # 100,000 × 100,000 pixels declared, 64 bytes of data
    wide = absurd_png(tmp_path / "wide.png", width=2**31 - 1, height=1)
    for path, problem in ((long, f"the image declares {MAX_DECLARED_SIDE + 1}×10 pixels, a side longer than the "
                                 f"{MAX_DECLARED_SIDE:,} read here"),
                          (huge, f"the image declares {10**10:,} pixels, {MORE}"),
                          (wide, f"the image declares {2**31 - 1:,} pixels, {MORE}")):
        with pytest.raises(PictureError) as error:
            read_grey(path)
        assert str(error.value) == f"{path}: {problem}"


def test_a_drawing_is_refused_by_its_content_whatever_its_name(tmp_path):
    bomb = Path(svg_bomb(tmp_path / "bomb.svg")).read_bytes()
    for name, data, kind in (("digit.png", SVG.encode(), "an SVG drawing"),
                             ("digit.svg", SVG.encode(), "an SVG drawing"),
                             ("bomb.png", bomb, "an SVG drawing"),
                             ("packed.jpg", gzip.compress(SVG.encode()), "an SVG drawing (compressed)"),
                             ("paper.bmp", b"%PDF-1.7\n", "a PDF document")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(PictureError) as error:
            read_grey(tmp_path / name)
        assert str(error.value) == f"{tmp_path / name}: {kind}, {DRAWING}"


def test_a_fifo_or_a_device_is_never_opened_as_a_picture(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)     # opened to read, it would wait for a writer for ever
    with pytest.raises(PictureError, match=f"^{fifo}: is a FIFO \\(named pipe\\), not a file$"):
        read_grey(fifo)
    with pytest.raises(PictureError, match="^/dev/null: is a character device, not a file$"):
        read_grey("/dev/null")


def test_truncated_empty_blank_and_foreign_files_are_named_with_what_is_wrong(tmp_path):
    whole = Path(save_png(tmp_path / "whole.png", on_a_page(np.eye(28))))
    (tmp_path / "cut.png").write_bytes(whole.read_bytes()[:80])
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "notes.png").write_text("this is not an image\n")
    (tmp_path / "short.xpm").write_text('/* XPM */\nstatic char *x[] = {\n"4 4 2 1",\n"  c #FFFFFF",\n'
                                        '". c #000000",\n"....",\n".."\n};\n')   # a format not read here
    for name, problem in (("empty.png", "the file is empty"), ("notes.png", NOT_AN_IMAGE),
                          ("short.xpm", NOT_AN_IMAGE)):
        with pytest.raises(PictureError) as error:
            read_grey(tmp_path / name)
        assert str(error.value) == f"{tmp_path / name}: {problem}"
    with pytest.raises(PictureError) as error:
        read_grey(tmp_path / "cut.png")
    assert str(error.value).startswith(f"{tmp_path / 'cut.png'}: could not be decoded (")
    assert "\n" not in str(error.value)
    with pytest.raises(PictureError) as error:
        load_digit(save_png(tmp_path / "blank.png", np.ones((60, 80))))
    assert str(error.value).startswith(f"{tmp_path / 'blank.png'}: no ink")


def test_a_picture_whose_name_is_not_utf8_is_read_and_named_with_its_bytes_escaped(tmp_path):
    name = tmp_path / os.fsdecode(b"\xff\xfe-bad.png")          # surrogates on Linux: bytes that are no UTF-8
    os.rename(save_png(tmp_path / "good.png", on_a_page(np.eye(28))), name)
    assert read_grey(name).shape == (300, 400)
    name.write_text("no picture")
    with pytest.raises(PictureError) as error:
        read_grey(name)
    assert str(error.value) == f"{tmp_path}/\\xff\\xfe-bad.png: {NOT_AN_IMAGE}"

"""The studio's image files, read through Qt's readers (app/widgets/image_files.py): bad files refused by
name before they are decoded. (cnn-predict reads with Pillow: tests/test_predict.py.)"""
import gzip
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from app.widgets.image_files import MAX_DECLARED_SIDE, MAX_SIDE, ImageFileError, load_digit, read_grey
from tests.conftest import absurd_png, on_a_page


def save_png(path, grey: np.ndarray) -> str:
    """(H, W) floats in [0, 1] as an 8-bit grey PNG."""
    pixels = np.ascontiguousarray((np.clip(grey, 0, 1) * 255).round().astype(np.uint8))
    image = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], QImage.Format_Grayscale8)
    assert image.copy().save(str(path), "PNG")
    return str(path)


def test_a_dark_on_light_png_is_preprocessed_like_mnist(tmp_path):
    digit = np.zeros((28, 28))
    digit[4:24, 12:16] = 1.0                                   # a '1' as MNIST draws it: 20 rows, centred
    page = on_a_page(digit, size=(500, 700), at=(350, 540), scale=5)   # bottom-right corner of a white page
    result = load_digit(save_png(tmp_path / "one.png", page))
    assert result.inverted
    np.testing.assert_allclose(result.image, digit, atol=1 / 255)


def test_large_pictures_are_decoded_scaled_down(tmp_path):
    page = np.ones((1500, 3000))
    page[200:1200, 1000:1300] = 0.0
    grey = read_grey(save_png(tmp_path / "large.png", page))
    assert grey.shape == (MAX_SIDE // 2, MAX_SIDE)
    with pytest.raises(ImageFileError, match="is a folder"):
        read_grey(tmp_path)


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
       '<rect width="100" height="100" fill="white"/><rect x="45" y="20" width="10" height="60"/></svg>')


def svg_bomb(path, levels=29) -> str:
    """A 100×100 SVG of `levels` doubling <use>: 2**levels rectangles, minutes for Qt to render."""
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="100" '
             'height="100"><defs><rect id="l0" width="1" height="1"/>']
    parts += [f'<g id="l{i}"><use xlink:href="#l{i - 1}"/><use xlink:href="#l{i - 1}" x="0.01"/></g>'
              for i in range(1, levels + 1)]
    path.write_text("".join(parts) + f'</defs><use xlink:href="#l{levels}"/></svg>')
    return str(path)


DRAWING = "which is not read here; open a PNG, JPEG, BMP… picture of the digit"


def test_a_drawing_is_refused_by_its_content_whatever_its_name(tmp_path):
    """Qt renders an SVG at any cost (a <use> bomb: minutes): it is told by its content and refused."""
    bomb = Path(svg_bomb(tmp_path / "bomb.svg")).read_bytes()
    for name, data in (("digit.png", SVG.encode()), ("digit.svg", SVG.encode()),
                       ("packed.jpg", gzip.compress(SVG.encode())), ("bomb.png", bomb)):
        (tmp_path / name).write_bytes(data)
        kind = "an SVG drawing (compressed)" if name == "packed.jpg" else "an SVG drawing"
        with pytest.raises(ImageFileError) as error:
            read_grey(tmp_path / name)
        assert str(error.value) == f"{tmp_path / name}: {kind}, {DRAWING}"


def test_a_fifo_or_a_device_is_never_opened_as_a_picture(tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)     # opened to read, it would wait for a writer for ever
    with pytest.raises(ImageFileError, match=f"^{fifo}: is a FIFO \\(named pipe\\), not a file$"):
        read_grey(fifo)
    with pytest.raises(ImageFileError, match="^/dev/null: is a character device, not a file$"):
        read_grey("/dev/null")


def test_a_side_longer_than_the_limit_is_refused_before_decoding(tmp_path):
    long = absurd_png(tmp_path / "long.png", width=MAX_DECLARED_SIDE + 1, height=10)
    with pytest.raises(ImageFileError) as error:
        read_grey(long)
    assert str(error.value) == (f"{long}: the image declares {MAX_DECLARED_SIDE + 1}×10 pixels, a side longer than "
                                f"the {MAX_DECLARED_SIDE:,} read here")


# Red team F9: Qt's and libpng's own lines came before ours ("qt.gui.imageio: libpng warning: Image width exceeds
# user limit in IHDR", "libpng error: Invalid IHDR data", "libpng error: Read Error", "qt.gui.imageio: XPM…").
BROKEN = {
    "cut.png": "could not be decoded (Unable to read image data)",
    "wide.png": "the image declares no size its reader accepts",
    "short.xpm": "could not be decoded (Unable to read image data)",
}


def broken_pictures(folder: Path) -> list[str]:
    whole = Path(save_png(folder / "whole.png", on_a_page(np.eye(28))))
    (folder / "cut.png").write_bytes(whole.read_bytes()[:80])
    absurd_png(folder / "wide.png", width=2**31 - 1, height=1)
    (folder / "short.xpm").write_text('/* XPM */\nstatic char *x[] = {\n"4 4 2 1",\n"  c #FFFFFF",\n". c #000000",\n'
                                      '"....",\n".."\n};\n')
    return [str(folder / name) for name in BROKEN]


@pytest.mark.slow   # a subprocess: libpng writes to the process's stderr itself, past Python's
def test_a_broken_picture_is_our_one_line_without_qt_or_libpng_lines(tmp_path):
    env = {name: value for name, value in os.environ.items() if name != "QT_LOGGING_RULES"}
    env |= {"PYTHONPATH": os.pathsep.join(sys.path), "QT_QPA_PLATFORM": "offscreen"}
    script = ("import sys\nfrom app.widgets.image_files import ImageFileError, read_grey\ntry:\n"
              "    read_grey(sys.argv[1])\nexcept ImageFileError as error:\n    print(error, file=sys.stderr)\n")
    for picture, problem in zip(broken_pictures(tmp_path), BROKEN.values(), strict=True):
        done = subprocess.run([sys.executable, "-c", script, picture], capture_output=True, text=True, env=env,
                              timeout=600)
        assert (done.returncode, done.stdout) == (0, "")
        assert done.stderr == f"{picture}: {problem}\n"

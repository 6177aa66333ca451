"""cnn-predict and the image files it reads (through Qt's readers): one line per file, the others
still predicted when one fails, and bad files refused by name before they are decoded."""
import gzip
import os
import re
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from app.predict import main
from app.widgets.image_files import MAX_DECLARED_SIDE, MAX_SIDE, ImageFileError, load_digit, read_grey
from cnn import io
from cnn.preprocess import preprocess
from cnn.session import Session
from cnn.config import RunConfig


@pytest.fixture(scope="module")
def trained(raw_mnist, tmp_path_factory):
    """The original network after 3 epochs on 0 and 1, saved; and its test split."""
    session = Session(RunConfig.from_preset("original", epochs=3), raw_mnist)
    for _ in session.run(3):
        pass
    path = tmp_path_factory.mktemp("weights") / "zero-one.npz"
    io.save(session.network, path)
    return path, session


def save_png(path, grey: np.ndarray) -> str:
    """(H, W) floats in [0, 1] as an 8-bit grey PNG."""
    pixels = np.ascontiguousarray((np.clip(grey, 0, 1) * 255).round().astype(np.uint8))
    image = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.strides[0], QImage.Format_Grayscale8)
    assert image.copy().save(str(path), "PNG")
    return str(path)


def on_a_page(digit: np.ndarray, size=(300, 400), at=(20, 30), scale=4) -> np.ndarray:
    """A 28×28 white-on-black digit drawn dark-on-light, `scale` times larger, on a white page."""
    page = np.ones(size)
    big = np.kron(digit, np.ones((scale, scale)))
    page[at[0]:at[0] + big.shape[0], at[1]:at[1] + big.shape[1]] = 1 - big
    return page


def absurd_png(path, width=100_000, height=100_000) -> str:
    """A PNG whose header declares width × height pixels, with one short row of data."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))
    return str(path)


def test_mnist_digits_on_paper_are_predicted_as_the_network_predicts_them(trained, tmp_path, capsys):
    weights, session = trained
    test = session.dataset.test
    files, expected = [], []
    for n in range(6):
        digit = test.x[n, 0]
        files.append(save_png(tmp_path / f"page{n}.png", on_a_page(digit, at=(10 + 30 * n, 280 - 50 * n))))
        expected.append(test.labels[n])
    assert main(["--load", str(weights), *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6
    for line, path, label in zip(lines, files, expected, strict=True):
        match = re.fullmatch(re.escape(path) + r": (\d) \(p=(\d\.\d\d)\)", line)
        assert match, line
        assert int(match.group(1)) == label


def test_a_dark_on_light_png_is_preprocessed_like_mnist(tmp_path):
    digit = np.zeros((28, 28))
    digit[4:24, 12:16] = 1.0                                   # a '1' as MNIST draws it: 20 rows, centred
    page = on_a_page(digit, size=(500, 700), at=(350, 540), scale=5)   # bottom-right corner of a white page
    result = load_digit(save_png(tmp_path / "one.png", page))
    assert result.inverted
    np.testing.assert_allclose(result.image, digit, atol=1 / 255)


def test_bad_files_get_one_line_each_and_the_others_are_predicted(trained, tmp_path, capsys):
    weights, session = trained
    good = save_png(tmp_path / "good.png", session.dataset.test.x[0, 0])
    text = tmp_path / "notes.png"
    text.write_text("this is not an image\n")
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    blank = save_png(tmp_path / "blank.png", np.ones((60, 80)))
    absurd = absurd_png(tmp_path / "absurd.png")
    missing = tmp_path / "missing.png"
    code = main(["--load", str(weights), str(text), str(empty), good, blank, absurd, str(missing)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines()[0].startswith(f"{good}: ")
    assert len(out.splitlines()) == 1
    errors = err.splitlines()
    assert len(errors) == 5
    assert errors[0] == f"cnn-predict: {text}: not an image (PNG, JPEG, BMP and the other formats Qt reads)"
    assert errors[1] == f"cnn-predict: {empty}: the file is empty"
    assert errors[2].startswith(f"cnn-predict: {blank}: no ink")
    assert errors[3] == (f"cnn-predict: {absurd}: the image declares 100000×100000 pixels, more than the 40 "
                         "million read here")
    assert errors[4] == f"cnn-predict: {missing}: no such file"


def test_show_prints_the_28x28_the_network_sees(trained, tmp_path, capsys):
    weights, session = trained
    digit = session.dataset.test.x[1, 0]
    path = save_png(tmp_path / "digit.png", on_a_page(digit))
    assert main(["--load", str(weights), "--show", path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 29 and all(len(line) == 56 for line in lines[1:])
    seen = preprocess(1 - on_a_page(digit)).image              # the same picture, white on black, from the array
    inked = [[character != " " for character in line[::2]] for line in lines[1:]]
    assert inked == (seen * 9 > 0.5).tolist()                 # 10 shades: a blank is ink below half a shade
    assert lines[1 + int(np.argmax(seen.sum(axis=1)))].count("@") >= 2


def test_large_pictures_are_decoded_scaled_down(tmp_path):
    page = np.ones((1500, 3000))
    page[200:1200, 1000:1300] = 0.0
    grey = read_grey(save_png(tmp_path / "large.png", page))
    assert grey.shape == (MAX_SIDE // 2, MAX_SIDE)
    with pytest.raises(ImageFileError, match="is a folder"):
        read_grey(tmp_path)


def test_weights_that_do_not_fit_and_missing_qt_are_said_in_one_line(trained, tmp_path, capsys, monkeypatch):
    weights, _ = trained
    assert main(["--load", str(weights), "x.png", "--classes", "3", "4", "5"]) == 2
    assert capsys.readouterr().err.strip() == (f"cnn-predict: {weights}: the network has 2 outputs, "
                                               "but --classes names 3")
    monkeypatch.delitem(sys.modules, "app.widgets.image_files", raising=False)
    monkeypatch.setitem(sys.modules, "PySide6.QtGui", None)    # as if PySide6 were not installed
    assert main(["--load", str(weights), "x.png"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["cnn-predict: cnn-predict reads images with Qt: pip install 'cnn-studio[app]' "
                   "(or: pip install PySide6-Essentials)"]


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


def test_a_picture_whose_name_is_not_utf8_is_read_and_named_with_its_bytes_escaped(trained, tmp_path, capsys):
    weights, session = trained
    name = os.fsdecode(b"\xff\xfe-bad.png")            # surrogates on Linux: bytes that are no UTF-8
    path = save_png(tmp_path / "good.png", on_a_page(session.dataset.test.x[0, 0]))
    os.rename(path, tmp_path / name)
    assert read_grey(tmp_path / name).shape == (300, 400)
    assert main(["--load", str(weights), str(tmp_path / name)]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path}/\\xff\\xfe-bad.png: ")
    (tmp_path / name).write_text("not a picture")
    assert main(["--load", str(weights), str(tmp_path / name)]) == 1
    assert capsys.readouterr().err == (f"cnn-predict: {tmp_path}/\\xff\\xfe-bad.png: not an image (PNG, JPEG, BMP "
                                       "and the other formats Qt reads)\n")


@pytest.mark.slow   # a subprocess
def test_cnn_predict_refuses_an_svg_bomb_at_once(trained, tmp_path):
    weights, _ = trained
    bomb = svg_bomb(tmp_path / "bomb.png")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    # The timeout only stops a hang from stalling the suite; the assertion is the exit code and the message.
    done = subprocess.run([sys.executable, "-m", "app.predict", "--load", str(weights), bomb], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"cnn-predict: {bomb}: an SVG drawing, {DRAWING}\n"


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
    weights = Path(__file__).parent / "data" / "digits_v1.npz"
    for picture, problem in zip(broken_pictures(tmp_path), BROKEN.values(), strict=True):
        done = subprocess.run([sys.executable, "-m", "app.predict", "--load", str(weights), picture],
                              capture_output=True, text=True, env=env, timeout=600)
        assert (done.returncode, done.stdout) == (1, "")
        assert done.stderr == f"cnn-predict: {picture}: {problem}\n"

"""cnn-predict (cnn/predict.py): one line (or JSON object) per file, the others still predicted when one
fails, and no Qt needed. The picture reader itself (cnn/pictures.py, the studio's too): tests/test_pictures.py."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnn import weights_file
from cnn.config import RunConfig
from cnn.predict import main
from cnn.preprocess import preprocess
from cnn.session import Session
from tests.conftest import absurd_png, on_a_page
from tests.test_pictures import DRAWING, SVG


@pytest.fixture(scope="module")
def trained(raw_mnist, tmp_path_factory):
    """The original network after 3 epochs on 0 and 1, saved; and its session."""
    session = Session(RunConfig.from_preset("original", epochs=3), raw_mnist)
    for _ in session.run(3):
        pass
    path = tmp_path_factory.mktemp("weights") / "zero-one.npz"
    weights_file.save(session.network, path)
    return path, session


def save_png(path, grey: np.ndarray) -> str:
    """(H, W) floats in [0, 1] as an 8-bit grey PNG."""
    Image.fromarray((np.clip(grey, 0, 1) * 255).round().astype(np.uint8), "L").save(path, "PNG")
    return str(path)


def test_mnist_digits_on_paper_are_predicted_as_the_network_predicts_them(trained, tmp_path, capsys):
    weights, session = trained
    test = session.dataset.test
    files = [save_png(tmp_path / f"page{n}.png", on_a_page(test.x[n, 0], at=(10 + 30 * n, 280 - 50 * n)))
             for n in range(6)]
    assert main(["--load", str(weights), *files]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6
    for n, (line, path) in enumerate(zip(lines, files, strict=True)):
        match = re.fullmatch(re.escape(path) + r": (\d) \(p=(\d\.\d\d)\)", line)
        assert match, line
        assert int(match.group(1)) == test.labels[n]


def test_raw_mnist_pngs_agree_with_the_engine_on_all_100(raw_mnist, tmp_path, capsys):
    """MNIST's test images saved as PNGs, read --raw: the same inputs, so the same answers as the engine's."""
    weights = Path(__file__).parent / "data" / "digits_v1.npz"
    network = weights_file.load(weights)
    images = raw_mnist["x_test"][:100]
    files = []
    for n, pixels in enumerate(images):
        Image.fromarray(pixels, "L").save(tmp_path / f"{n}.png")
        files.append(str(tmp_path / f"{n}.png"))
    assert main(["--load", str(weights), "--raw", "--json", *files]) == 0
    answers = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    engine = network.predict((images / 255.0).reshape(-1, 1, 28, 28).astype(network.dtype)).argmax(axis=1)
    assert [answer["file"] for answer in answers] == files
    assert [answer["class"] for answer in answers] == engine.tolist()
    first = answers[0]
    assert set(first) == {"file", "class", "probability", "probabilities"}
    assert first["probability"] == max(first["probabilities"].values())
    assert abs(sum(first["probabilities"].values()) - 1) < 1e-6   # a float32 network


def test_raw_refuses_a_picture_that_is_not_28x28(trained, tmp_path, capsys):
    weights, _ = trained
    path = save_png(tmp_path / "big.png", np.zeros((32, 30)))
    assert main(["--load", str(weights), "--raw", "--json", path]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "file": path, "error": "is 30×32 pixels; --raw reads 28×28 pictures as they are"}


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
    cut = tmp_path / "cut.png"
    cut.write_bytes(Path(good).read_bytes()[:60])
    code = main(["--load", str(weights), str(text), str(empty), good, blank, absurd, str(missing), str(cut)])
    out, err = capsys.readouterr()
    assert code == 1
    assert out.splitlines() == [out.splitlines()[0]] and out.startswith(f"{good}: ")
    errors = err.splitlines()
    assert len(errors) == 6
    assert errors[0] == f"cnn-predict: {text}: not an image (PNG, JPEG, BMP, GIF, TIFF, WebP, PNM, TGA, ICO)"
    assert errors[1] == f"cnn-predict: {empty}: the file is empty"
    assert errors[2].startswith(f"cnn-predict: {blank}: no ink")
    assert errors[3] == (f"cnn-predict: {absurd}: the image declares 10,000,000,000 pixels, more than the 40 million "
                         "pixels read here")
    assert errors[4] == f"cnn-predict: {missing}: no such file"
    assert errors[5].startswith(f"cnn-predict: {cut}: could not be decoded (")


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


def test_weights_that_do_not_fit_are_said_in_one_line(trained, capsys):
    weights, _ = trained
    assert main(["--load", str(weights), "x.png", "--classes", "3", "4", "5"]) == 2
    assert capsys.readouterr().err.strip() == (f"cnn-predict: {weights}: the network has 2 outputs, "
                                               "but --classes names 3")


def test_a_picture_whose_name_is_not_utf8_is_read_and_named_with_its_bytes_escaped(trained, tmp_path, capsys):
    weights, session = trained
    name = os.fsdecode(b"\xff\xfe-bad.png")            # surrogates on Linux: bytes that are no UTF-8
    os.rename(save_png(tmp_path / "good.png", on_a_page(session.dataset.test.x[0, 0])), tmp_path / name)
    assert main(["--load", str(weights), str(tmp_path / name)]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path}/\\xff\\xfe-bad.png: ")


@pytest.mark.slow   # a subprocess
def test_cnn_predict_runs_without_qt_and_refuses_an_svg_at_once(trained, tmp_path):
    """PySide6 made unimportable: cnn-predict still reads pictures (and an SVG is refused by its content)."""
    weights, session = trained
    good = save_png(tmp_path / "good.png", on_a_page(session.dataset.test.x[0, 0]))
    (tmp_path / "drawing.png").write_text(SVG)
    (tmp_path / "PySide6").mkdir()
    (tmp_path / "PySide6" / "__init__.py").write_text("raise ImportError('no Qt here')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])}
    done = subprocess.run([sys.executable, "-m", "cnn.predict", "--load", str(weights), good,
                           str(tmp_path / "drawing.png")], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 1
    assert re.fullmatch(re.escape(good) + r": [01] \(p=\d\.\d\d\)\n", done.stdout)
    assert done.stderr == f"cnn-predict: {tmp_path / 'drawing.png'}: an SVG drawing, {DRAWING}\n"

"""--data FOLDER of pictures, one subfolder per class (cnn/image_folder.py): held-out share or train/ and
test/, preprocessed as MNIST or --raw, and one-line errors naming the file or folder."""
import numpy as np
import pytest
from PIL import Image

from cnn.cli import main
from cnn.data import DataFileError, load_mnist
from cnn.image_folder import DataChoice
from cnn.preprocess import preprocess


def write(path, pixels: np.ndarray, mode="L", fmt=None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, mode).save(path, fmt)


def mnist_folder(root, raw_mnist, per_class=10, digits=(0, 1), part="x_train", labels="y_train"):
    """MNIST's own images saved as 28×28 PNGs, one subfolder per digit; returns {digit: images}."""
    saved = {}
    for digit in digits:
        images = raw_mnist[part][raw_mnist[labels] == digit][:per_class]
        for n, pixels in enumerate(images):
            write(root / str(digit) / f"{n:03}.png", pixels)
        saved[digit] = images
    return saved


def test_raw_pictures_are_read_as_they_are_and_a_seeded_share_held_out(tmp_path, raw_mnist):
    saved = mnist_folder(tmp_path, raw_mnist, per_class=10)
    raw = load_mnist(DataChoice(str(tmp_path), raw=True, test_share=0.2))
    assert raw["x_train"].shape == (16, 28, 28) and raw["x_test"].shape == (4, 28, 28)
    assert raw["x_train"].dtype == np.uint8 and list(raw["y_test"]) == [0, 0, 1, 1]
    for x, y in ((raw["x_train"], raw["y_train"]), (raw["x_test"], raw["y_test"])):
        for image, label in zip(x, y, strict=True):
            assert any(np.array_equal(image, kept) for kept in saved[label])
    again = load_mnist(DataChoice(str(tmp_path), raw=True, test_share=0.2))
    assert all(np.array_equal(raw[key], again[key]) for key in raw)           # the same share every time
    every = np.concatenate([raw["x_train"], raw["x_test"]])
    assert len({image.tobytes() for image in every}) == 20                     # none in both parts


def test_pictures_of_any_size_and_format_are_preprocessed_as_mnist(tmp_path):
    page = np.full((120, 90, 3), 255, np.uint8)
    page[20:100, 40:50] = (0, 0, 0)                                            # a dark 1 on white paper
    for split in ("train", "test"):
        for name in ("seven", "one"):
            write(tmp_path / split / name / "a.jpg", page, "RGB", "JPEG")
            write(tmp_path / split / name / "b.bmp", page, "RGB", "BMP")
    raw = load_mnist(tmp_path)
    assert raw["x_train"].shape == (4, 28, 28) and list(raw["y_train"]) == [0, 0, 1, 1]   # one → 0, seven → 1
    grey = np.asarray(Image.open(tmp_path / "train" / "one" / "b.bmp").convert("L"))
    np.testing.assert_array_equal(raw["x_train"][1], np.round(preprocess(grey).image * 255).astype(np.uint8))


def test_cnn_train_trains_on_a_folder_of_pictures(tmp_path, raw_mnist, capsys):
    mnist_folder(tmp_path / "data", raw_mnist, per_class=20)
    assert main(["--data", str(tmp_path / "data"), "--raw", "--epochs", "1", "--quiet"]) == 0
    assert "test accuracy" in capsys.readouterr().out


@pytest.mark.parametrize("build, message", [
    (lambda root: (root / "empty").mkdir(), "{root}/empty: the class folder holds no pictures"),
    (lambda root: (root / "a.png").write_bytes(b"x"),
     "{root}: neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz is there (nor a subfolder of pictures "
     "per class)"),
    (lambda root: [write(root / "train" / c / "a.png", np.zeros((28, 28), np.uint8)) for c in "ab"]
     + [write(root / "test" / c / "a.png", np.zeros((28, 28), np.uint8)) for c in "ac"],
     "{root}: the class folders differ between train/ and test/: only in train/: b; only in test/: c"),
    (lambda root: [write(root / c / f"{n}.png", np.zeros((28, 28), np.uint8)) for c in "ab" for n in range(2)]
     + [(root / "b" / "notes.png").write_text("not a picture")],
     "{root}/b/notes.png: not an image (PNG, JPEG, BMP, GIF, TIFF, WebP, PNM, TGA, ICO)"),
    (lambda root: [write(root / c / f"{n}.png", np.zeros((30 if c + str(n) == "a0" else 28, 28), np.uint8))
                   for c in "ab" for n in range(2)],
     "{root}/a/0.png: is 28×30 pixels; --raw reads 28×28 pictures as they are"),
    (lambda root: [write(root / f"c{c:02}" / "0.png", np.zeros((28, 28), np.uint8)) for c in range(11)],
     "{root}: 11 class folders; at most 10 are read (the network's classes are the digits 0–9)"),
])
def test_a_bad_folder_is_one_line_naming_it(tmp_path, capsys, build, message):
    build(tmp_path)
    assert main(["--data", str(tmp_path), "--raw", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == f"cnn-train: error: {message.format(root=tmp_path)}\n"


def test_raw_with_an_npz_and_test_share_with_a_test_folder_are_refused(tmp_path, raw_mnist, capsys):
    np.savez(tmp_path / "mnist.npz", **raw_mnist)
    assert main(["--data", str(tmp_path / "mnist.npz"), "--raw", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == ("cnn-train: error: --raw and --test-share apply to a folder of pictures (one "
                                       f"subfolder per class); {tmp_path / 'mnist.npz'} is not one\n")
    for split in ("train", "test"):
        write(tmp_path / "split" / split / "0" / "a.png", np.zeros((28, 28), np.uint8))
    assert main(["--data", str(tmp_path / "split"), "--test-share", "0.3", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == f"cnn-train: error: --test-share: {tmp_path / 'split'} has its own test/ folder\n"
    with pytest.raises(SystemExit):
        main(["--test-share", "1.5"])
    assert "--test-share: must be a fraction more than 0 and less than 1, not '1.5'" in capsys.readouterr().err


def test_a_class_of_one_picture_cannot_hold_out_a_share(tmp_path):
    write(tmp_path / "0" / "a.png", np.zeros((28, 28), np.uint8))
    write(tmp_path / "1" / "a.png", np.zeros((28, 28), np.uint8))
    with pytest.raises(DataFileError, match=f"^{tmp_path / '0'}: one picture; holding out a test share needs"):
        load_mnist(tmp_path)


def test_the_studio_reads_a_folder_of_pictures_as_cnn_studio_passes_it(tmp_path, raw_mnist):
    from app.main import build_parser
    from app.model.studio import Studio
    from cnn.image_folder import data_choice
    saved = mnist_folder(tmp_path, raw_mnist, per_class=10)
    args = build_parser().parse_args(["--data", str(tmp_path), "--raw", "--test-share", "0.5"])
    studio = Studio(data_choice(args.data, args.raw, args.test_share))
    raw = studio.load_raw()
    assert raw["x_train"].shape == (10, 28, 28) and raw["x_test"].shape == (10, 28, 28)
    assert any(np.array_equal(raw["x_test"][0], image) for image in saved[0])
    assert studio.source() == str(tmp_path)


def test_raw_without_a_folder_is_refused(capsys):
    assert main(["--raw", "--epochs", "1"]) == 2
    assert capsys.readouterr().err == ("cnn-train: error: --raw and --test-share need --data FOLDER (a folder of "
                                       "pictures)\n")

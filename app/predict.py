"""cnn-predict: which digit each picture shows, by a saved network. Each file is preprocessed as
MNIST was (cnn.preprocess: inverted if the paper is light, cropped, scaled to 20 px, centred)."""
from __future__ import annotations

import argparse
import sys

import numpy as np

from cnn import io
from cnn.ranges import RANGES, whole_option
from cnn.files import shown
from cnn.session import loss_for

INSTALL_QT = "cnn-predict reads images with Qt: pip install 'cnn-studio[app]' (or: pip install PySide6-Essentials)"
SHADES = " .:-=+*#%@"       # ink 0 → 1, for --show


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-predict", description=__doc__)
    parser.add_argument("--load", metavar="WEIGHTS", required=True, help="the network: an .npz saved by cnn-train "
                                                                         "or the studio")
    parser.add_argument("--classes", type=whole_option(RANGES["digit"].describe()), nargs="+", metavar="DIGIT",
                        help="the digits the network's outputs stand for (default: 0, 1, … one per output)")
    parser.add_argument("--show", action="store_true", help="also print the 28×28 image the network sees")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG or BMP files")
    return parser


def as_text(image: np.ndarray) -> str:
    """A 28×28 image in [0, 1] as lines of characters, two a pixel (so that it looks square)."""
    levels = np.clip((image * (len(SHADES) - 1)).round().astype(int), 0, len(SHADES) - 1)
    return "\n".join("".join(SHADES[v] * 2 for v in row) for row in levels)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from app.widgets.image_files import ImageFileError, load_digit
    except ImportError:
        print(f"cnn-predict: {INSTALL_QT}", file=sys.stderr)
        return 2
    try:
        network = io.load(args.load)
    except (io.WeightsFileError, ValueError, OSError) as error:
        print(f"cnn-predict: {error}", file=sys.stderr)
        return 2
    outputs = network.output_shape[0] if len(network.output_shape) == 1 else 0
    classes = tuple(args.classes) if args.classes else tuple(range(outputs))
    problem = None
    if network.input_shape != (1, 28, 28):
        problem = f"the network takes inputs {network.input_shape}, not 28×28 digits"
    elif len(classes) != outputs:
        problem = f"the network has {outputs} outputs, but --classes names {len(classes)}"
    if problem:
        print(f"cnn-predict: {shown(args.load)}: {problem}", file=sys.stderr)
        return 2
    loss, failed = loss_for(network), 0
    for path in args.images:
        try:
            digit = load_digit(path)
        except (ImageFileError, OSError) as error:
            print(f"cnn-predict: {error}" if isinstance(error, ImageFileError) else
                  f"cnn-predict: {shown(path)}: {error.strerror or error}", file=sys.stderr)
            failed += 1
            continue
        probabilities = loss.probabilities(network.forward(digit.image[None, None]))[0]
        best = int(np.argmax(probabilities))
        print(f"{shown(path)}: {classes[best]} (p={probabilities[best]:.2f})", flush=True)
        if args.show:
            print(as_text(digit.image), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

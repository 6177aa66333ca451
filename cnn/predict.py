"""cnn-predict: which digit each picture shows, by a saved network. Each file is preprocessed as MNIST
was (cnn.preprocess: inverted if the paper is light, cropped, scaled to 20 px, centred), or with --raw
taken as it is (28×28 grey levels, a white digit on black, as MNIST's own images). Pictures are decoded
with Pillow (cnn.pictures), so no Qt is needed."""
from __future__ import annotations

import argparse
import json
import logging
import sys

import numpy as np

from . import weights_file
from .conventions import add_common_options, configure
from .files import shown
from .pictures import PictureError, load_digit, read_grey
from .ranges import RANGES, whole_option
from .session import loss_for

SHADES = " .:-=+*#%@"       # ink 0 → 1, for --show
log = logging.getLogger("cnn.predict")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cnn-predict", description=__doc__)
    parser.add_argument("--load", metavar="WEIGHTS", required=True, help="the network: an .npz saved by cnn-train "
                                                                         "or the studio")
    parser.add_argument("--classes", type=whole_option(RANGES["digit"].describe()), nargs="+", metavar="DIGIT",
                        help="the digits the network's outputs stand for (default: 0, 1, … one per output)")
    parser.add_argument("--raw", action="store_true", help="take each picture as it is: 28×28 grey levels, a light "
                                                           "digit on a dark ground (MNIST's own), no preprocessing")
    parser.add_argument("--show", action="store_true", help="also print the 28×28 image the network sees")
    parser.add_argument("--json", action="store_true", help="print one JSON object a picture: its file, class, "
                                                            "probability and every class's probability (or error)")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, BMP… files")
    add_common_options(parser)
    return parser


def as_text(image: np.ndarray) -> str:
    """A 28×28 image in [0, 1] as lines of characters, two a pixel (so that it looks square)."""
    levels = np.clip((image * (len(SHADES) - 1)).round().astype(int), 0, len(SHADES) - 1)
    return "\n".join("".join(SHADES[v] * 2 for v in row) for row in levels)


def network_problem(network, classes: tuple, outputs: int) -> str | None:
    if network.input_shape != (1, 28, 28):
        return f"the network takes inputs {network.input_shape}, not 28×28 digits"
    if len(classes) != outputs:
        return f"the network has {outputs} outputs, but --classes names {len(classes)}"
    return None


def seen(path, raw: bool) -> np.ndarray:
    """The 28×28 image in [0, 1] the network is given for the picture in `path`."""
    if raw:
        return read_grey(path, raw=True) / 255.0
    return load_digit(path).image


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    configure(args, "cnn-predict")
    try:
        network = weights_file.load(args.load)
    except (weights_file.WeightsFileError, ValueError, OSError) as error:
        print(f"cnn-predict: {error}", file=sys.stderr)
        return 2
    outputs = network.output_shape[0] if len(network.output_shape) == 1 else 0
    classes = tuple(args.classes) if args.classes else tuple(range(outputs))
    problem = network_problem(network, classes, outputs)
    if problem:
        print(f"cnn-predict: {shown(args.load)}: {problem}", file=sys.stderr)
        return 2
    loss, failed = loss_for(network), 0
    for path in args.images:
        try:
            image = seen(path, args.raw)
        except (PictureError, OSError) as error:
            message = str(error) if isinstance(error, PictureError) else f"{shown(path)}: {error.strerror or error}"
            if args.json:
                print(json.dumps({"file": shown(path), "error": message.removeprefix(f"{shown(path)}: ")}),
                      flush=True)
            else:
                print(f"cnn-predict: {message}", file=sys.stderr)
            failed += 1
            continue
        probabilities = loss.probabilities(network.forward(image[None, None].astype(network.dtype)))[0]
        best = int(np.argmax(probabilities))
        log.info("%s: probabilities %s", shown(path), np.round(probabilities, 4).tolist())
        if args.json:
            every = {str(c): float(p) for c, p in zip(classes, probabilities, strict=True)}
            print(json.dumps({"file": shown(path), "class": classes[best], "probability": float(probabilities[best]),
                              "probabilities": every}), flush=True)
        else:
            print(f"{shown(path)}: {classes[best]} (p={probabilities[best]:.2f})", flush=True)
        if args.show:
            print(as_text(image), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

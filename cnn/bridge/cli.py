"""cnn-export WEIGHTS.npz MODEL and cnn-import MODEL WEIGHTS.npz: one line on success, one line
naming the file and the problem otherwise (exit 2), and the install hint when the package a format
needs is missing (exit 3). The format is told by MODEL's suffix or by --format:

    .keras     Keras 3 (TensorFlow)            both ways
    .onnx      ONNX (the onnx package only)    both ways
    .tflite    TensorFlow Lite                 out
    a folder   TensorFlow SavedModel           out (--format savedmodel)
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .. import atomic, weights_file
from ..conventions import add_common_options, configure
from . import BridgeError, BridgeUnavailable

SUFFIXES = {".keras": "keras", ".onnx": "onnx", ".tflite": "tflite"}
FORMATS = ("keras", "onnx", "savedmodel", "tflite")


def model_format(path: str, given: str | None, formats=FORMATS) -> str:
    """The format `given`, or the one MODEL's suffix names; BridgeError when they disagree or neither says."""
    suffix = Path(path).suffix.lower()
    told = SUFFIXES.get(suffix)
    if given is None:
        if told is None or told not in formats:
            endings = ", ".join(s for s, f in SUFFIXES.items() if f in formats)
            raise BridgeError(f"{path}: the format is told by the suffix ({endings})"
                              f"{' or --format' if len(formats) > 3 else ''}; {suffix or 'no suffix'} is none of them")
        return told
    if given == "savedmodel" and suffix in SUFFIXES or given != "savedmodel" and told != given:
        wanted = "a folder name without a model suffix" if given == "savedmodel" else \
            next(s for s, f in SUFFIXES.items() if f == given)
        raise BridgeError(f"{path}: --format {given} writes {wanted}")
    return given


def export_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="cnn-export", description="Write a weights file's network as a Keras 3 "
                                     "model (.keras), an ONNX model (.onnx), a TensorFlow Lite model (.tflite) or a "
                                     "SavedModel folder: the same function, the same weights.")
    parser.add_argument("weights", metavar="WEIGHTS.npz")
    parser.add_argument("model", metavar="MODEL")
    parser.add_argument("--format", choices=FORMATS, help="the format to write (default: told by MODEL's suffix; "
                                                          "savedmodel writes a folder)")
    add_common_options(parser)
    args = parser.parse_args(argv)
    configure(args, "cnn-export")

    def work():
        kind = model_format(args.model, args.format)
        network = weights_file.load(args.weights)
        note = ""
        if kind == "onnx":
            from .onnx_out import save_onnx
            save_onnx(network, args.model)
        else:
            from .export import save_keras, save_savedmodel, save_tflite, to_keras
            if kind == "tflite" and network.dtype.name == "float64":
                network, note = network.astype("float32"), " (TensorFlow Lite computes in float32)"
            model, _ = to_keras(network)
            {"keras": save_keras, "savedmodel": save_savedmodel, "tflite": save_tflite}[kind](model, args.model)
        return f"wrote {args.model}: {len(network.layers)} layers, {sum(p.size for p in network.params.values()):,} " \
               f"parameters, {network.dtype.name}{note}"
    return _run("cnn-export", work)


def import_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="cnn-import", description="Write a Keras (.keras) or ONNX (.onnx) model's "
                                     "network as a weights file: one chain of convolutions, max-pooling, flatten, "
                                     "dense layers and activations on 28×28×1 images.")
    parser.add_argument("model", metavar="MODEL")
    parser.add_argument("weights", metavar="WEIGHTS.npz")
    add_common_options(parser)
    args = parser.parse_args(argv)
    configure(args, "cnn-import")

    def work():
        kind = model_format(args.model, None, ("keras", "onnx"))
        weights_file.check_save_target(args.weights)
        if kind == "onnx":
            from .onnx_in import load_onnx_network
            network = load_onnx_network(args.model)
        else:
            from .reading import load_network
            network = load_network(args.model)
        weights_file.save(network, args.weights)
        return f"wrote {args.weights}: {len(network.layers)} layers, {network.dtype.name}"
    return _run("cnn-import", work)


def _run(program: str, work) -> int:
    try:
        print(work())
    except BridgeUnavailable as error:
        print(f"{program}: {error}", file=sys.stderr)
        return 3
    except (BridgeError, weights_file.WeightsFileError, atomic.WriteError, ValueError, OSError) as error:
        print(f"{program}: error: {error}", file=sys.stderr)
        return 2
    return 0

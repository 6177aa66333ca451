"""cnn-export WEIGHTS.npz MODEL.keras and cnn-import MODEL.keras WEIGHTS.npz: one line on success,
one line naming the file and the problem otherwise (exit 2), and the install hint without TensorFlow."""
from __future__ import annotations

import argparse
import sys

from .. import atomic, io
from . import BridgeError, BridgeUnavailable


def export_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="cnn-export", description="Write a weights file's network as a Keras 3 "
                                     "model (channels-last, the same weights and dtype).")
    parser.add_argument("weights", metavar="WEIGHTS.npz")
    parser.add_argument("model", metavar="MODEL.keras")
    args = parser.parse_args(argv)

    def work():
        from .export import save_keras, to_keras
        network = io.load(args.weights)
        model, _ = to_keras(network)
        save_keras(model, args.model)
        return f"wrote {args.model}: {len(network.layers)} layers, {sum(p.size for p in network.params.values()):,} " \
               f"parameters, {network.dtype.name}"
    return _run("cnn-export", work)


def import_main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="cnn-import", description="Write a Keras model's network (a Sequential or "
                                     "plain chain of Conv2D, MaxPooling2D, Flatten, Dense and activations on 28×28×1 "
                                     "images) as a weights file.")
    parser.add_argument("model", metavar="MODEL.keras")
    parser.add_argument("weights", metavar="WEIGHTS.npz")
    args = parser.parse_args(argv)

    def work():
        from .reading import load_network
        io.check_save_target(args.weights)
        network = load_network(args.model)
        io.save(network, args.weights)
        return f"wrote {args.weights}: {len(network.layers)} layers, {network.dtype.name}"
    return _run("cnn-import", work)


def _run(program: str, work) -> int:
    try:
        print(work())
    except BridgeUnavailable as error:
        print(f"{program}: {error}", file=sys.stderr)
        return 3
    except (BridgeError, io.WeightsFileError, atomic.WriteError, ValueError, OSError) as error:
        print(f"{program}: error: {error}", file=sys.stderr)
        return 2
    return 0

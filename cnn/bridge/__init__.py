"""The Keras bridge: our networks as Keras 3 models and back, and training through Keras inside a
tf.distribute strategy. TensorFlow is optional (`pip install "cnn-studio[keras]"`): importing this
package imports neither Keras nor TensorFlow; `keras_module()` does, when the bridge is used.

    links         one parameter ↔ one Keras variable, with the layout change each way
    position_bias the registered Keras layer older exports wrote for the one bias per output position
    export        Network → Keras model, .keras, SavedModel, .tflite (cnn-export)
    reading       Keras model or .keras file → Network, refusing what it cannot read (cnn-import)
    keras_chain   a Keras model's layers as the one chain the importer reads (a bias branch as one)
    keras_convolutions  the readers of Conv2D (its padding and bias) and the pooling layers
    keras_layers  the reading state, and the readers of the other layers (Dense, BatchNormalization, …)
    onnx_out      Network → ONNX model (cnn-export M.onnx; the onnx package, no TensorFlow)
    onnx_in       .onnx file → Network (cnn-import M.onnx): the chain of nodes, one reader per operator
    onnx_file     the .onnx file and its graph checked within bounds; its input; its constants' values
    onnx_convolutions  the readers of Conv (and its bias), the pools and the global mean
    onnx_layers   the reading state, and the readers of the other nodes (Gemm, BatchNormalization, …)
    losses        our losses, written in TensorFlow
    engine        cnn-train --engine keras
"""
from __future__ import annotations

import contextlib
import logging
import os

from ..quiet import stderr_filtered

INSTALL_HINT = 'the Keras bridge needs TensorFlow: pip install "cnn-studio[keras]" (or pip install tensorflow)'


class BridgeError(ValueError):
    """A network or model the bridge cannot carry across; the message names the layer and the reason."""


class BridgeUnavailable(ImportError):
    """TensorFlow (with Keras 3) is not installed; str() says how to install it."""


def keras_module():
    """Keras 3 on TensorFlow, imported now; raises BridgeUnavailable with the install hint.
    TensorFlow's start-up lines (absl, oneDNN, CUDA) are written to stderr while it loads, whatever
    TF_CPP_MIN_LOG_LEVEL says: they are kept from the terminal unless TF_CPP_MIN_LOG_LEVEL is 0 or 1."""
    quiet = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "3").strip() not in ("0", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    try:
        with stderr_filtered() if quiet else contextlib.nullcontext():
            import keras
            import tensorflow  # noqa: F401  (the backend the bridge's training and gradients use)
    except ImportError:
        raise BridgeUnavailable(INSTALL_HINT) from None
    if quiet:
        logging.getLogger("absl").setLevel(logging.ERROR)   # absl's Python warnings (Keras' loader and saver)
    if int(keras.__version__.split(".")[0]) < 3:
        raise BridgeUnavailable(f"the Keras bridge needs Keras 3, not {keras.__version__}; {INSTALL_HINT}")
    return keras


def load_any(path):
    """The network in a weights file, or in a .keras or .onnx model through the bridge (the studio's
    File ▸ Open). Raises ValueError (weights_file.WeightsFileError or BridgeError) naming the file and the problem."""
    from .. import weights_file
    if str(path).lower().endswith(".onnx"):
        from .onnx_in import load_onnx_network
        try:
            return load_onnx_network(path)
        except BridgeUnavailable as error:
            raise BridgeError(f"{path}: {error}") from None
    if str(path).lower().endswith(".keras"):
        from .reading import load_network
        try:
            return load_network(path)
        except BridgeUnavailable as error:
            raise BridgeError(f"{path}: {error}") from None
    return weights_file.load(path)

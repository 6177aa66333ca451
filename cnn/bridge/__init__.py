"""The Keras bridge: our networks as Keras 3 models and back, and training through Keras inside a
tf.distribute strategy. TensorFlow is optional (`pip install "cnn-studio[keras]"`): importing this
package imports neither Keras nor TensorFlow; `keras_module()` does, when the bridge is used.

    links         one parameter ↔ one Keras variable, with the layout change each way
    position_bias the Keras layer for the original network's one bias per output position
    export        Network → Keras model (cnn-export)
    reading       Keras model or .keras file → Network, refusing what it cannot read (cnn-import)
    losses        our losses, written in TensorFlow
    engine        cnn-train --engine keras
"""
from __future__ import annotations

INSTALL_HINT = 'the Keras bridge needs TensorFlow: pip install "cnn-studio[keras]" (or pip install tensorflow)'


class BridgeError(ValueError):
    """A network or model the bridge cannot carry across; the message names the layer and the reason."""


class BridgeUnavailable(ImportError):
    """TensorFlow (with Keras 3) is not installed; str() says how to install it."""


def keras_module():
    """Keras 3 on TensorFlow, imported now; raises BridgeUnavailable with the install hint."""
    try:
        import os
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")      # TensorFlow's start-up chatter
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras
        import tensorflow  # noqa: F401  (the backend the bridge's training and gradients use)
    except ImportError:
        raise BridgeUnavailable(INSTALL_HINT) from None
    if int(keras.__version__.split(".")[0]) < 3:
        raise BridgeUnavailable(f"the Keras bridge needs Keras 3, not {keras.__version__}; {INSTALL_HINT}")
    return keras


def load_any(path):
    """The network in a weights file, or in a .keras model through the bridge (the studio's File ▸ Open).
    Raises ValueError (io.WeightsFileError or BridgeError) naming the file and the problem."""
    from .. import io
    if str(path).lower().endswith(".keras"):
        from .reading import load_network
        try:
            return load_network(path)
        except BridgeUnavailable as error:
            raise BridgeError(f"{path}: {error}") from None
    return io.load(path)

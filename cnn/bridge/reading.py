"""Keras model or .keras file → Network (cnn-import, and File ▸ Open in the studio).

Reads a Sequential or a plain chain of Conv2D (square kernels and strides; padding 'valid', 'same',
or a ZeroPadding2D of N on every side right before a 'valid' one), MaxPooling2D and AveragePooling2D
(square, stride = size, valid), GlobalAveragePooling2D, Dropout, BatchNormalization (over the last
axis), Flatten, Dense and activations (sigmoid, tanh, relu, softmax, linear; inline or as Activation
/ ReLU / Softmax layers) on 28×28×1 channels-last images (or 28×28 ones, a Reshape to 28×28×1 first),
in float32 or float64; a bias per position after a Conv2D as cnn-export writes it (a bias branch
of Keras' own layers, added) or as older exports did (our registered PositionBias). One reader per
Keras layer class (READERS); a new kind is one entry. Anything else is refused naming the layer
and the reason; every layer of a kind not read is named in the one refusal. The model's chain:
cnn.bridge.keras_chain; the readers, by group: cnn.bridge.keras_convolutions (the windows over an
image) and cnn.bridge.keras_layers (the others, and the reading state).

A BatchNormalization's ε (Keras' default 1e−3) goes into the running variance: the engine's ε is
1e−5, and (x − μ)/√(σ² + ε) = (x − μ)/√((σ² + ε − 1e−5) + 1e−5), so inference computes the same;
training on takes the engine's ε and momentum (0.1, Keras' 0.9; Keras' default is 0.99).

A .keras file is never given to Keras before its config.json has been read as
plain JSON and found to name only Keras' own classes and ours (no Lambda, no other module) and
to declare no more than the engine's limits, members and sizes included (cnn.bridge.declared);
Keras then loads it in safe mode without compiling: no code from the file runs.
"""
from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..arch import IMAGE_SHAPE
from ..files import open_regular
from ..network import Network
from .. import jsonfile
from . import BridgeError, declared, keras_convolutions, keras_layers, keras_module, links
from .declared import READ
from .keras_chain import BiasBranch, layer_chain
from .keras_layers import Reading

CODE = ("Lambda", "TFOpLambda", "__lambda__", "__function__")   # class names that carry code


def load_keras(path):
    """The model in a .keras file, loaded only after its config passed check_config."""
    path = Path(path)
    check_config(path)          # before TensorFlow is imported: a file that is no model is refused in a moment
    keras = keras_module()
    from . import position_bias  # noqa: F401  (registers PositionBias for Keras' loader)
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as error:  # Keras raises many kinds; each is a file it cannot read
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise BridgeError(f"{path}: Keras cannot load it ({first[:200]})") from None


def check_config(path: Path) -> None:
    """Refuse a .keras file before Keras sees it: a config.json that names a class outside Keras
    and this package, or any Lambda, or declares more than the engine's limits (layer sizes, shapes,
    parameters), or a member larger than such a model can need, or a zip bomb. Read as plain JSON
    and zip records: nothing imported, built or inflated beyond config.json's 4 MB."""
    def fail(message: str) -> BridgeError:
        return BridgeError(f"{path}: {message}")
    try:
        with open_regular(path, fail) as file, zipfile.ZipFile(file) as archive:
            info = archive.getinfo("config.json")
            if info.file_size > declared.MAX_CONFIG_BYTES:
                raise fail(f"config.json is larger than {declared.MAX_CONFIG_BYTES >> 20} MB")
            config = jsonfile.parse(archive.read(info), f"{path}: config.json", BridgeError)
            _check_classes(config, fail)
            parameters, layers = declared.check_model(config, fail)
            declared.check_members(archive, parameters, layers, fail)
    except KeyError:
        raise fail("not a Keras model file (no config.json)") from None
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, RuntimeError, OSError, EOFError) as error:
        raise fail(f"not a .keras archive ({error})") from None


def _check_classes(config, fail) -> None:
    """Every object the config names comes from Keras or is our PositionBias; no Lambda."""
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        if not isinstance(item, dict):
            continue
        stack.extend(item.values())
        if "class_name" not in item:
            continue
        name, module = item.get("class_name"), item.get("module")
        layer = (item.get("config") or {}).get("name") if isinstance(item.get("config"), dict) else None
        where = f"layer '{layer}' ({name})" if layer else str(name)
        if name in CODE:
            raise fail(f"{where}: layers that carry code are never loaded; {READ}")
        ours = item.get("registered_name") == declared.REGISTERED_NAME
        if not ours and not (module is None or module == "keras" or str(module).startswith("keras.")):
            raise fail(f"{where} comes from module '{module}', which is never imported; {READ}")


def load_network(path) -> Network:
    """The network of a .keras file, or BridgeError naming the file, the layer and the reason."""
    try:
        return from_keras(load_keras(path))[0]
    except BridgeError as error:
        message = str(error)
        raise BridgeError(message if message.startswith(str(path)) else f"{path}: {message}") from None


READERS = {   # Keras layer class (exactly: no subclass) → reader(layer, reading, refuse); a new kind is one entry
    "Conv2D": keras_convolutions.conv,
    "ZeroPadding2D": keras_convolutions.zero_padding,
    "MaxPooling2D": keras_convolutions.maxpool,
    "AveragePooling2D": keras_convolutions.avgpool,
    "GlobalAveragePooling2D": keras_convolutions.global_avgpool,
    "Dropout": keras_layers.dropout,
    "BatchNormalization": keras_layers.batchnorm,
    "Reshape": keras_layers.reshape,
    "Flatten": keras_layers.flatten,
    "Dense": keras_layers.dense,
    "Activation": lambda layer, reading, refuse: keras_layers.read_activation(layer.activation, reading, refuse),
    "ReLU": keras_layers.relu,
    "Softmax": keras_layers.softmax,
}


def from_keras(model) -> tuple[Network, list[links.Link]]:
    """Our network computing what `model` computes, and the links between their parameters."""
    keras = keras_module()
    from .position_bias import PositionBias
    readers = {getattr(keras.layers, name): reader for name, reader in READERS.items()}
    readers.update({PositionBias: keras_convolutions.bias_alone, BiasBranch: keras_convolutions.bias_alone})
    _refuse_unknown(model, keras, readers)
    reading = Reading(layer_chain(model, keras), _input(model), _dtype(model))
    while reading.position < len(reading.chain):
        layer = reading.chain[reading.position]
        reading.position += 1

        def refuse(reason, layer=layer):
            return BridgeError(f"layer '{layer.name}' ({type(layer).__name__}): {reason}")
        readers[type(layer)](layer, reading, refuse)
    layers, linked, values = reading.layers, reading.linked, reading.values
    if not layers:
        raise BridgeError("the model has no layers")
    network = Network(layers)
    values.update(links.keras_values(linked))
    network.set_params(values)
    network.set_buffers({**network.buffers, **reading.buffers})
    return network, linked


def _refuse_unknown(model, keras, readers) -> None:
    """Every layer of a kind no reader reads, named in one line (the bias branch's parts aside)."""
    branch = (keras.layers.Add, keras.layers.Rescaling, keras.layers.InputLayer)
    unknown = [layer for layer in getattr(model, "layers", []) if type(layer) not in readers
               and not isinstance(layer, branch)]
    if unknown:
        named = ", ".join(f"'{layer.name}' ({type(layer).__name__})" for layer in unknown)
        raise BridgeError(f"layer{'s' if len(unknown) > 1 else ''} {named}: not supported; {READ}")


def _input(model) -> tuple:
    """Ours (1, 28, 28) for a 28×28×1 input, or a 28×28 one: with one channel the values are the same."""
    shape = tuple(model.inputs[0].shape)
    c, h, w = IMAGE_SHAPE
    if shape[1:] not in ((h, w, c), (h, w)):
        raise BridgeError(f"the input is {'×'.join(str(d) for d in shape[1:])}: the bridge reads {h}×{w}×{c} images "
                          "(height × width × channels, channels last)")
    return IMAGE_SHAPE


def _dtype(model) -> str:
    kinds = {np.dtype(variable.dtype).name for variable in model.weights
             if np.dtype(variable.dtype).kind == "f"} or {"float32"}   # a Dropout's seed state is an integer
    if len(kinds) > 1:
        raise BridgeError(f"the model mixes {sorted(kinds)}; the engine computes in one of float32 and float64")
    kind = kinds.pop()
    if kind not in ("float32", "float64"):
        raise BridgeError(f"the model's weights are {kind}; the engine computes in float32 or float64")
    return kind

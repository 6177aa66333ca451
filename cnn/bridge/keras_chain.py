"""A Keras model's layers as the one chain the importer reads, from its one input to its one output
(a Sequential's layers; a functional model's, followed back from the output), InputLayer aside; the
bias branch cnn-export writes for a bias per position (Add(convolution, Reshape(Dense(
GlobalAveragePooling2D(Rescaling(0)(input)))))) comes as one BiasBranch. Anything else is refused."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import BridgeError


def layer_chain(model, keras) -> list:
    """The model's layers in order, InputLayer aside (the bias branch cnn-export writes as one
    BiasBranch); refuses anything but a single chain."""
    if not isinstance(model, keras.Model):
        raise BridgeError(f"not a Keras model but a {type(model).__name__}")
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise BridgeError(f"the model has {len(model.inputs)} inputs and {len(model.outputs)} outputs; "
                          "the bridge reads one chain of layers from one input to one output")
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if isinstance(model, keras.Sequential):
        return layers
    chain, seen, tensor, start = [], set(), model.outputs[0], model.inputs[0]
    while tensor is not start and len(chain) <= len(layers):
        layer = _producer(tensor)
        if type(layer) is keras.layers.Add:
            tensor, branch = _bias_branch(layer, start, keras)
            seen.update(id(part) for part in branch.layers)
            chain.append(branch)
        else:
            inputs = _inputs(layer)
            if len(inputs) != 1:
                raise BridgeError(f"layer '{layer.name}' ({type(layer).__name__}): fed by {len(inputs)} layers; "
                                  "the bridge reads one chain of layers")
            chain.append(layer)
            tensor = inputs[0]
        seen.add(id(layer))
    aside = [layer for layer in layers if id(layer) not in seen]
    if aside or tensor is not start:
        where = f"layer '{aside[0].name}' ({type(aside[0]).__name__})" if aside else "the model"
        raise BridgeError(f"{where}: not on the one chain of layers from the input to the output; "
                          "the bridge reads one chain of layers")
    return chain[::-1]


@dataclass(frozen=True)
class BiasBranch:
    """The position biases cnn-export writes with standard layers: Add(convolution, Reshape(Dense(
    GlobalAveragePooling2D(Rescaling(0)(input))))), which adds the Dense's bias, (H', W', D) flattened."""
    name: str
    dense: object
    shape: tuple                  # (H', W', D)
    layers: tuple


def _producer(tensor):
    try:
        return tensor._keras_history.operation
    except AttributeError:
        raise BridgeError("a tensor of the model comes from no layer; the bridge reads one chain of layers") from None


def _inputs(layer) -> list:
    try:
        inputs = layer.input
    except (AttributeError, ValueError):   # a layer called more than once has no single input
        raise BridgeError(f"layer '{layer.name}' ({type(layer).__name__}): called more than once; the bridge reads "
                          "one chain of layers") from None
    return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]


def _bias_branch(add, start, keras) -> tuple:
    """(the Add's other input, BiasBranch) when one of its two inputs is the bias branch."""
    inputs = _inputs(add)
    expected = (keras.layers.Reshape, keras.layers.Dense, keras.layers.GlobalAveragePooling2D, keras.layers.Rescaling)
    for main, side in ((inputs[0], inputs[-1]), (inputs[-1], inputs[0])):
        parts, tensor = [], side
        for kind in expected:
            layer = _producer(tensor)
            if type(layer) is not kind or len(_inputs(layer)) != 1:
                break
            parts.append(layer)
            tensor = _inputs(layer)[0]
        if len(inputs) != 2 or len(parts) != 4 or tensor is not start:
            continue
        reshape, dense, pool, zero = parts
        shape = tuple(reshape.target_shape)
        if float(np.max(np.abs(zero.scale))) == 0.0 and float(np.max(np.abs(zero.offset))) == 0.0 \
                and dense.use_bias and getattr(dense.activation, "__name__", None) == "linear" \
                and dense.units == math.prod(shape) and len(shape) == 3 and not pool.keepdims:
            return main, BiasBranch(add.name, dense, shape, (add, *parts))
    raise BridgeError(f"layer '{add.name}' (Add): only the bias branch cnn-export writes (Rescaling(0) → "
                      "GlobalAveragePooling2D → Dense → Reshape, added to a Conv2D without a bias) is read")

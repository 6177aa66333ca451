"""The Keras importer's readers of the layers that slide a window over an image, each reader(layer,
reading, refuse): Conv2D (square kernels and strides; padding 'valid', 'same', or a ZeroPadding2D of
N on every side right before a 'valid' one; its bias per position as cnn-export writes it, a bias
branch, or as older exports did, a PositionBias), MaxPooling2D and AveragePooling2D (square, stride
= size, valid) and GlobalAveragePooling2D, on channels-last images. The reading state and the other
readers: cnn.bridge.keras_layers."""
from __future__ import annotations

import numpy as np

from ..convolution import Convolutional
from ..pooling import AvgPool2D, GlobalAvgPool, MaxPool2D
from . import links
from .keras_chain import BiasBranch
from .keras_layers import Reading, channels_last, read_activation


def conv(layer, reading: Reading, refuse) -> None:
    k, stride = _checked_conv(layer, reading.shape, refuse)
    padding, reading.padding = reading.padding or layer.padding, 0
    following, index = reading.following(), len(reading.layers)
    per_position = not layer.use_bias and type(following).__name__ in ("PositionBias", "BiasBranch")
    try:
        conv = Convolutional(reading.shape, k, layer.filters, "position" if per_position else "kernel", "normal",
                             rng=0, dtype=reading.dtype, stride=stride, padding=padding)
    except ValueError as error:
        raise refuse(str(error)) from None
    reading.add(conv)
    reading.linked.append(links.conv_kernels(f"{index}.kernels", layer.kernel))
    if layer.use_bias:
        reading.linked.append(links.same(f"{index}.biases", layer.bias))
    elif isinstance(following, BiasBranch):
        if following.shape != channels_last(conv.output_shape()):
            raise refuse(f"its bias branch '{following.name}' is {following.shape}, not the output's "
                         f"{channels_last(conv.output_shape())}")
        reading.linked.append(links.flat_position_biases(f"{index}.biases", following.dense.bias, following.shape))
    elif per_position:
        reading.linked.append(links.position_biases(f"{index}.biases", following.bias))
    else:
        reading.values[f"{index}.biases"] = np.zeros(layer.filters, dtype=reading.dtype)
    reading.position += per_position
    read_activation(layer.activation, reading, refuse)


def bias_alone(layer, reading: Reading, refuse) -> None:
    kind = "a bias branch" if isinstance(layer, BiasBranch) else "a PositionBias"
    raise refuse(f"{kind} is read only right after a Conv2D without a bias of its own")


def zero_padding(layer, reading: Reading, refuse) -> None:
    sides = {int(n) for pair in layer.padding for n in pair}
    following = reading.following()
    if len(sides) != 1 or type(following).__name__ != "Conv2D" or following.padding != "valid" \
            or layer.data_format != "channels_last":
        raise refuse(f"padding {tuple(map(tuple, layer.padding))}: only the same N on every side, right before a "
                     "Conv2D with padding 'valid', is read")
    n = sides.pop()
    if n >= following.kernel_size[0]:
        raise refuse(f"padding {n}: the engine pads a {following.kernel_size[0]}×{following.kernel_size[0]} kernel's "
                     f"input by at most {following.kernel_size[0] - 1}")
    reading.padding = n


def maxpool(layer, reading: Reading, refuse) -> None:
    reading.add(MaxPool2D(reading.shape, _checked_pool(layer, reading.shape, refuse), dtype=reading.dtype))


def avgpool(layer, reading: Reading, refuse) -> None:
    reading.add(AvgPool2D(reading.shape, _checked_pool(layer, reading.shape, refuse), dtype=reading.dtype))


def global_avgpool(layer, reading: Reading, refuse) -> None:
    if len(reading.shape) != 3 or layer.keepdims or layer.data_format != "channels_last":
        raise refuse("only the average of each channel of a channels-last image, without keepdims, is read")
    reading.add(GlobalAvgPool(reading.shape, dtype=reading.dtype))


def _checked_conv(layer, shape, refuse) -> int:
    if len(shape) != 3:
        raise refuse(f"needs an image but gets a {shape[0]}-vector")
    if layer.padding not in ("valid", "same"):
        raise refuse(f"padding '{layer.padding}': only 'valid' and 'same' are read")
    strides = tuple(layer.strides)
    if strides[0] != strides[1]:
        raise refuse(f"strides {strides}: only the same stride down and across is read")
    if tuple(layer.dilation_rate) != (1, 1):
        raise refuse(f"dilation {tuple(layer.dilation_rate)}: only 1 is read")
    if layer.data_format != "channels_last":
        raise refuse(f"data_format '{layer.data_format}': only channels_last is read")
    if getattr(layer, "groups", 1) != 1:
        raise refuse(f"groups {layer.groups}: only 1 is read")
    k = tuple(layer.kernel_size)
    if k[0] != k[1]:
        raise refuse(f"kernel {k[0]}×{k[1]}: only square kernels are read")
    if k[0] > min(shape[1:]) and layer.padding == "valid":
        raise refuse(f"a {k[0]}×{k[0]} kernel does not fit the {shape[1]}×{shape[2]} input")
    return k[0], strides[0]


def _checked_pool(layer, shape, refuse) -> int:
    if len(shape) != 3:
        raise refuse(f"needs an image but gets a {shape[0]}-vector")
    size, strides = tuple(layer.pool_size), tuple(layer.strides or layer.pool_size)
    if size[0] != size[1]:
        raise refuse(f"pool size {size[0]}×{size[1]}: only square windows are read")
    if strides != size:
        raise refuse(f"strides {strides} with pool size {size}: only strides equal to the pool size are read")
    if size[0] > min(shape[1:]):
        raise refuse(f"a {size[0]}×{size[0]} window does not fit the {shape[1]}×{shape[2]} input")
    if layer.padding != "valid":
        raise refuse(f"padding '{layer.padding}': only 'valid' is read")
    if layer.data_format != "channels_last":
        raise refuse(f"data_format '{layer.data_format}': only channels_last is read")
    return size[0]

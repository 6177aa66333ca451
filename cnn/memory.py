"""What a forward pass holds per sample, from the network's shapes alone, and the chunks that keep a
batched pass (evaluation, occlusion) under CHUNK_BYTES however wide the network.

A forward pass keeps every layer's output (Network.forward records them for the backward pass); a
convolution also holds its input's k×k windows as columns (C·k²·Ho·W values in the training's wide
layout, cnn/fast/conv.py; Ho·Wo in the layer's own) and its products before the bias is added. A
reshape is a view. The backward pass holds as much again (a gradient per layer, the columns'). A
`conv 1024 3x3` sample thus holds ~22 MB in float64: the 200 test images at once were 4.4 GB.

A training step holds both: a batch past TRAINING_BYTES is taken in chunks that fit (cnn.step.in_chunks),
and a network whose one sample does not fit is refused up front (sample_problem).
"""
from __future__ import annotations

import math

CHUNK_BYTES = 256 << 20        # a chunk of a batched pass holds about this at most (500 images of every preset fit)
TRAINING_BYTES = 500 * 10**6   # a training step's chunk (forward and backward) holds about this at most


def layer_values(kind: str, input_shape: tuple, output_shape: tuple, kernel: int = 0) -> int:
    """The values one sample's forward pass holds for one layer ("conv", "maxpool", "dense",
    "flatten", or an activation)."""
    if kind == "flatten":
        return 0
    output = math.prod(output_shape)
    if kind == "conv":
        channels, width = input_shape[0], output_shape[2] + kernel - 1   # the padded width at stride 1
        return channels * kernel * kernel * output_shape[1] * width + 2 * output   # columns, products, output
    return output


def network_values(network) -> int:
    """The values one sample's forward pass through `network` (a cnn.network.Network) holds."""
    from .convolution import Convolutional
    from .reshape import Reshape
    total = math.prod(network.input_shape)
    for index, layer in enumerate(network.layers):
        kind = "conv" if isinstance(layer, Convolutional) else "flatten" if isinstance(layer, Reshape) else "other"
        total += layer_values(kind, network.shapes[index], network.shapes[index + 1],
                              getattr(layer, "kernel_size", 0))
    return total


def rows_values(rows, input_shape: tuple) -> int:
    """The same from cnn.arch's plan rows (a flatten is implied before the first dense)."""
    return math.prod(input_shape) + sum(layer_values(row.spec.kind, row.input_shape, row.output_shape, row.spec.kernel)
                                        for row in rows)


def chunk_size(network, most: int) -> int:
    """How many samples a batched forward pass takes at once: `most`, or fewer so that a chunk
    stays under CHUNK_BYTES (at least one)."""
    per_sample = network_values(network) * network.dtype.itemsize
    return max(1, min(most, CHUNK_BYTES // max(per_sample, 1)))


def training_samples(network) -> int:
    """How many samples a training step takes at once under TRAINING_BYTES (every preset's batch of 128
    fits; a `conv 1024 3x3` takes 14), at least one."""
    per_sample = 2 * network_values(network) * network.dtype.itemsize
    return max(1, TRAINING_BYTES // max(per_sample, 1))


def size_text(size: float) -> str:
    """'22 MB', '1.4 GB'."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if size >= 10 or unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1000
    return ""


def sample_problem(rows, input_shape: tuple, itemsize: int) -> str | None:
    """Why a network cannot take even one training sample (its estimate past TRAINING_BYTES), or None."""
    need = 2 * rows_values(rows, input_shape) * itemsize
    if need <= TRAINING_BYTES:
        return None
    return (f"one sample's training pass would hold about {size_text(need)} (every layer's output and gradient), "
            f"more than the {size_text(TRAINING_BYTES)} allowed; make the layers fewer or smaller")

"""Why the network decided: which parts of one input image move a class's score.

Three maps over the input, each for any class c (not only the predicted one):

- saliency: |∂y_c/∂X|, the score's sensitivity to each pixel (one backward pass);
- Grad-CAM: the feature maps A_k of a convolution weighted by how much the score rises with each
  (α_k = mean over positions of ∂y_c/∂A_k), summed and clipped at 0, brought back to the input's
  pixels through the layers' receptive-field centres;
- occlusion: the drop in the class's probability when a patch of the image is greyed out, slid
  over every position.

`x` is one sample, (1, C, H, W). These run forward and backward passes on `network`, which
overwrite its per-layer records and parameter gradients: call them between training steps.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .activations import ReLU, Sigmoid, Softmax, Tanh
from .batchnorm import BatchNorm
from .convolution import Convolutional
from .dropout import Dropout
from .losses import Loss
from .memory import chunk_size
from .network import Network
from .pooling import AvgPool2D, MaxPool2D

ACTIVATIONS = (ReLU, Sigmoid, Tanh)


def score_gradient(network: Network, x: np.ndarray, class_index: int) -> np.ndarray:
    """∂y_c/∂X for one sample: the backward pass of a one-hot output gradient. (1, *input_shape)."""
    output = network.forward(x)
    if not 0 <= class_index < output.shape[1]:
        raise ValueError(f"class index {class_index} is not one of the network's {output.shape[1]} outputs")
    seed = np.zeros_like(output)
    seed[0, class_index] = 1
    return network.backward(seed)


def saliency(network: Network, x: np.ndarray, class_index: int) -> np.ndarray:
    """|∂y_c/∂X| (the input's shape without the batch axis, e.g. (1, 28, 28)).

    y_c is the network's own output for class c: the logit (before the softmax) for a network
    trained with softmax cross-entropy, the sigmoid output for the original network.

    How it differs from ∂E/∂X, the gradient of the loss the studio shows: E depends on the true
    label and on every output (for softmax cross-entropy ∂E/∂z_k = p_k − y*_k), so ∂E/∂X is the sum
    Σ_k (p_k − y*_k) ∂z_k/∂X: it mixes every class, needs a label, carries a sign (which way to
    move a pixel to lower E), and fades to zero when the network is confidently right. Saliency asks
    one class at a time, needs no label, and keeps only the size of the effect.
    """
    return np.abs(score_gradient(network, x, class_index)[0])


@dataclass(frozen=True)
class GradCam:
    layer: int               # the convolution whose feature maps are weighed
    maps_layer: int          # the layer whose output A is used: the convolution's activation, if one follows
    weights: np.ndarray      # α_k, (D,)
    cam: np.ndarray          # ReLU(Σ_k α_k A_k), (Ho, Wo)
    image: np.ndarray        # cam at the input's pixels, (H, W)


def convolutions(network: Network) -> list[int]:
    """Indices of the convolutional layers."""
    return [i for i, layer in enumerate(network.layers) if isinstance(layer, Convolutional)]


def grad_cam(network: Network, x: np.ndarray, class_index: int, layer: int | None = None) -> GradCam:
    """Grad-CAM (Selvaraju et al. 2017) on convolution `layer` (default: the last one).

    A_k is the convolution's output after the activation that follows it, past a batch normalization
    or dropout between them (as a ReLU network's feature maps are taken), or the convolution's output
    when none follows."""
    candidates = convolutions(network)
    if not candidates:
        raise ValueError("the network has no convolutional layer for Grad-CAM")
    layer = candidates[-1] if layer is None else layer
    if layer not in candidates:
        raise ValueError(f"layer {layer} is not a convolution; the convolutions are {candidates}")
    maps_layer = layer
    for later in range(layer + 1, len(network.layers)):
        if isinstance(network.layers[later], ACTIVATIONS):
            maps_layer = later
        if not isinstance(network.layers[later], (BatchNorm, Dropout)):
            break
    score_gradient(network, x, class_index)
    maps = network.outputs[maps_layer][0]                                     # A, (D, Ho, Wo)
    above = network.input_gradients[maps_layer + 1][0] if maps_layer + 1 < len(network.layers) else None
    if above is None:
        raise ValueError("Grad-CAM needs layers after the convolution")
    weights = above.mean(axis=(1, 2))                                        # α_k
    cam = np.maximum(np.tensordot(weights, maps, axes=1), 0)
    rows, cols = receptive_centres(network, maps_layer)
    height, width = network.input_shape[1:]
    image = interpolate_grid(cam, rows, cols, height, width)
    return GradCam(layer, maps_layer, np.array(weights, dtype=np.float64), np.array(cam, dtype=np.float64), image)


def receptive_centres(network: Network, layer: int) -> tuple[np.ndarray, np.ndarray]:
    """Input-pixel coordinates of the centres of layer `layer`'s output rows and columns: a k×k
    convolution's output r (stride s, P zeros before) is centred on its input s·r + (k−1)/2 − P, a p×p
    pool's on p·r + (p−1)/2; batch normalization, dropout and activations keep the positions."""
    height, width = network.shapes[layer + 1][1:]
    rows, cols = np.arange(height, dtype=np.float64), np.arange(width, dtype=np.float64)
    for current in reversed(network.layers[:layer + 1]):
        if isinstance(current, Convolutional):
            s, half, ((top, _), (left, _)) = current.stride, (current.kernel_size - 1) / 2, current.pads
            rows, cols = s * rows + half - top, s * cols + half - left
        elif isinstance(current, (MaxPool2D, AvgPool2D)):
            p = current.pool_size
            rows, cols = p * rows + (p - 1) / 2, p * cols + (p - 1) / 2
        elif not isinstance(current, (*ACTIVATIONS, Softmax, BatchNorm, Dropout)):
            raise ValueError(f"cannot place {type(current).__name__}'s output on the input's pixels")
    return rows, cols


def interpolate_grid(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, height: int, width: int) -> np.ndarray:
    """Values given at pixel coordinates (rows × cols) → (height, width) by bilinear interpolation,
    held constant beyond the outermost centres."""
    across = np.array([np.interp(np.arange(width), cols, line) for line in values])          # (len(rows), W)
    return np.array([np.interp(np.arange(height), rows, column) for column in across.T]).T   # (H, W)


@dataclass(frozen=True)
class Occlusion:
    patch: int
    fill: float
    probability: float       # p_c of the image as it is
    drops: np.ndarray        # (H − patch + 1, W − patch + 1): p_c − p_c(patch at that top-left corner)
    image: np.ndarray        # (H, W): each pixel's mean drop over the patches that cover it


def occlusion(network: Network, x: np.ndarray, class_index: int, loss: Loss, patch: int = 5, fill: float = 0.5,
              batch_size: int | None = None) -> Occlusion:
    """The drop in the probability of class c when a patch×patch square of the image is set to `fill`
    (0.5: grey; 0: the background), for every position of the square (stride 1). The covered images
    go through in chunks of `batch_size`: by default 256, or fewer for a wide network (cnn.memory)."""
    batch_size = batch_size or chunk_size(network, 256)
    x = np.asarray(x)
    _, channels, height, width = x.shape
    if not (isinstance(patch, (int, np.integer)) and 1 <= patch <= min(height, width)):
        raise ValueError(f"the patch must be 1 to {min(height, width)} pixels, not {patch!r}")
    base = float(loss.probabilities(network.forward(x))[0, class_index])
    positions = [(r, c) for r in range(height - patch + 1) for c in range(width - patch + 1)]
    probabilities = []
    for start in range(0, len(positions), batch_size):
        chunk = positions[start:start + batch_size]
        covered = np.repeat(x, len(chunk), axis=0)
        for n, (r, c) in enumerate(chunk):
            covered[n, :, r:r + patch, c:c + patch] = fill
        probabilities.append(loss.probabilities(network.forward(covered))[:, class_index])
    drops = base - np.concatenate(probabilities).astype(np.float64).reshape(height - patch + 1, width - patch + 1)
    total, count = np.zeros((height, width)), np.zeros((height, width))
    for (r, c), drop in zip(positions, drops.reshape(-1), strict=True):
        total[r:r + patch, c:c + patch] += drop
        count[r:r + patch, c:c + patch] += 1
    return Occlusion(int(patch), float(fill), base, drops, total / count)

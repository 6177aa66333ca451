"""Named experiments: the network, the data selection and the hyper-parameters that go together."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import arch
from .activations import ReLU, Sigmoid
from .convolution import Convolutional
from .dense import Dense
from .init import as_generator
from .network import Network
from .pooling import MaxPool2D
from .reshape import Reshape


def original_network(classes: int = 2, seed=0, dtype="float64") -> Network:
    """Conv((1,28,28), k=3, d=5) → Sigmoid → Reshape(3380) → Dense(3380,100) → Sigmoid → Dense(100,K) → Sigmoid."""
    rng = as_generator(seed)
    return Network([
        Convolutional((1, 28, 28), 3, 5, rng=rng, dtype=dtype),
        Sigmoid(dtype=dtype),
        Reshape((5, 26, 26), (5 * 26 * 26,), dtype=dtype),
        Dense(5 * 26 * 26, 100, rng=rng, dtype=dtype),
        Sigmoid(dtype=dtype),
        Dense(100, classes, rng=rng, dtype=dtype),
        Sigmoid(dtype=dtype),
    ])


def digits_network(classes: int = 10, seed=0, dtype="float32") -> Network:
    """Conv 8@3×3 → ReLU → MaxPool 2 → Conv 16@3×3 → ReLU → MaxPool 2 → Dense(400, 64) → ReLU →
    Dense(64, K) → logits."""
    rng = as_generator(seed)
    return Network([
        Convolutional((1, 28, 28), 3, 8, bias_mode="kernel", init="he", rng=rng, dtype=dtype),
        ReLU(dtype=dtype),
        MaxPool2D((8, 26, 26), 2, dtype=dtype),
        Convolutional((8, 13, 13), 3, 16, bias_mode="kernel", init="he", rng=rng, dtype=dtype),
        ReLU(dtype=dtype),
        MaxPool2D((16, 11, 11), 2, dtype=dtype),
        Reshape((16, 5, 5), (400,), dtype=dtype),
        Dense(400, 64, init="he", rng=rng, dtype=dtype),
        ReLU(dtype=dtype),
        Dense(64, classes, init="xavier", rng=rng, dtype=dtype),
    ])


MODERN = ("conv 16 3x3 pad=same bias=kernel init=he, batchnorm, relu, maxpool 2, "
          "conv 32 3x3 pad=same bias=kernel init=he, batchnorm, relu, maxpool 2, "
          "conv 64 3x3 bias=kernel init=he, batchnorm, relu, "
          "dense 128 init=he, batchnorm, relu, dropout 0.3, dense {classes} init=xavier")


def modern_network(classes: int = 10, seed=0, dtype="float32") -> Network:
    """Three convolutions (16, 32, 64 kernels of 3×3; the first two padded to keep the size), each followed
    by batch normalization and ReLU, max pooling after the first two (28×28 → 14×14 → 7×7 → 5×5), then
    Dense(1600, 128) → batch normalization → ReLU → dropout 0.3 → Dense(128, K) → logits."""
    return arch.build(arch.parse(MODERN.format(classes=classes)), classes, seed, dtype)


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    build: Callable[..., Network]   # build(classes, seed, dtype); the loss follows its last layer (session.loss_for)
    classes: tuple[int, ...]
    limit: int | None               # images per class; None: all
    epochs: int
    learning_rate: float
    batch_size: int
    momentum: float
    dtype: str
    reshuffle: bool                 # reshuffle the training set every epoch
    lr_decay: float = 1.0           # epoch e runs at learning_rate × lr_decay^(e−1)
    shift: int = 0                  # augmentation: training images moved by −shift…+shift pixels each way
    optimizer: str = "sgd"          # cnn.optim.OPTIMIZERS' name
    weight_decay: float = 0.0       # λ (cnn.optimizer)


PRESETS = {preset.name: preset for preset in (
    Preset("original", "the blog post's experiment: digits 0 and 1, 100 images each, per-sample SGD",
           original_network, (0, 1), 100, 20, 0.1, 1, 0.0, "float64", False),
    Preset("digits", "all ten digits, the full training set, mini-batch SGD with momentum, images moved "
           "by up to one pixel", digits_network, tuple(range(10)), None, 7, 0.08, 128, 0.9,
           "float32", True, 0.65, 1),
    Preset("modern", "all ten digits, padded convolutions with batch normalization, dropout, Adam with a decaying "
           "step, images moved by up to one pixel", modern_network, tuple(range(10)), None, 6, 0.003, 128, 0.0,
           "float32", True, 0.6, 1, "adam"),
)}

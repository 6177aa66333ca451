"""Layer health, measured between two training steps: how far each step moves each parameter
tensor, and how many sigmoids are saturated and ReLUs dead. Qt-free; the worker calls measure()
right after a step, while the network still holds that step's activations and update.

The engine's cnn/health.py (the CLI's all-zero-gradient warning) may overlap with the
all-zero rule in app/model/health_watch.py; one of the two can go once both exist.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

import numpy as np

from cnn.activations import ReLU, Sigmoid
from cnn.network import Network
from cnn.optim import SGD, Adam, Optimizer
from cnn.train import StepRecord

SATURATION = 0.01   # a sigmoid output within this of 0 or 1 is saturated: σ' = σ(1−σ) < 0.0099, 4% of its peak


@dataclass(frozen=True)
class HealthRecord:
    """Measured right after step `global_step`."""
    epoch: int
    step: int
    steps_per_epoch: int
    global_step: int
    update_ratios: Mapping[str, float]   # parameter name → ‖ΔW‖/‖W‖ of that step (NaN where ‖W‖ = 0)
    saturated: Mapping[int, float]       # Sigmoid layer index → share of its outputs saturated, in [0, 1]
    stuck: Mapping[int, float]           # Sigmoid layer index → share of its outputs exactly 0 or 1 (σ′ = 0)
    dead: Mapping[int, float]            # ReLU layer index → share of its units (conv: channels) zero for every sample

    @property
    def x(self) -> float:
        """Position in epochs, as the plots count."""
        return self.epoch - 1 + self.step / self.steps_per_epoch


def saturated_share(output: np.ndarray) -> float:
    """The share of sigmoid outputs within SATURATION of 0 or 1."""
    return float(np.count_nonzero(np.abs(output - 0.5) > 0.5 - SATURATION)) / output.size


def stuck_share(output: np.ndarray) -> float:
    """The share of sigmoid outputs that are exactly 0 or 1: σ′ = σ(1−σ) is exactly zero there."""
    return float(np.count_nonzero((output == 0) | (output == 1))) / output.size


def dead_share(output: np.ndarray) -> float:
    """The share of ReLU units that output zero for all N samples of the batch. (N, units) dense
    outputs: each unit on its own. (N, C, H, W) convolution outputs: a unit is a channel (one filter,
    its weights shared by every position), dead when zero at every position of every sample; a
    position alone is not a unit (a digit's blank border gives ReLU(bias) = 0 there for every image,
    and counting those called ~45% of a healthy network dead). With a batch of one: zero for that sample."""
    samples = len(output)
    fired = output.reshape(samples, output.shape[1], -1).any(axis=(0, 2)) if output.ndim > 2 \
        else output.reshape(samples, -1).any(axis=0)
    return 1.0 - np.count_nonzero(fired) / fired.size


def norm(array: np.ndarray) -> float:
    """‖array‖₂ by numpy's own loops: np.linalg.norm's BLAS call (dnrm2, waking OpenBLAS's threads) took
    5.8 ms on the original network's 2.7 MB of dense weights, this 0.3 ms (cnn/train.py norms so too)."""
    flat = array.reshape(-1)
    return math.sqrt(float(np.einsum("i,i->", flat, flat)))


def update_ratios(network: Network, optimizer: Optimizer, grad_norms: Mapping[str, float]) -> dict[str, float]:
    """‖ΔW‖/‖W‖ of the step just taken, W after it, at the step's rate η (the schedule's current one).
    Plain SGD moved W by −η·∂E/∂W, so ‖ΔW‖ is η times the norm the step recorded; with momentum W moved by
    the velocity; Adam's change is recomputed from its moments. Weight decay λ is part of the change: with
    plain SGD ΔW = −η(∂E/∂W + λW_before), with Adam −ηλW_before besides the moments' step; W_before follows
    from W after."""
    ratios, lr, decay = {}, optimizer.current_learning_rate, optimizer.weight_decay
    for name, param in network.params.items():
        change = optimizer.last_change(name) if isinstance(optimizer, Adam) else None
        if change is not None:
            change = norm(param - (param - change) / (1 - lr * decay)) if decay else norm(change)
        elif isinstance(optimizer, SGD) and optimizer.momentum and name in optimizer.velocity:
            change = norm(optimizer.velocity[name])
        elif decay:
            change = norm(param - (param + lr * network.grads[name]) / (1 - lr * decay))
        else:
            change = lr * grad_norms[name]
        size = norm(param)
        ratios[name] = change / size if size > 0 else math.nan
    return ratios


def measure(network: Network, optimizer: Optimizer, record: StepRecord) -> HealthRecord:
    """Right after `record`'s step (its activations are still the network's, for the whole batch
    also when the step ran in halves; for its last chunk when a batch too large for memory ran in
    chunks, cnn.memory.TRAINING_BYTES)."""
    sigmoids = [i for i, layer in enumerate(network.layers) if isinstance(layer, Sigmoid)]
    outputs = {i: network.batch_output(i) for i, layer in enumerate(network.layers)
               if isinstance(layer, (Sigmoid, ReLU))}
    saturated = {i: saturated_share(outputs[i]) for i in sigmoids}
    stuck = {i: stuck_share(outputs[i]) for i in sigmoids}
    dead = {i: dead_share(outputs[i]) for i, layer in enumerate(network.layers) if isinstance(layer, ReLU)}
    return HealthRecord(record.epoch, record.step, record.steps_per_epoch, record.global_step,
                        MappingProxyType(update_ratios(network, optimizer, record.grad_norms)),
                        MappingProxyType(saturated), MappingProxyType(stuck), MappingProxyType(dead))

"""A run: settings, data, network, loss and optimizer that belong together; used by the CLI and the studio."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import numpy as np

from . import arch
from .activations import Sigmoid, Softmax
from .checkpoint import Checkpoint, checkpoint_later
from .config import RunConfig
from .data import prepare
from .losses import Loss, get_loss
from .network import Network
from .optim import from_state, make_optimizer
from .presets import PRESETS
from .settings import DATA_AND_NETWORK
from .step import PlainStep, StepResult
from .train import EpochProgress, EpochRecord, train



def loss_for(network: Network) -> Loss:
    """The loss a network's last layer calls for: sigmoid outputs → binary cross-entropy,
    softmax → categorical cross-entropy, anything else is logits → fused softmax cross-entropy."""
    last = network.layers[-1]
    if isinstance(last, Sigmoid):
        return get_loss("binary_cross_entropy")
    if isinstance(last, Softmax):
        return get_loss("categorical_cross_entropy")
    return get_loss("softmax_cross_entropy")


def _check_fit(network: Network, image_shape: tuple, classes: tuple, weights: str) -> None:
    """Raises ValueError naming the weights and what to change when the network does not fit the data."""
    if network.input_shape != image_shape:
        raise ValueError(f"{weights}: the network takes inputs {network.input_shape}, but the images are "
                         f"{image_shape}; use weights made for {'×'.join(map(str, image_shape[1:]))} images")
    outputs = network.output_shape[0] if len(network.output_shape) == 1 else None
    if outputs != len(classes):
        raise ValueError(f"{weights}: the network has {outputs} outputs, but {len(classes)} classes are chosen "
                         f"({', '.join(map(str, classes))}); choose {outputs} classes, or weights trained on "
                         f"{len(classes)}")


def build_network(config: RunConfig, dtype: str | None = None) -> Network:
    """The network a run's settings describe: its architecture, or its preset's network."""
    dtype = dtype or config.dtype
    if config.architecture is None:
        return PRESETS[config.preset].build(len(config.classes), config.seed, dtype)
    return arch.build(arch.parse(config.architecture), len(config.classes), config.seed, dtype)


def with_architecture_of(config: RunConfig, network: Network) -> RunConfig:
    """`config` naming `network`'s architecture when it is not the preset's (weights loaded from a
    file), so that a run's settings say which network it trained."""
    if network.architecture() == PRESETS[config.preset].build(len(config.classes), 0, network.dtype).architecture():
        return config
    described = arch.describe(network)
    return config if described is None else config.with_changes(architecture=described)


class Session:
    def __init__(self, config: RunConfig, raw: dict, network: Network | None = None, source: str = "MNIST",
                 weights: str | None = None):
        """`weights`: the file `network` was loaded from, named when it does not fit the data."""
        config.validate()
        self.config = config
        self.preset = PRESETS[config.preset]
        dtype = network.dtype.name if network is not None else config.dtype
        self.dataset = prepare(raw, config.classes, config.limit, config.seed, dtype, source=source)
        self.network = network if network is not None else build_network(config, dtype)
        _check_fit(self.network, self.dataset.train.x.shape[1:], config.classes, weights or "the network")
        if network is not None and config.architecture is None:
            config = self.config = with_architecture_of(config, network)
        self.loss = loss_for(self.network)
        self._set_training(config)
        self.epochs_done = 0
        self.progress = EpochProgress()   # how far epoch epochs_done + 1 has come (train() keeps it)

    def _set_training(self, config: RunConfig) -> None:
        config.check_batch_size(len(self.dataset.train.x))
        self.config = config
        self.optimizer = make_optimizer(config.optimizer, config.learning_rate, config.momentum, config.lr_decay,
                                        config.weight_decay)

    @classmethod
    def from_checkpoint(cls, checkpoint: Checkpoint, raw: dict, source: str = "MNIST",
                        named: str = "the checkpoint") -> "Session":
        """The session a checkpoint was saved from: its settings, weights, optimizer state, epoch count
        and step within the next epoch; run() goes on from there exactly as the uninterrupted run would have.
        `named`: the checkpoint as a message names it ("runs/x: the checkpoint last.npz")."""
        if checkpoint.config is None:
            raise ValueError("the checkpoint holds no run settings")
        session = cls(RunConfig.from_dict(checkpoint.config), raw, checkpoint.network, source)
        session.optimizer = from_state(checkpoint.optimizer_state)
        session.epochs_done = checkpoint.epoch
        session.progress = EpochProgress(checkpoint.step, checkpoint.loss_sum, checkpoint.seconds)
        if checkpoint.step > session.steps_per_epoch:
            raise ValueError(f"{named} is at step {checkpoint.step} of an epoch, which has only "
                             f"{session.steps_per_epoch} steps")
        return session

    @property
    def steps_per_epoch(self) -> int:
        return -(-len(self.dataset.train.x) // self.config.batch_size)

    def where(self) -> str:
        """Where training stands: 'at epoch 2, step 7 of 20' inside an epoch, else 'after epoch 1'."""
        if self.progress.step:
            return f"at epoch {self.epochs_done + 1}, step {self.progress.step} of {self.steps_per_epoch}"
        return f"after epoch {self.epochs_done}"

    def save_checkpoint(self, path, sync: bool = True, extra: dict | None = None) -> None:
        """Weights, optimizer state, completed epochs, the step within the next one and the settings,
        written atomically (cnn.checkpoint); `extra`: more header entries."""
        self.checkpoint_later(path, sync, extra)()

    def checkpoint_later(self, path, sync: bool = True, extra: dict | None = None) -> Callable[[], Path]:
        """save_checkpoint() in two halves: the session as it is now, written by the call returned
        (cnn.checkpoint.checkpoint_later), on any thread while training goes on."""
        return checkpoint_later(path, self.network, self.optimizer, epoch=self.epochs_done, config=self.config,
                                sync=sync, progress=self.progress, extra=extra)

    def can_resume(self, config: RunConfig) -> bool:
        """Whether `config` keeps this session's data and network settings."""
        return all(getattr(config, f) == getattr(self.config, f) for f in DATA_AND_NETWORK)

    def resumed(self, config: RunConfig) -> "Session":
        """The same network, data, epoch count and step within the epoch with new training settings
        (epochs, rate, batch, momentum, decay, optimizer). Another batch size or shift draws other
        batches: the epoch in progress then runs again from its first step."""
        if not self.can_resume(config):
            raise ValueError("resuming cannot change the data or network settings")
        config.validate()
        session = copy.copy(self)
        session._set_training(config)
        same_batches = (config.batch_size, config.shift) == (self.config.batch_size, self.config.shift)
        session.progress = copy.copy(self.progress) if same_batches else EpochProgress()
        # The optimizer's state goes on with the epoch count: momentum's velocity or Adam's moments and
        # step count (the schedule's position is the epoch, which the loop sets); a new kind starts afresh.
        if type(session.optimizer) is type(self.optimizer):
            session.optimizer.take_moments(self.optimizer)
        session.optimizer.start_epoch(self.optimizer.epoch)
        return session

    def run(self, epochs: int | None = None):
        """The training loop over this session's data, continuing the epoch count."""
        for record in train(self.network, self.dataset, self.loss, self.optimizer, epochs or self.config.epochs,
                            self.config.batch_size, seed=self.config.seed, reshuffle=self.config.reshuffle,
                            shift=self.config.shift, first_epoch=self.epochs_done + 1, progress=self.progress):
            if isinstance(record, EpochRecord):
                self.epochs_done = record.epoch
            yield record

    def step(self, x: np.ndarray, y: np.ndarray) -> StepResult:
        """One real engine step on the batch (x, y) with this session's optimizer (its momentum and
        schedule too), by the textbook path: the arithmetic cnn.trace shows. Raises cnn.step.NonFinite
        and changes nothing if the step would go non-finite."""
        return PlainStep(self.network, self.loss, self.optimizer)(x, y)

    def probabilities(self, outputs: np.ndarray) -> np.ndarray:
        """Class probabilities from the network's outputs (cnn.losses.Loss.probabilities)."""
        return self.loss.probabilities(outputs)

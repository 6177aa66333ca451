"""What the worker tells the views about a network when it is built or loaded: its layers and
their shapes, the data's classes and images, where the weights came from. Qt-free."""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from cnn.session import Session
from cnn.train import EpochRecord


@dataclass(frozen=True)
class LayerInfo:
    """One layer's place in the network, without its arrays."""
    index: int
    kind: str                      # the layer's class name: 'Convolutional', 'ReLU', …
    input_shape: tuple             # per sample
    output_shape: tuple
    params: Mapping[str, tuple]    # parameter name ('kernels') → shape

    @property
    def title(self) -> str:
        return f"{self.index} · {self.kind} {shape_text(self.input_shape)} → {shape_text(self.output_shape)}"


def shape_text(shape) -> str:
    return "×".join(map(str, shape))


@dataclass(frozen=True)
class ModelInfo:
    """A session's shape, sent when a network is built or loaded."""
    classes: tuple[int, ...]
    config: object                 # the RunConfig the session runs with
    layers: tuple[LayerInfo, ...]
    parameter_count: int
    loss_name: str
    images: dict                   # split → read-only (N, 28, 28) array
    labels: dict                   # split → read-only (N,) digits
    source: str                    # where the weights came from: 'new (seed 0)' or a file
    trained: tuple[int, int] = (0, 0)   # its training so far: whole epochs, and steps into the next
    steps_per_epoch: int = 0
    epochs_planned: int = 0        # its run's planned total (0: no run)

    @property
    def summary(self) -> str:
        """One line per layer."""
        return "\n".join(layer.title for layer in self.layers)

    @property
    def parameter_names(self) -> tuple[str, ...]:
        return tuple(f"{layer.index}.{name}" for layer in self.layers for name in layer.params)


def default_layer(layers) -> int:
    """The layer the views show first: the first convolution (else the first with parameters)."""
    for kinds in (("Convolutional",), ("Convolutional", "Dense")):
        for layer in layers:
            if layer.kind in kinds:
                return layer.index
    return 0


def layer_infos(session: Session) -> tuple[LayerInfo, ...]:
    network = session.network
    return tuple(LayerInfo(i, type(layer).__name__, tuple(network.shapes[i]), tuple(network.shapes[i + 1]),
                           MappingProxyType({name: tuple(value.shape) for name, value in layer.params.items()}))
                 for i, layer in enumerate(network.layers))


def trained_after(records, trained: tuple[int, int]) -> tuple[int, int]:
    """(whole epochs, steps into the next) a network has trained once `records` are done, from `trained`."""
    for record in records:
        if isinstance(record, EpochRecord) or record.step >= record.steps_per_epoch:
            trained = (record.epoch, 0)
        else:
            trained = (record.epoch - 1, record.step)
    return trained


def trained_text(trained: tuple[int, int]) -> str:
    """'trained 1 epoch and 212 steps', 'trained 212 steps', 'trained 2 epochs'; '' for none."""
    epochs, steps = trained
    parts = [f"{count} {unit}{'s' * (count != 1)}" for count, unit in ((epochs, "epoch"), (steps, "step")) if count]
    return f"trained {' and '.join(parts)}" if parts else ""


def model_info(session: Session, source: str, planned: int = 0) -> ModelInfo:
    network, dataset = session.network, session.dataset
    images = {}
    for split, data in (("train", dataset.train), ("test", dataset.test)):
        images[split] = data.x[:, 0]  # read-only views of the prepared data, which nobody changes
    return ModelInfo(
        classes=dataset.classes, config=session.config, layers=layer_infos(session),
        parameter_count=sum(p.size for p in network.params.values()),
        loss_name=session.loss.name, images=images, labels={"train": dataset.train.labels, "test": dataset.test.labels},
        source=source, trained=(session.epochs_done, session.progress.step),
        steps_per_epoch=session.steps_per_epoch, epochs_planned=planned)

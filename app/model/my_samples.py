"""Your own images as samples like any other (Qt-free): a drawing or an opened picture, after
MNIST's preprocessing, with the true digit you pick. The worker snapshots them through the same
take_snapshot as MNIST's, on a copy of the session whose test split is that one image."""
from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass

import numpy as np

from cnn.data import Split
from cnn.session import Session

from app.model.snapshot import take_snapshot

MINE = "mine"   # the sample picker's name for the list of your images


@dataclass(frozen=True)
class ImageSample:
    """One of your images, as the network sees it."""
    name: str                 # 'drawing' or the file's name
    number: int               # its place in the session's list of your samples (−1: the pad, not kept)
    image: np.ndarray         # (28, 28) in [0, 1], read-only
    label: int | None = None  # the true digit you picked; None: take the network's prediction
    drawing: bool = False     # a stroke is in progress (the costly occlusion map waits for the pen to lift)

    def __post_init__(self):
        if np.shape(self.image) != (28, 28):
            raise ValueError(f"{self.name}: a sample is a 28×28 image, not {np.shape(self.image)}")

    @property
    def title(self) -> str:
        return self.name if self.number < 0 else f"{self.name} (my sample #{self.number})"


def label_for(session: Session, sample: ImageSample) -> int:
    """The true digit used for the loss: the one picked if the network knows it, else its prediction."""
    classes = session.dataset.classes
    if sample.label is not None and sample.label in classes:
        return int(sample.label)
    x = sample.image[None, None].astype(session.network.dtype)
    return int(classes[int(np.argmax(session.network.forward(x)[0]))])


def as_split(session: Session, sample: ImageSample) -> Split:
    """The image as a one-sample split with its label one-hot over the session's classes."""
    classes = session.dataset.classes
    label = label_for(session, sample)
    x = np.asarray(sample.image, dtype=session.network.dtype).reshape(1, 1, 28, 28)
    y = np.zeros((1, len(classes)), dtype=session.network.dtype)
    y[0, classes.index(label)] = 1
    labels = np.array([label])
    for array in (x, y, labels):
        array.flags.writeable = False
    return Split(x=x, y=y, labels=labels)


def snapshot_of(session: Session, sample: ImageSample, layers=None):
    """The Snapshot of `sample`, its split named after the image (`layers`: take_snapshot's)."""
    shown = copy.copy(session)
    shown.dataset = dataclasses.replace(session.dataset, test=as_split(session, sample))
    snapshot = take_snapshot(shown, "test", 0, layers)
    picked = sample.label is not None and sample.label in session.dataset.classes
    return dataclasses.replace(snapshot, split=sample.name, index=max(sample.number, 0), label_picked=picked)

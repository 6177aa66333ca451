"""From numpy arrays to a trained network in a few lines, for a notebook or a script:

    history = cnn.fit(network, x_train, y_train, epochs=2, batch_size=32, learning_rate=0.01,
                      validation=(x_test, y_test))

Images are uint8 (N, H, W) (scaled to [0, 1], as MNIST's are) or floats (N, C, H, W) taken as they
are; labels are integers 0 … K−1 for a network of K outputs. The loop is the CLI's and the studio's
(cnn.train), so the same settings give the same weights."""
from __future__ import annotations

import numpy as np

from .data import Dataset, Split
from .network import Network
from .optim import make_optimizer
from .session import loss_for
from .train import EpochRecord, train


def _images(x, network: Network, name: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == np.uint8 and x.ndim == 3:
        x = x.reshape(len(x), 1, *x.shape[1:]) / 255.0
    elif not (np.issubdtype(x.dtype, np.floating) and x.ndim == 4):
        raise ValueError(f"{name} must be uint8 images (N, H, W) or floats (N, C, H, W), not {x.dtype} of shape "
                         f"{x.shape}")
    if x.shape[1:] != tuple(network.input_shape):
        raise ValueError(f"{name} holds images of shape {x.shape[1:]}, but the network takes {network.input_shape}")
    if not len(x):
        raise ValueError(f"{name} holds no images")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds values that are not finite (NaN or infinite)")
    return np.ascontiguousarray(x, dtype=network.dtype)


def _labels(y, count: int, outputs: int, name: str) -> np.ndarray:
    y = np.asarray(y)
    if not (np.issubdtype(y.dtype, np.integer) and y.ndim == 1):
        raise ValueError(f"{name} must be integer labels (N,), not {y.dtype} of shape {y.shape}")
    if len(y) != count:
        raise ValueError(f"{name} holds {len(y)} labels for {count} images")
    if y.min() < 0 or y.max() >= outputs:
        wrong = int(y.min()) if y.min() < 0 else int(y.max())
        raise ValueError(f"{name} holds the label {wrong}, but the network has {outputs} outputs "
                         f"(labels 0–{outputs - 1})")
    return y


def split(network: Network, x, y, name: str = "x") -> Split:
    """Images and integer labels as the training loop takes them (checked: ValueError says what is wrong)."""
    outputs = network.output_shape[0] if len(network.output_shape) == 1 else None
    if outputs is None:
        raise ValueError(f"the network's output has shape {network.output_shape}; fit() trains a network with one "
                         "output per class")
    images = _images(x, network, name)
    labels = _labels(y, len(images), outputs, "y" if name == "x" else f"{name.split()[0]} y")
    return Split(x=images, y=np.eye(outputs, dtype=network.dtype)[labels], labels=labels)


def fit(network: Network, x, y, *, epochs: int = 1, batch_size: int = 32, learning_rate: float = 0.01,
        optimizer: str = "sgd", momentum: float = 0.0, lr_decay: float = 1.0, validation=None,
        shuffle: bool = True, seed: int = 0, verbose: bool = True) -> dict[str, list[float]]:
    """Train `network` in place on images `x` and labels `y` (the module's docstring says which arrays);
    returns its history: 'loss' (each epoch's mean train loss) and 'seconds', and with `validation`
    = (x, y) 'val_loss' and 'val_accuracy' (a fraction) after each epoch. `shuffle` draws each epoch's
    order from `seed`; the loss is the one the network's last layer calls for (cnn.session.loss_for)."""
    train_split = split(network, x, y)
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise ValueError("validation must be a pair (x, y) of images and labels")
        test_split = split(network, *validation, name="validation x")
    else:   # the loop evaluates after each epoch: on one training image, not reported
        test_split = Split(train_split.x[:1], train_split.y[:1], train_split.labels[:1])
    dataset = Dataset(train_split, test_split, classes=tuple(range(train_split.y.shape[1])))
    history: dict[str, list[float]] = {"loss": [], "seconds": []}
    if validation is not None:
        history.update(val_loss=[], val_accuracy=[])
    records = train(network, dataset, loss_for(network), make_optimizer(optimizer, learning_rate, momentum, lr_decay),
                    epochs, batch_size, seed=seed, reshuffle=shuffle)
    for record in records:
        if not isinstance(record, EpochRecord):
            continue
        history["loss"].append(record.train_loss)
        history["seconds"].append(record.seconds)
        line = f"epoch {record.epoch}/{record.epochs}  loss {record.train_loss:.4f}"
        if validation is not None:
            history["val_loss"].append(record.test_loss)
            history["val_accuracy"].append(record.test_accuracy)
            line += f"  val_loss {record.test_loss:.4f}  val_accuracy {record.test_accuracy:.4f}"
        if verbose:
            print(f"{line}  ({record.seconds:.1f} s)", flush=True)
    return history

"""Evaluation: a split's loss and accuracy (what every epoch reports), and the results one can click
into: per-sample losses (Loss.per_sample) and probabilities, the confusion matrix, per-class accuracy,
the hardest examples and the confident mistakes."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .data import Split
from .losses import Loss
from .network import Network


@dataclass(frozen=True)
class Evaluation:
    """A split's loss and accuracy, as the training loop and cnn-train report them after every epoch."""
    loss: float
    accuracy: float
    predictions: np.ndarray        # index into the dataset's classes, per sample
    outputs: np.ndarray            # (N, K) the network's outputs


def evaluate(network: Network, split: Split, loss: Loss) -> Evaluation:
    """The network (in evaluation mode: Network.predict) on a split: its mean loss, accuracy, predictions."""
    outputs = network.predict(split.x)
    predictions = outputs.argmax(axis=1)
    accuracy = float(np.mean(predictions == split.y.argmax(axis=1))) if len(split.y) else float("nan")
    return Evaluation(loss.value(split.y, outputs), accuracy, predictions, outputs)


@dataclass(frozen=True)
class SampleResults:
    """One split's evaluation, sample by sample. Class indices index `classes`."""
    split: str
    classes: tuple[int, ...]
    true: np.ndarray            # (N,) class index of the label
    predicted: np.ndarray       # (N,) class index of the largest output
    probabilities: np.ndarray   # (N, K) softmax of logits, or the outputs as they are
    losses: np.ndarray          # (N,) each sample's E

    @property
    def accuracy(self) -> float:
        return float(np.mean(self.true == self.predicted)) if len(self.true) else float("nan")

    @property
    def confidence(self) -> np.ndarray:
        """(N,) the probability (or output) of the predicted class."""
        return self.probabilities[np.arange(len(self.predicted)), self.predicted]

    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.true, self.predicted, len(self.classes))

    def cell(self, true: int, predicted: int) -> np.ndarray:
        """Indices of the samples of class index `true` predicted as `predicted`, highest loss first."""
        chosen = np.flatnonzero((self.true == true) & (self.predicted == predicted))
        return chosen[np.argsort(-self.losses[chosen], kind="stable")]

    def hardest(self, count: int | None = None) -> np.ndarray:
        """Indices of the samples with the highest loss, highest first."""
        return np.argsort(-self.losses, kind="stable")[:count]

    def confident_mistakes(self, count: int | None = None) -> np.ndarray:
        """Indices of the wrongly predicted samples, most confident (in the wrong class) first."""
        wrong = np.flatnonzero(self.true != self.predicted)
        return wrong[np.argsort(-self.confidence[wrong], kind="stable")][:count]


def results_of(split_name: str, split: Split, classes, loss: Loss, outputs: np.ndarray) -> SampleResults:
    """The results of a split from the network's outputs for it, (N, K)."""
    probabilities = loss.probabilities(np.asarray(outputs))
    arrays = (split.y.argmax(axis=1), outputs.argmax(axis=1), np.asarray(probabilities, dtype=np.float64),
              loss.per_sample(split.y, outputs))
    for array in arrays:
        array.flags.writeable = False
    return SampleResults(split_name, tuple(classes), *arrays)


def evaluate_samples(network: Network, split_name: str, split: Split, classes, loss: Loss) -> SampleResults:
    return results_of(split_name, split, classes, loss, network.predict(split.x))


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, classes: int) -> np.ndarray:
    """(K, K) counts: row = the true class, column = the predicted one."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(true), np.asarray(predicted)), 1)
    return matrix


def accuracy_text(fraction: float) -> str:
    """A test accuracy as every place shows it (the Runs list's best, the status bar, the Results panel,
    the loss read-out, cnn-train): a percentage to two decimals, '99.45%' (one decimal showed it as 99.5%
    in one place and 99.45% in another); '—' for none (NaN: no test images)."""
    return "—" if fraction != fraction else f"{100 * fraction:.2f}%"


def per_class_accuracy(matrix: np.ndarray) -> np.ndarray:
    """(K,) the fraction of each true class predicted right (NaN for a class with no samples)."""
    totals = matrix.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(matrix) / np.maximum(totals, 1), np.nan)


def format_confusion(matrix: np.ndarray, classes) -> str:
    """The matrix as text (rows: true digit, columns: predicted) with each class's accuracy."""
    labels = [str(c) for c in classes]
    width = max(len(str(int(matrix.max(initial=0)))), max(map(len, labels)), 3)
    accuracy = per_class_accuracy(matrix)
    lines = ["confusion matrix (rows: true digit, columns: predicted):",
             "true\\pred " + " ".join(label.rjust(width) for label in labels) + "   accuracy"]
    for label, row, right in zip(labels, matrix, accuracy, strict=True):
        share = "—" if np.isnan(right) else f"{100 * right:.1f}%"
        lines.append(label.rjust(9) + " " + " ".join(str(int(v)).rjust(width) for v in row) + f"   {share:>8}")
    return "\n".join(lines)

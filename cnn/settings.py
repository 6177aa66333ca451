"""Every run setting described once: its label in the studio, its option on the command line, its
short name in run lists and legends, its group, and its help. The ranges are cnn.ranges'; the
defaults are the original preset's (RunConfig). The CLI, the studio's settings panel, the run
labels and the session derive what they list from here."""
from __future__ import annotations

from dataclasses import dataclass

from .ranges import RANGES

# The groups: a resumed session keeps its data and network; a change of a training setting makes
# a new run (as TensorBoard keeps one run per setting); the plan (epochs) only says how long.
DATA_AND_NETWORK_GROUP, TRAINING_GROUP, PLAN_GROUP = "data and network", "training", "plan"


@dataclass(frozen=True)
class Setting:
    name: str        # RunConfig's field
    label: str       # the studio's words
    option: str      # cnn-train's option
    short: str       # in run lists and legends ('lr 0.1'); '' shows the value alone
    group: str
    help: str        # cnn-train --help's words (the range, where there is one, is added from cnn.ranges)


def _rate_help() -> str:
    return f"learning rate, {RANGES['learning_rate'].describe()}"


SETTINGS = {setting.name: setting for setting in (
    Setting("preset", "Preset", "--preset", "", DATA_AND_NETWORK_GROUP,
            "the experiment whose defaults the other options override (default: original)"),
    Setting("classes", "Classes", "--classes", "classes", DATA_AND_NETWORK_GROUP,
            "digits to tell apart, e.g. --classes 0 1"),
    Setting("limit", "Images per class", "--limit", "images/class", DATA_AND_NETWORK_GROUP,
            "images per class from train and test, or 'all'"),
    Setting("epochs", "Epochs", "--epochs", "epochs", PLAN_GROUP,
            f"training epochs, {RANGES['epochs'].low} to {RANGES['epochs'].high}; 0 only evaluates (with --load)"),
    Setting("learning_rate", "Learning rate", "--lr", "lr", TRAINING_GROUP, _rate_help()),
    Setting("batch_size", "Batch size", "--batch-size", "batch", TRAINING_GROUP,
            "samples per SGD step (1: per-sample SGD)"),
    Setting("optimizer", "Optimizer", "--optimizer", "", TRAINING_GROUP,
            "sgd (with --momentum) or adam (β₁ 0.9, β₂ 0.999, ε 1e-8; --lr is its step size η)"),
    Setting("momentum", "Momentum", "--momentum", "momentum", TRAINING_GROUP,
            f"SGD momentum, {RANGES['momentum'].describe()} (sgd only)"),
    Setting("weight_decay", "Weight decay", "--weight-decay", "wd", TRAINING_GROUP,
            f"weight decay λ, {RANGES['weight_decay'].describe()}: sgd adds λ·W to each gradient; adam takes η·λ·W "
            "off each weight apart from its moments (AdamW)"),
    Setting("lr_decay", "LR decay / epoch", "--lr-decay", "decay", TRAINING_GROUP,
            f"epoch e runs at the learning rate × this^(e−1), {RANGES['lr_decay'].describe()}, never below "
            f"{RANGES['learning_rate'].low:g}"),
    Setting("shift", "Random shift", "--shift", "shift", TRAINING_GROUP,
            "augmentation: move each training image by a random −N…+N pixels down and across"),
    Setting("reshuffle", "Reshuffle", "--reshuffle", "reshuffle", TRAINING_GROUP,
            "draw a new order of the training images every epoch (--no-reshuffle: the stored order)"),
    Setting("seed", "Seed", "--seed", "seed", DATA_AND_NETWORK_GROUP,
            "seed for the weights and the shuffle (default 0)"),
    Setting("dtype", "Float type", "--dtype", "", DATA_AND_NETWORK_GROUP, "floating-point type of the network"),
    Setting("architecture", "Network", "--arch", "", DATA_AND_NETWORK_GROUP,
            "the network: layers in words, e.g. \"conv 8 3x3 bias=kernel, relu, maxpool 2, dense 10\" (conv DEPTH "
            "KxK [stride=S] [pad=valid|same|N] [bias=position|kernel] [init=normal|he|xavier], maxpool S, avgpool S, "
            "globalavgpool, dropout P, batchnorm, dense N [init=...], sigmoid, tanh, relu, softmax), or a JSON file "
            "of a weights header's architecture"),
)}


def in_group(group: str) -> tuple[str, ...]:
    return tuple(name for name, setting in SETTINGS.items() if setting.group == group)


DATA_AND_NETWORK = in_group(DATA_AND_NETWORK_GROUP)   # what a resumed session keeps
TRAINING_SETTINGS = in_group(TRAINING_GROUP)          # what makes a new run when it changes
OPTIONS = {name: setting.option for name, setting in SETTINGS.items()}
LABELS = {name: setting.label for name, setting in SETTINGS.items()}

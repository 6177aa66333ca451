"""Words for runs: a short summary of a run's settings for the list, and legend labels that name
only the settings in which compared runs differ (as TensorBoard's run names do)."""
from __future__ import annotations

from cnn.config import RunConfig

# The settings as the list and the legends name them, in the order they are named.
SHORT_NAMES = {"preset": "", "classes": "classes", "limit": "images/class", "learning_rate": "lr",
               "batch_size": "batch", "momentum": "momentum", "lr_decay": "decay", "shift": "shift",
               "seed": "seed", "dtype": "", "epochs": "epochs", "architecture": "", "optimizer": ""}
# The settings that shape training but not the data or the network: changing one makes a new run.
TRAINING_SETTINGS = ("learning_rate", "batch_size", "momentum", "lr_decay", "shift", "optimizer")


def setting_text(name: str, value) -> str:
    if name == "classes":
        digits = list(value)
        return "digits " + ("0–9" if digits == list(range(10)) else ",".join(map(str, digits)))
    if name == "limit":
        return "all images" if value is None else f"{value}/class"
    if name in ("preset", "dtype", "optimizer"):
        return str(value)
    if name == "architecture":
        return "preset network" if value is None else value
    if isinstance(value, float):
        return f"{SHORT_NAMES[name]} {value:g}"
    return f"{SHORT_NAMES[name]} {value}"


def summary(config: RunConfig) -> str:
    """'original · lr 0.1 · batch 1' plus whatever departs from the preset's defaults."""
    defaults = RunConfig.from_preset(config.preset)
    parts = [config.preset, setting_text("learning_rate", config.learning_rate),
             setting_text("batch_size", config.batch_size)]
    for name in ("classes", "limit", "optimizer", "momentum", "lr_decay", "shift", "seed", "dtype", "architecture"):
        value = getattr(config, name)
        if value != getattr(defaults, name):
            parts.append(setting_text(name, value))
    return " · ".join(parts)


def differing_labels(configs: list[RunConfig], names: list[str]) -> list[str]:
    """One label per run: the settings in which the runs differ (the planned epochs aside, which
    the curves' length shows), or the run's name when they differ in nothing else."""
    fields = [name for name in SHORT_NAMES if name != "epochs"
              and len({repr(getattr(config, name)) for config in configs}) > 1]
    labels = []
    for config, name in zip(configs, names, strict=True):
        label = " · ".join(setting_text(field, getattr(config, field)) for field in fields)
        labels.append(label if label else name)
    if len(set(labels)) < len(labels):   # same settings: the names tell them apart
        labels = [f"{name} ({label})" if label != name else name for label, name in zip(labels, names, strict=True)]
    return labels

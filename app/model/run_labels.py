"""Words for runs: a short summary of a run's settings for the list, and legend labels that name
only the settings in which compared runs differ (as TensorBoard's run names do)."""
from __future__ import annotations

from cnn.config import RunConfig

from cnn.settings import SETTINGS


def setting_text(name: str, value) -> str:
    if name == "classes":
        digits = list(value)
        return "digits " + ("0–9" if digits == list(range(10)) else ",".join(map(str, digits)))
    if name == "limit":
        return "all images" if value is None else f"{value}/class"
    if name in ("preset", "dtype", "optimizer"):
        return str(value)
    if name == "reshuffle":
        return "reshuffled every epoch" if value else "same order every epoch"
    if name == "shift":
        return f"shift ±{value} px" if value else "no shift"
    if name == "architecture":
        return "preset network" if value is None else value
    if isinstance(value, float):
        return f"{SETTINGS[name].short} {value:g}"
    return f"{SETTINGS[name].short} {value}"


ARCHITECTURE_ROOM = 40    # characters of an architecture's text in a summary line (all of it in the tooltip)


def elided(text: str, room: int) -> str:
    """`text` cut to `room` characters, the last of them '…', when it is longer."""
    return text if len(text) <= room else text[:room - 1].rstrip() + "…"


def summary(config: RunConfig, room: int | None = None) -> str:
    """'original · lr 0.1 · batch 1' plus whatever departs from the preset's defaults, and the random
    shift whenever there is one (the digits preset's ±1 px is a setting as much as the learning rate);
    an architecture's text cut to `room` characters."""
    defaults = RunConfig.from_preset(config.preset)
    parts = [config.preset, setting_text("learning_rate", config.learning_rate),
             setting_text("batch_size", config.batch_size)]
    for name in ("classes", "limit", "optimizer", "momentum", "weight_decay", "lr_decay", "shift", "reshuffle", "seed",
                 "dtype", "architecture"):
        value = getattr(config, name)
        if value != getattr(defaults, name) or (name == "shift" and value):
            text = setting_text(name, value)
            parts.append(elided(text, room) if name == "architecture" and room else text)
    return " · ".join(parts)


def differing_labels(configs: list[RunConfig], names: list[str]) -> list[str]:
    """One label per run: the settings in which the runs differ (the planned epochs aside, which
    the curves' length shows), or the run's name when they differ in nothing else. Runs of different
    presets name their preset and, of the other settings that differ, only where they depart from it:
    "digits" and "original · 10/class", not every setting a preset brings along (a legend entry ran
    past the plot's edge)."""
    fields = [name for name in SETTINGS if name != "epochs"
              and len({repr(getattr(config, name)) for config in configs}) > 1]
    labels = []
    for config, name in zip(configs, names, strict=True):
        shown = fields
        if "preset" in fields:   # the same preset and label: the same settings (or the names tell them apart)
            defaults = RunConfig.from_preset(config.preset)
            shown = [field for field in fields
                     if field == "preset" or getattr(config, field) != getattr(defaults, field)]
        label = " · ".join(setting_text(field, getattr(config, field)) for field in shown)
        labels.append(label if label else name)
    if len(set(labels)) < len(labels):   # same settings: the names tell them apart
        labels = [f"{name} ({label})" if label != name else name for label, name in zip(labels, names, strict=True)]
    for label in {label for label in labels if labels.count(label) > 1}:   # the same names too: numbered
        numbers = iter(range(1, len(labels) + 1))
        labels = [f"{text} #{next(numbers)}" if text == label else text for text in labels]
    return labels

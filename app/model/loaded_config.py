"""The settings that fit a network read from a file, so that the settings panel never shows a hybrid
(a digits network under the original preset's fields)."""
from __future__ import annotations

from cnn.config import RunConfig
from cnn.network import Network
from cnn.presets import PRESETS


def preset_of(network: Network) -> str | None:
    """The preset whose network has this architecture (for its number of outputs), or None."""
    outputs, dtype = network.output_shape[0], network.dtype.name
    for name, preset in PRESETS.items():
        if preset.build(outputs, 0, dtype).architecture() == network.architecture():
            return name
    return None


def config_for(network: Network, current: RunConfig, path: str) -> RunConfig:
    """`current` if the network fits it; else its preset's settings (when it is a preset's network),
    the classes it tells apart, and its float type. Raises ValueError naming `path` if no settings fit."""
    outputs = network.output_shape[0]
    name = preset_of(network)
    config = current if name in (None, current.preset) else RunConfig.from_preset(name)
    if outputs != len(config.classes):
        if outputs != 10:
            raise ValueError(f"{path}: the network tells {outputs} classes apart; tick {outputs} digits first")
        config = config.with_changes(classes=tuple(range(10)), limit=None)
    return config.with_changes(dtype=network.dtype.name)

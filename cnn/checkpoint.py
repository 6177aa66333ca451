"""Checkpoints: a weights file (cnn.weights_file's format, written by the same atomic save) that also holds
the optimizer's state, the number of completed epochs and the run's settings, so that a run
continued from it repeats the uninterrupted run bit for bit. It opens with plain ``cnn.weights_file.load``
as weights; ``load_checkpoint`` reads the rest, never unpickling, and checks all of it.
"""
from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import weights_file
from .config import RunConfig
from .weights_file import HEADER_KEY, STATE_PREFIX, WeightsFileError
from .network import Network
from .optim import OPTIMIZERS, Optimizer, from_state
from .train import EpochProgress

CHECKPOINT_KEY = "checkpoint"   # the header's entry: {"epoch", "step", "loss_sum", "seconds", "config", "optimizer"}
# "step", "loss_sum", "seconds": how far the next epoch had come (cnn.train.EpochProgress); absent in
# checkpoints from before they were written between epochs, which are all at step 0.
# State arrays: STATE_PREFIX + the optimizer's array name + '/' + parameter name ('state/velocity/3.weights';
# Adam's 'state/first_moment/3.weights' and 'state/second_moment/3.weights').


@dataclass(frozen=True)
class Checkpoint:
    network: Network
    optimizer_state: dict      # as the optimizer's state_dict() returns it; cnn.optim.from_state takes it
    epoch: int                 # epochs completed: a continued run starts at epoch + 1
    config: dict | None        # RunConfig.as_dict() (checked), or None
    step: int = 0              # steps of epoch + 1 taken: a continued run goes on after them
    loss_sum: float = 0.0      # their Σ loss × batch size (the epoch's mean train loss)
    seconds: float = 0.0       # their training time


def save_checkpoint(path, network: Network, optimizer: Optimizer, *, epoch: int, config: RunConfig | dict | None = None,
                    sync: bool = True, progress: EpochProgress | None = None, extra: dict | None = None) -> None:
    """Write weights, optimizer state, `epoch` (epochs completed), how far the next epoch has come
    (`progress`; None: not begun) and the settings to `path` atomically (sync: as cnn.atomic.write_atomically's);
    `extra`: more header entries (a run's epoch-end moment shares the file: cnn.runs.moments).
    A checkpoint is a run folder's own file: a symbolic link at `path` is refused (atomic.WriteError),
    never written through."""
    checkpoint_later(path, network, optimizer, epoch=epoch, config=config, sync=sync, progress=progress,
                     extra=extra)()


def checkpoint_later(path, network: Network, optimizer: Optimizer, *, epoch: int,
                     config: RunConfig | dict | None = None, sync: bool = True, progress: EpochProgress | None = None,
                     extra: dict | None = None) -> Callable[[], Path]:
    """save_checkpoint() in two halves (cnn.weights_file.save_later): what it holds is taken now, checked
    (ValueError) and copied; the call returned writes it, on any thread, while training goes on."""
    if not (isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 0):
        raise ValueError(f"epoch must be a whole number of completed epochs, not {epoch!r}")
    progress = progress or EpochProgress()
    within = {"step": progress.step, "loss_sum": float(progress.loss_sum), "seconds": float(progress.seconds)}
    problem = _progress_problem(within)
    if problem:
        raise ValueError(problem)
    if isinstance(config, RunConfig):
        config = config.as_dict()
    elif config is not None:
        config = RunConfig.from_dict(config).as_dict()
    state = optimizer.state_dict()
    groups = {key: state.pop(key) for key in optimizer.ARRAYS}   # 'velocity' → {'3.weights': v}
    for key, arrays in groups.items():
        unknown = sorted(set(arrays) - set(network.params))
        if unknown:
            raise ValueError(f"the optimizer holds {key} arrays for parameters the network lacks: {unknown}")
    header = {**(extra or {}), CHECKPOINT_KEY: {"epoch": epoch, **within, "config": config,
                                               "optimizer": {**state, **{key: sorted(arrays)
                                                                         for key, arrays in groups.items()}}}}
    return weights_file.save_later(network, path, extra_header=header,   # (state_dict's arrays are its own copies)
                                   state={f"{key}/{name}": np.asarray(value, dtype=network.dtype)
                                          for key, arrays in groups.items() for name, value in arrays.items()},
                                   sync=sync, follow_links=False)


def load_checkpoint(path) -> Checkpoint:
    """Read a checkpoint, or raise WeightsFileError naming the file and the problem."""
    path = Path(path)
    network = weights_file.load(path)  # every weights check; raises WeightsFileError naming the file

    def fail(problem):
        return WeightsFileError(f"{path}: {problem}")
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name[:-4] if name.endswith(".npy") else name: name for name in archive.namelist()}
            header = weights_file._read_header(archive, members[HEADER_KEY], fail)
            entry = header.get(CHECKPOINT_KEY)
            if not isinstance(entry, dict):
                raise fail("a weights file, not a checkpoint (no optimizer state or epoch count)")
            epoch, config, optimizer = entry.get("epoch"), entry.get("config"), entry.get("optimizer")
            if not (isinstance(epoch, int) and not isinstance(epoch, bool) and epoch >= 0):
                raise fail(f"the checkpoint's epoch must be a whole number of epochs, not {epoch!r}")
            within = {"step": entry.get("step", 0), "loss_sum": entry.get("loss_sum", 0.0),
                      "seconds": entry.get("seconds", 0.0)}
            problem = _progress_problem(within)
            if problem:
                raise fail(f"the checkpoint's {problem}")
            if config is not None:
                try:
                    config = RunConfig.from_dict(config).as_dict()
                except (ValueError, TypeError) as error:
                    raise fail(f"the checkpoint's settings are invalid ({error})") from None
            state = _optimizer_state(optimizer, archive, members, network, fail)
    except WeightsFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as error:
        raise fail(f"not a readable checkpoint ({error})") from None
    except (ValueError, KeyError, TypeError) as error:
        raise fail(f"corrupt checkpoint ({error})") from None
    return Checkpoint(network, state, epoch, config, within["step"], float(within["loss_sum"]),
                      float(within["seconds"]))


def _progress_problem(within: dict) -> str | None:
    """What is wrong with a checkpoint's step, loss sum and seconds, if anything."""
    step = within["step"]
    if not (isinstance(step, int) and not isinstance(step, bool) and step >= 0):
        return f"step must be a whole number of steps, not {str(step)[:40]!r}"
    for key in ("loss_sum", "seconds"):
        value = within[key]
        if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                and value >= 0):
            return f"{key} must be a finite number ≥ 0, not {str(value)[:40]!r}"
    return None


def _optimizer_state(entry, archive, members, network: Network, fail) -> dict:
    if not isinstance(entry, dict):
        raise fail("the checkpoint has no optimizer state")
    kind = entry.get("optimizer", "sgd")   # checkpoints from before Adam name no kind: SGD's
    if kind not in OPTIMIZERS:
        raise fail(f"the optimizer must be one of {sorted(OPTIMIZERS)}, not {str(kind)[:40]!r}")
    params, state = network.params, dict(entry)
    for key in ("learning_rate", "momentum", "lr_decay", "weight_decay", "beta1", "beta2", "eps"):
        value = entry.get(key)
        if key in entry or key in ("learning_rate", "lr_decay") or kind == "sgd" and key == "momentum":
            if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)):
                raise fail(f"the optimizer's {key} must be a finite number, not {value!r}")
    for key in OPTIMIZERS[kind].ARRAYS:
        names = entry.get(key)
        if not isinstance(names, list) or not all(isinstance(name, str) and name in params for name in names):
            raise fail(f"the optimizer's {key} must name parameters of the network, not {str(names)[:80]}")
        state[key] = {}
        for name in names:
            member = members.get(STATE_PREFIX + key + "/" + name)
            if member is None:
                raise fail(f"the optimizer's {key} of {name} is missing")
            state[key][name] = weights_file._read_array(archive, member, params[name], fail)
    try:
        optimizer = from_state(state)  # the optimizer's own checks
    except (ValueError, TypeError, KeyError) as error:
        raise fail(f"the optimizer state is invalid ({error})") from None
    return optimizer.state_dict()

"""cnn-train (cnn.cli:main), from its options to its end: the session they describe (a new one, or a
recorded run continued from its last checkpoint), its training (cnn.cli_run) and its report
(cnn.cli_report); every failure one line and its exit code. The options: cnn.cli_options."""
from __future__ import annotations

import sys

from . import arch, atomic, weights_file
from .bridge import BridgeUnavailable
from .bridge.cluster import Unreachable
from .cli_options import build_parser, refuse_settings_with_continue, setting_message
from .cli_report import fail, report
from .cli_run import Interrupted, close_recording, interrupted_at, keras_engine, run
from .config import RunConfig, SettingError
from .conventions import configure
from .data import DataFileError, download_mnist, load_mnist
from .image_folder import data_choice
from .runs.lock import RunBusy
from .runs.opening import BUNDLED, data_path, open_run
from .runs.recorder import RecordingError, RunRecorder
from .runs.runfile import MAX_EPOCHS
from .runs.store import LAST
from .session import Session
from .settings import OPTIONS
from .train import TrainingDiverged


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure(args, "cnn-train")
    if args.continue_run is not None:
        refuse_settings_with_continue(parser, args)
    try:
        return _main(args)
    except KeyboardInterrupt:
        print("\ncnn-train: interrupted", file=sys.stderr)
        return 130


def _main(args) -> int:
    recorder = None
    try:
        records, writes, engine = keras_engine(args)
        if not writes:   # another worker of the cluster records the run and saves the weights
            args.runs = args.save = None
        if args.save is not None:
            _check_save(args.save)   # now, not after a long training
        if args.continue_run is not None:
            session, epochs, recorder = continued(args.continue_run, args.epochs, args.data, engine, args)
        else:
            session, epochs = _new_session(args)
            if epochs and args.runs:
                recorder = RunRecorder.start(args.runs, session, epochs, source=args.data or BUNDLED, engine=engine)
        if epochs:
            run(session, epochs, recorder, records(session, epochs) if records else None)
        if recorder is not None:
            recorder.close()
    except BridgeUnavailable as error:
        return fail(str(error), 3)
    except SettingError as error:
        return fail(f"error: {setting_message(error)}", 2)
    except Unreachable as error:   # before ValueError: a worker that never answered is no bad input
        return fail(f"error: {error}", 1)
    except RecordingError as error:
        return fail(f"error: the run could not be recorded: {error}; it stopped there, its last checkpoint kept", 1)
    except (DataFileError, weights_file.WeightsFileError, ValueError, RunBusy, OSError) as error:
        return fail(f"error: {error}", 2)
    except TrainingDiverged as error:
        return fail(str(error), 1)
    except Interrupted as stop:
        return fail(interrupted_at(session, recorder), stop.code)
    finally:
        close_recording(recorder)
    return report(args, session)


def _check_save(path: str) -> None:
    try:
        weights_file.check_save_target(path)
    except atomic.WriteError as error:
        raise ValueError(f"--save {error}") from None


def _new_session(args) -> tuple[Session, int]:
    """The session the options describe, and the epochs to train (0: only evaluate)."""
    overrides = {field: getattr(args, field) for field in OPTIONS if field not in ("preset", "limit")}
    overrides["epochs"] = None if args.epochs == 0 else args.epochs
    overrides["architecture"] = architecture_option(args.architecture, args.load)
    config = RunConfig.from_preset(args.preset, **overrides)
    if args.limit is not None:
        config = config.with_changes(limit=None if args.limit == "all" else args.limit)
    choice = data_choice(args.data, args.raw, args.test_share)   # --raw without a folder: refused
    raw = download_mnist() if args.download else load_mnist(choice)
    network = weights_file.load(args.load) if args.load is not None else None
    if network is not None and args.dtype:
        network.astype(args.dtype)
    session = Session(config, raw, network, source=args.data or BUNDLED, weights=args.load)
    return session, 0 if args.epochs == 0 else config.epochs


def architecture_option(spec: str | None, load: str | None) -> str | None:
    """--arch SPEC as the canonical string RunConfig keeps (its classes are RunConfig's to check)."""
    if spec is None:
        return None
    if load is not None:
        raise ValueError("--arch and --load both say which network to train; give one of them")
    try:
        return arch.read_spec(spec)
    except arch.ArchitectureError as error:
        raise ValueError(f"--arch: {error}") from None


def continued(folder: str, more_epochs: int | None, data: str | None, engine: dict | None = None,
              options=None) -> tuple[Session, int, RunRecorder | None]:
    """The session saved in the run's last checkpoint, the epochs left to train (its planned ones,
    or `more_epochs`), and a recorder writing them into the same folder (None when nothing is left).
    `options`: the command line's --raw and --test-share, for a run on a folder of pictures."""
    info, checkpoint = open_run(folder)
    if more_epochs is not None and checkpoint.epoch + more_epochs > MAX_EPOCHS:
        raise ValueError(f"--epochs {more_epochs}: the run has done {checkpoint.epoch} epochs, and a run has at most "
                         f"{MAX_EPOCHS} in all")
    raw, share = (options.raw, options.test_share) if options is not None else (False, None)
    choice = data_choice(data or data_path(info), raw, share)
    session = Session.from_checkpoint(checkpoint, load_mnist(choice), source=data or info.data,
                                      named=f"{folder}: the checkpoint {LAST}")
    epochs = more_epochs if more_epochs is not None else info.epochs_planned - checkpoint.epoch
    if epochs <= 0 and more_epochs is None:
        raise ValueError(f"{folder}: the run has done all its {info.epochs_planned} planned epochs; "
                         "add --epochs N to train N more")
    return session, epochs, (RunRecorder.resume(folder, session, epochs, engine) if epochs else None)

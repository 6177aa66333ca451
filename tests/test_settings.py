"""Each run setting described once (cnn.settings): RunConfig's fields, cnn-train's options, the
studio's labels, the run labels and the session's groups all come from that one table."""
import dataclasses

import pytest

from cnn import settings
from cnn.cli import build_parser
from cnn.config import RunConfig
from cnn.presets import PRESETS
from cnn.ranges import RANGES


def test_every_field_of_a_run_is_described_once_and_every_description_is_a_field():
    fields = [f.name for f in dataclasses.fields(RunConfig)]
    assert sorted(settings.SETTINGS) == sorted(fields)
    assert len(set(settings.OPTIONS.values())) == len(fields)
    assert set(settings.DATA_AND_NETWORK) | set(settings.TRAINING_SETTINGS) | {"epochs"} == set(fields)
    assert not set(settings.DATA_AND_NETWORK) & set(settings.TRAINING_SETTINGS)


def test_cnn_train_has_one_option_per_setting_with_the_range_in_its_help():
    parser = build_parser()
    by_option = {option: action for action in parser._actions for option in action.option_strings}
    for name, setting in settings.SETTINGS.items():
        assert by_option[setting.option].dest == name
        assert by_option[setting.option].help == setting.help
    assert f"{RANGES['epochs'].low} to {RANGES['epochs'].high}" in settings.SETTINGS["epochs"].help


def test_the_defaults_are_the_original_presets():
    assert RunConfig() == RunConfig.from_preset("original")


def test_reshuffle_is_a_setting_a_run_records_and_the_command_line_can_change():
    digits = RunConfig.from_preset("digits")
    assert digits.reshuffle is True and RunConfig().reshuffle is False
    assert digits.as_dict()["reshuffle"] is True
    written_before = {k: v for k, v in digits.as_dict().items() if k != "reshuffle"}
    assert RunConfig.from_dict(written_before).reshuffle is PRESETS["digits"].reshuffle
    args = build_parser().parse_args(["--preset", "digits", "--no-reshuffle"])
    assert args.reshuffle is False
    assert build_parser().parse_args([]).reshuffle is None     # not given: the preset's
    with pytest.raises(ValueError, match="^reshuffle must be true or false"):
        RunConfig().with_changes(reshuffle="yes")


def test_a_window_within_the_screen_is_left_exactly_where_it_was_restored():
    """clamp_to_screen moved a window it did not need to move: before the frame is known, move() puts the
    frame where the inside was, and the window came back 10 px lower after every restart."""
    from types import SimpleNamespace

    from PySide6.QtCore import QRect

    from app.model.remembered import clamp_to_screen
    calls = []

    def window(inner: QRect, framed: bool):
        frame = inner.adjusted(-1, -10, 1, 1) if framed else QRect(inner)
        return SimpleNamespace(isMaximized=lambda: False, isFullScreen=lambda: False,
                               screen=lambda: SimpleNamespace(availableGeometry=lambda: QRect(0, 0, 1280, 800)),
                               frameGeometry=lambda: frame, geometry=lambda: inner,
                               resize=lambda *size: calls.append(("resize", size)),
                               move=lambda *at: calls.append(("move", at)))
    for framed in (False, True):
        clamp_to_screen(window(QRect(100, 120, 900, 600), framed))
    assert calls == []                                            # within the screen: not touched
    clamp_to_screen(window(QRect(600, 120, 900, 600), True))      # past the right edge: moved in
    assert calls == [("move", (1280 - 902, 110))]

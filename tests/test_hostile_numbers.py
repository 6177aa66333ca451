"""Numbers of thousands of digits wherever a number is read from text (issue 19, case 5): `--arch`,
every whole-number option of cnn-train, cnn-studio and cnn-predict, the studio's settings fields and
JSON files. Each is one short line naming the option, field or file: never Python's "Exceeds the
limit (4300 digits)", never the 5,000 digits echoed back."""
import pytest

from cnn import jsonfile
from cnn.arch import ArchitectureError, canonical, read_spec

BIG = "9" * 5000
SHORT = 300          # a message may quote the start and end of what was typed, never all of it


@pytest.mark.parametrize("spec, message", [
    (f"dense {BIG}", "size must be at most 100,000, not a number of 5,000 digits"),
    (f"conv {BIG} 3x3, dense 2", "depth must be at most 1,024, not a number of 5,000 digits"),
    (f"conv 8 {BIG}x{BIG}, dense 2", "kernel size must be at most 28, not a number of 5,000 digits"),
    (f"dense -{BIG}", "size must be ≥ 1"),
    (f"maxpool +{'0' * 5000}", "size must be ≥ 1"),
])
def test_a_5000_digit_number_in_the_grammar_is_one_short_line(spec, message):
    with pytest.raises(ArchitectureError) as caught:
        canonical(spec)
    text = str(caught.value)
    assert text.startswith("token 1 '") and text.endswith(message) and len(text) < SHORT, text


def test_leading_zeros_are_not_digits_that_count():
    assert canonical("dense " + "0" * 5000 + "2", classes=2) == "dense 2"


def test_an_arch_file_with_a_5000_digit_number_names_the_file(tmp_path):
    path = tmp_path / "arch.json"
    path.write_text('[{"type": "Dense", "args": {"input_size": 784, "output_size": ' + BIG + '}}]')
    with pytest.raises(ArchitectureError) as caught:
        read_spec(str(path))
    assert str(caught.value) == f"{path} is not valid JSON (an integer of more than 4,300 digits)"
    with pytest.raises(ValueError, match=r"^run.json is not valid JSON \(an integer of more than 4,300 digits\)$"):
        jsonfile.parse('{"epochs_done": ' + BIG + "}", "run.json", ValueError)


def last_error_line(capsys, main, argv) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("option, expected", [
    ("--epochs", "must be a whole number from 1 to 10000, or 0 to only evaluate"),
    ("--seed", "must be a whole number from 0 to 4294967295"),
    ("--batch-size", "must be a whole number from 1 to 60000"),
    ("--shift", "must be a whole number of pixels from 0 to 4"),
    ("--classes", "must be a whole number from 0 to 9"),
    ("--limit", "must be a whole number of images per class, or 'all'"),
])
def test_cnn_train_names_the_option_of_a_5000_digit_number(capsys, option, expected):
    from cnn.cli import build_parser
    line = last_error_line(capsys, build_parser().parse_args, [option, BIG])
    assert line == f"cnn-train: error: argument {option}: {expected}, not a number of 5,000 digits"


def test_cnn_train_arch_of_a_5000_digit_dense_is_one_line(capsys):
    from cnn.cli import main
    assert main(["--arch", f"dense {BIG}", "--quiet"]) == 2
    line = capsys.readouterr().err.strip()
    assert line.startswith("cnn-train: error: --arch: token 1 'dense 9") and "\n" not in line
    assert line.endswith("size must be at most 100,000, not a number of 5,000 digits") and len(line) < SHORT


def test_other_text_is_still_argparses_own_words(capsys):
    from cnn.cli import build_parser
    assert last_error_line(capsys, build_parser().parse_args, ["--epochs", "abc"]) == \
        "cnn-train: error: argument --epochs: invalid int value: 'abc'"
    assert build_parser().parse_args(["--epochs", "0012", "--classes", "0", "+1"]).epochs == 12
    line = last_error_line(capsys, build_parser().parse_args, ["--epochs", "x" + BIG])
    assert line.startswith("cnn-train: error: argument --epochs: invalid int value: 'x9999") and len(line) < SHORT


@pytest.mark.parametrize("argv, problem", [
    (["--epochs", BIG], "argument --epochs: must be a whole number from 1 to 10000, not a number of 5,000 digits"),
    (["--draw", f"{BIG},1 2,2"], "argument --draw: strokes are 'x,y x,y;x,y …', not '9999"),
    (["--click-cell", f"{BIG},1"], "argument --click-cell: a cell is TRUE,PREDICTED (two digits), not '9999"),
])
def test_cnn_studio_names_the_option(capsys, argv, problem):
    from app.main import build_parser
    line = last_error_line(capsys, build_parser().parse_args, argv)
    assert line.startswith(f"cnn-studio: error: {problem}") and len(line) < SHORT, line


def test_cnn_predict_names_the_option(capsys):
    from cnn.predict import build_parser
    line = last_error_line(capsys, build_parser().parse_args, ["--load", "w.npz", "--classes", BIG, "a.png"])
    assert line == "cnn-predict: error: argument --classes: must be a whole number from 0 to 9, not a number of " \
                   "5,000 digits"


@pytest.mark.parametrize("typed", ["9" * 300, BIG])
def test_a_settings_field_refuses_a_huge_number_in_one_short_line(qtbot, typed):
    from app.studio.settings_panel import SettingsPanel
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    message = panel.reason("epochs", typed)
    assert message.startswith("Epochs must be a whole number from 1 to 10000, not 9999") and len(message) < SHORT
    assert message.endswith(f"({len(typed):,} characters); kept 20")

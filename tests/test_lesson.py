"""The lesson without a window: every section parses, every Show me step resolves to a command of the
studio model and a value its network has, every Try it names a check; and the checks answer from the
model's own state, driven by its commands (no Qt)."""
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from cnn import weights_file
from cnn.config import RunConfig
from cnn.session import build_network
from cnn.train import evaluate

from app.main import build_parser
from app.model.events import Recorder
from app.model.lesson import (PHASES, TABS, VERBS, LessonError, load_sections, is_trained, parse_section, preset_config,
                              problems, shipped)
from app.model.lesson_checks import CHECKS, StepFacts
from app.model.my_samples import ImageSample
from app.model.studio import Studio

SMALL = RunConfig(limit=10, epochs=1)        # 20 training images of 0 and 1
TWO_CONVS = SMALL.with_changes(architecture="conv 2 3x3, sigmoid, maxpool 2, conv 3 3x3, sigmoid, dense 2, sigmoid")


def studio_with(config=SMALL):
    events = Recorder()
    studio = Studio(emit=events)
    studio.slice_seconds = 0.0
    studio.command("configure", config)
    assert studio.session is not None, events.of("failed")
    return studio, events


def answer(studio, events, name, facts=None):
    studio.command("check_lesson", name, facts)
    sent = events.last("lesson_answer")
    assert sent[0] == name
    return sent[1], sent[2]


# -- the sections ------------------------------------------------------------------------------
def test_the_twelve_sections_come_in_the_issues_order():
    sections = load_sections()
    assert [s.number for s in sections] == list(range(1, 13))
    assert [s.name for s in sections] == ["task", "correlation", "forward", "backward", "dense", "sigmoid", "loss",
                                          "training", "kernels", "failing", "ten-digits", "why"]
    for section in sections:
        assert section.body and section.task and section.show, section.name


def network_of(section):
    """The network the section's Show me shows (its last preset, trained preset or shipped file)."""
    network = None
    for step in section.show:
        if step.verb in ("preset", "trained"):
            network = build_network(preset_config(step.values[0]))
        elif step.verb == "load":
            network = weights_file.load(shipped(step.values[0]))
    return network


def test_every_show_me_step_and_every_try_it_check_exists():
    commands = Studio().commands
    from app.studio.lesson_show import TAB_WIDGETS, ShowMe   # the window's side of the steps
    assert set(TAB_WIDGETS) == set(TABS)
    for section in load_sections():
        network = network_of(section)
        assert network is not None, f"{section.name}: Show me names no network"
        for step in section.show:
            assert step.command in commands, (section.name, step)
            assert callable(getattr(ShowMe, f"_{step.verb}")), step.verb
            assert problems(step) is None, (section.name, problems(step))
            if step.verb in ("layer", "step"):
                assert int(step.values[-1]) < len(network.layers), (section.name, step)
        assert section.check in CHECKS, section.name
    assert set(VERBS) <= {name[1:] for name in dir(ShowMe) if name.startswith("_") and not name.startswith("__")}


def test_the_shipped_network_reads_ten_digits():
    network = weights_file.load(shipped("digits.npz"))
    assert network.layers[-1].params["weights"].shape[0] == 10
    from cnn.data import load_mnist
    from cnn.session import Session
    session = Session(RunConfig.from_preset("digits").with_changes(limit=50), load_mnist(None), network)
    assert evaluate(session.network, session.dataset.test, session.loss).accuracy >= 0.95


@pytest.mark.parametrize("text, said", [
    ("no header here", "no header"),
    ("---\ntitle: A\nshow: preset original\ntry: x\n---\nbody", "the header has no check"),
    ("---\ntitle: A\nshow: fly away\ntry: x\ncheck: one_found\n---\nbody", "unknown step 'fly'"),
    ("---\ntitle: A\nshow: sample test\ntry: x\ncheck: one_found\n---\nbody", "'sample' takes 2 value(s), not 1"),
    ("---\ncolour: red\n---\nbody", "header line 'colour: red'"),
])
def test_a_bad_section_file_is_one_line_naming_it(text, said):
    with pytest.raises(LessonError) as error:
        parse_section(text, 1, "x", "sections/01-x.md")
    assert str(error.value).startswith("sections/01-x.md: ") and said in str(error.value)
    assert "\n" not in str(error.value)


def test_a_folder_of_badly_named_or_no_sections_is_refused(tmp_path):
    with pytest.raises(LessonError, match="no section"):
        load_sections(tmp_path)
    (tmp_path / "intro.md").write_text("---\n---\n")
    with pytest.raises(LessonError, match="intro.md: a section's file is named NN-name.md"):
        load_sections(tmp_path)


def test_values_a_step_cannot_take_are_named():
    section = parse_section("---\ntitle: A\nshow: tab loss; tab sideways; step sideways 0; load none.npz; "
                            "moment first; moment soon\ntry: x\ncheck: one_found\n---\nbody", 1, "a", "a.md")
    assert [problems(step) for step in section.show] == [
        None, "tab sideways: not a value this step takes", "step sideways 0: not a value this step takes",
        "load none.npz: not a value this step takes", None, "moment soon: not a value this step takes"]
    assert "forward" in PHASES


def test_a_trained_preset_is_recognised_and_other_settings_are_not():
    config = preset_config("original")
    assert is_trained(config, (20, 0), "original")
    assert is_trained(config.with_changes(epochs=25), (25, 0), "original")
    assert not is_trained(config, (19, 200), "original")
    assert not is_trained(config.with_changes(learning_rate=50.0), (20, 0), "original")
    assert not is_trained(None, (0, 0), "original")


def test_the_lesson_option_takes_a_section_number(capsys):
    assert build_parser().parse_args(["--lesson", "12"]).lesson == 12
    for bad in ("13", "0", "two"):
        with pytest.raises(SystemExit) as exit_:
            build_parser().parse_args(["--lesson", bad])
        assert exit_.value.code == 2
        assert f"argument --lesson: a section is a number from 1 to 12, not '{bad}'" in capsys.readouterr().err


# -- the checks, from the model's state ----------------------------------------------------------
def test_one_found_asks_for_a_training_image_of_a_one():
    studio, events = studio_with()
    labels = studio.session.dataset.train.labels
    zero, one = int(np.flatnonzero(labels == 0)[0]), int(np.flatnonzero(labels == 1)[0])
    studio.command("select_sample", "train", zero)
    assert answer(studio, events, "one_found") == (False, f"Not yet: training image #{zero} is a 0. In Inspect, set "
                                                          "the split to training and step with ▶ until a 1 shows.")
    studio.command("select_sample", "train", one)
    done, text = answer(studio, events, "one_found")
    assert done and text.startswith(f"Yes: training image #{one} is a 1, and its target is the one-hot vector (0, 1)")


def test_the_convolution_check_wants_one_that_reads_many_maps():
    studio, events = studio_with(TWO_CONVS)
    studio.command("select_layer", 0)
    done, text = answer(studio, events, "convolution_chosen")
    assert not done and "28 − 3 + 1 = 26 positions each way, so 2 maps of 26×26" in text
    studio.command("select_layer", 1)
    assert answer(studio, events, "convolution_chosen")[1] == "Not yet: layer 1 is a Sigmoid. Choose a convolution."
    studio.command("select_layer", 3)
    done, text = answer(studio, events, "convolution_chosen")
    assert done and "reads 2 maps of 13×13: 13 − 3 + 1 = 11 positions each way, so 3 maps of 11×11" in text


def test_the_dense_check_wants_the_layer_of_one_output_per_class():
    studio, events = studio_with()
    studio.command("select_layer", 3)
    done, text = answer(studio, events, "dense_chosen")
    assert not done and "turns 3,380 inputs into 100 (W is 100×3380 = 338,000 weights" in text
    studio.command("select_layer", 5)
    done, text = answer(studio, events, "dense_chosen")
    assert done and "W is 2×100 = 200 weights, and B holds 2 biases" in text


def test_the_sigmoid_check_counts_the_saturated_outputs_of_the_chosen_image():
    studio, events = studio_with()
    studio.command("select_layer", 4)
    assert not answer(studio, events, "sigmoid_chosen")[0]
    studio.command("select_layer", 1)
    studio.command("select_sample", "test", 3)
    done, text = answer(studio, events, "sigmoid_chosen")
    output = studio.session.network.forward(studio.session.dataset.test.x[3:4])   # the network's own pass
    share = np.mean(np.abs(studio.session.network.outputs[1] - 0.5) > 0.49)
    assert output.shape == (1, 2)
    assert done and f"for test image #3, {100 * share:.0f}% of layer 1's 3,380 outputs" in text


def test_the_mistake_check_tells_a_wrong_answer_from_a_right_one():
    studio, events = studio_with()
    session = studio.session
    predicted = evaluate(session.network, session.dataset.test, session.loss).predictions
    labels = session.dataset.test.labels
    wrong = np.flatnonzero(np.asarray(session.dataset.classes)[predicted] != labels)
    right = np.flatnonzero(np.asarray(session.dataset.classes)[predicted] == labels)
    assert len(wrong) and len(right)   # an untrained network gets some right and some wrong
    studio.command("select_sample", "test", int(right[0]))
    assert answer(studio, events, "mistake_found")[1].startswith(f"Not yet: the network reads test image "
                                                                  f"#{right[0]} right")
    studio.command("select_sample", "test", int(wrong[0]))
    done, text = answer(studio, events, "mistake_found")
    label = int(labels[wrong[0]])
    assert done and text.startswith(f"Yes: test image #{wrong[0]} is a {label} the network calls {1 - label}")


def train(studio, config):
    studio.command("configure", config)
    studio.command("start", config)
    while studio.tick():
        studio.command("views_drawn", 0.0)


def test_a_learning_rate_of_fifty_stops_learning_and_the_check_says_so():
    studio, events = studio_with()
    done, text = answer(studio, events, "stopped_learning")
    assert not done and text.startswith("Not yet: gradients still flow (at lr 0.1)")
    train(studio, SMALL.with_changes(learning_rate=50.0))
    assert studio.session.epochs_done == 1, events.of("failed")
    done, text = answer(studio, events, "stopped_learning")
    assert done and "every gradient is exactly 0 on 8 training images" in text


def test_the_slower_rate_and_the_seed_checks_read_the_runs_settings():
    studio, events = studio_with()
    assert not answer(studio, events, "slower_rate")[0]
    assert not answer(studio, events, "seed_changed")[0]
    train(studio, SMALL.with_changes(learning_rate=0.01, seed=3))
    result = evaluate(studio.session.network, studio.session.dataset.test, studio.session.loss)
    done, text = answer(studio, events, "slower_rate")
    assert done and f"after 1 epoch(s) the test loss is {result.loss:.4g}" in text
    done, text = answer(studio, events, "seed_changed")
    assert done and text.startswith("Yes: seed 3, trained 1 epoch(s).")


def test_the_max_pool_check_says_what_the_window_keeps():
    studio, events = studio_with(TWO_CONVS)
    studio.command("select_layer", 2)
    done, text = answer(studio, events, "maxpool_chosen")
    assert done and "keeps the largest value of each 2×2 window: 2×26×26 → 2×13×13" in text


def test_a_seven_read_as_one_needs_the_seven_picked_and_the_answer_one():
    config = SMALL.with_changes(classes=(1, 7))
    studio, events = studio_with(config)
    assert answer(studio, events, "seven_read_as_one") == (False, "Not yet: draw on the pad in Your digit.")
    image = np.array(studio.session.dataset.test.x[0, 0], dtype=float)
    studio.command("select_image", ImageSample("drawing", -1, image))
    done, text = answer(studio, events, "seven_read_as_one")
    assert not done and "Pick 7 as its true digit" in text
    studio.command("select_image", ImageSample("drawing", -1, image, label=7))
    last = studio.session.network.layers[-2]          # the last Dense, before the sigmoid
    last.params["bias"][:] = [40.0, -40.0]                                    # it answers 1
    done, text = answer(studio, events, "seven_read_as_one")
    assert done and text.startswith("Yes: the network reads your drawing as 1 (p = 1.00), though you say it is a 7")
    last.params["bias"][:] = -last.params["bias"]                                        # it answers 7
    assert answer(studio, events, "seven_read_as_one")[1].startswith("Not yet: the network reads your drawing as 7")


def test_the_step_through_checks_read_what_the_step_through_shows():
    studio, events = studio_with()
    assert answer(studio, events, "kernel_edited")[1].startswith("Open the step-through first")
    facts = StepFacts("test image #0", False, 0.25, 0.25, (0.6, 0.4), None)
    assert answer(studio, events, "kernel_edited", facts)[1].startswith("Not yet: every kernel is as the model")
    edited = dataclasses.replace(facts, edited=True, loss=0.5)
    assert answer(studio, events, "kernel_edited", edited) == (True, (
        "Yes: with your edit, E for test image #0 went from 0.25 to 0.5, and the output is now 0.600, 0.400. One "
        "kernel value moved every pixel of its map, and all that follows."))
    assert not answer(studio, events, "update_applied", facts)[0]
    applied = dataclasses.replace(facts, applied_from=0.75)
    assert answer(studio, events, "update_applied", applied) == (
        True, "Yes: one step against the gradient took E for test image #0 from 0.75 to 0.25.")


def test_an_unknown_check_and_no_network_are_answered_in_words():
    events = Recorder()
    studio = Studio(emit=events)
    assert answer(studio, events, "one_found") == (False, "No network is shown yet: wait for it, or press Show me.")
    assert answer(studio, events, "fly") == (False, "No check named 'fly'.")


def test_the_sections_ship_in_the_wheel():
    import tomllib
    root = Path(__file__).resolve().parent.parent
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "app.lesson" in data["packages"]
    patterns = data["package-data"]["app.lesson"]
    folder = root / "app" / "lesson"
    shipped_files = {path for pattern in patterns for path in folder.glob(pattern)}
    assert set(folder.glob("[0-9]*.md")) | {folder / "digits.npz"} <= shipped_files


def test_formulas_are_shown_on_lines_of_their_own_with_their_stars_kept():
    from app.model.lesson import shown_markdown
    section = parse_section("---\ntitle: Loss\nshow: preset original\ntry: x\ncheck: one_found\n---\nText:\n\n"
                            "    E = y*_i log y_i\n      + [a]\n\nMore.", 1, "loss", "a.md")
    assert shown_markdown(section).splitlines() == [
        "## Loss", "", "Text:", "", "\u00a0\u00a0E = y\\*\\_i log y\\_i\\", "\u00a0" * 4 + "+ \\[a\\]", "", "", "More."]

"""The architecture editor: shapes and parameter counts follow every edit, an invalid layer is
marked with its reason in its row, and Apply starts a new run with that network."""
import numpy as np
import pytest

from cnn import arch
from cnn.presets import digits_network

from app.studio.arch_editor import INVALID, ArchitectureEditor
from app.model.state import RunState

DIGITS = ("conv 8 3x3 bias=kernel init=he, relu, maxpool 2, conv 16 3x3 bias=kernel init=he, relu, maxpool 2, "
          "dense 64 init=he, relu, dense 10 init=xavier")


@pytest.fixture
def editor(qtbot):
    widget = ArchitectureEditor()
    qtbot.addWidget(widget)
    widget.set_network(None, "digits", 10)
    return widget


def column(editor, name):
    return [editor.cell_text(row, name) for row in range(editor.table.rowCount())]


def test_a_preset_is_shown_with_its_shapes_and_parameter_counts(editor):
    assert editor.text.text() == DIGITS
    assert column(editor, "Output") == ["8×26×26", "8×26×26", "8×13×13", "16×11×11", "16×11×11", "16×5×5", "64", "64",
                                        "10"]
    assert column(editor, "Parameters") == ["80", "0", "0", "1,168", "0", "0", "25,664", "0", "650"]
    assert editor.summary.text() == "9 layers · 27,562 parameters · 10 outputs"
    assert sum(p.size for p in digits_network().params.values()) == 27562
    assert editor.apply.isEnabled() and editor.problems() == []


def test_editing_a_number_in_a_row_updates_the_shapes_below(editor):
    editor.table.cellWidget(0, 2).setValue(5)            # the first convolution's kernel: 5×5
    assert column(editor, "Output")[:4] == ["8×24×24", "8×24×24", "8×12×12", "16×10×10"]
    assert column(editor, "Parameters")[0] == "208" and column(editor, "Parameters")[6] == "25,664"
    editor.table.cellWidget(0, 1).setValue(4)            # depth 4
    assert column(editor, "Parameters")[:4] == ["104", "0", "0", "592"]
    assert editor.text.text().startswith("conv 4 5x5 bias=kernel init=he, relu")


def test_an_invalid_layer_is_marked_with_its_reason_and_apply_waits(editor):
    editor.table.cellWidget(3, 2).setValue(14)           # a 14×14 kernel on the 8×13×13 pooled maps
    [(row, reason)] = editor.problems()
    assert row == 3 and reason == "a 14×14 kernel does not fit the 8×13×13 input after maxpool"
    assert editor.cell_text(3, "Problem") == reason
    assert editor.table.item(3, 10).background().color() == INVALID
    assert column(editor, "Output")[3:] == ["—"] * 6 and column(editor, "Parameters")[3:] == ["—"] * 6
    assert editor.table.item(3, 8).toolTip() == reason and "a layer above cannot be built" in \
        editor.table.item(4, 9).toolTip()                # each "—" says why in its tooltip
    assert not editor.apply.isEnabled() and "1 layer to fix" in editor.summary.text()
    editor.table.cellWidget(3, 2).setValue(3)
    assert editor.problems() == [] and editor.apply.isEnabled()


def test_a_last_layer_with_the_wrong_outputs_still_shows_its_shape_and_count(editor):
    editor.table.cellWidget(8, 1).setValue(3)            # dense 3 for 10 classes: Output was "?", Parameters empty
    [(row, reason)] = editor.problems()
    assert row == 8 and reason == "the last layer gives 3 outputs, but 10 classes are chosen"
    assert editor.cell_text(8, "Output") == "3" and editor.cell_text(8, "Parameters") == "195"   # (64 + 1) × 3
    assert not editor.apply.isEnabled()


def test_add_remove_and_reorder(editor):
    editor.table.selectRow(8)
    editor.add_layer("maxpool")                          # after the last dense: no image to pool
    assert editor.problems() == [(9, "maxpool needs an image (channels×height×width) but gets a 10-vector after "
                                     "dense")]
    for _ in range(3):
        editor.move_layer(-1)                            # up past the dense, its relu and the first dense
    assert editor.table.currentRow() == 6 and editor.problems() == []
    assert column(editor, "Output")[5:] == ["16×5×5", "16×2×2", "64", "64", "10"]
    assert column(editor, "Parameters")[7] == f"{16 * 2 * 2 * 64 + 64:,}"
    editor.remove_layer()
    assert editor.text.text() == DIGITS
    editor.table.selectRow(8)
    editor.add_layer("softmax")
    assert editor.problems() == [] and editor.text.text().endswith("dense 10 init=xavier, softmax")
    editor.table.selectRow(0)
    editor.move_layer(1)                                 # relu first, then the convolution: still valid
    assert editor.text.text().startswith("relu, conv 8 3x3")
    editor.table.cellWidget(8, 1).setValue(3)            # the dense gives 3 outputs, 10 classes are chosen
    assert editor.problems() == [(9, "the last layer gives 3 outputs, but 10 classes are chosen")]   # the softmax


def test_changing_a_rows_kind_gives_that_layer_its_numbers(editor):
    editor.table.cellWidget(1, 0).setCurrentText("dense")
    assert editor.specs[1] == arch.LayerSpec("dense", 10, init="xavier")
    assert editor.problems()[0] == (2, "maxpool needs an image (channels×height×width) but gets a 10-vector after "
                                       "dense")
    assert not editor.table.cellWidget(1, 2).isEnabled() and editor.table.cellWidget(1, 7).isEnabled()   # Init


def test_apply_starts_a_new_run_with_that_network(window, qtbot):
    window.settings_panel.limit.setValue(10)
    window.settings_panel.epochs.setValue(1)
    window.edit_architecture()
    editor = window.arch_editor
    assert editor.text.text() == "conv 5 3x3, sigmoid, dense 100, sigmoid, dense 2, sigmoid"
    editor.set_layers(arch.parse("conv 3 5x5 bias=kernel, relu, maxpool 2, dense 2"))
    with qtbot.waitSignal(window.worker.finished, timeout=60000):
        editor.apply.click()
    qtbot.waitUntil(lambda: window.state is RunState.IDLE, timeout=10000)
    network = window.worker.session.network
    assert arch.describe(network) == "conv 3 5x5 bias=kernel, relu, maxpool 2, dense 2"
    assert window.worker.session.config.architecture == "conv 3 5x5 bias=kernel, relu, maxpool 2, dense 2"
    assert np.isfinite(network.params["4.weights"]).all() and network.params["4.weights"].shape == (2, 432)


def typed_into(editor, qtbot, row, name, text):
    """Select the field's text and type `text` over it, as a user does."""
    from PySide6.QtCore import Qt
    field = editor.table.cellWidget(row, editor_columns().index(name))
    field.setFocus()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key_Delete)
    qtbot.keyClicks(field, text)
    return field


def editor_columns():
    from app.studio.arch_editor import COLUMNS
    return COLUMNS


def test_stride_pad_and_dropout_p_are_typed_and_the_shapes_follow(editor, qtbot):
    editor.set_network("conv 8 3x3, relu, dropout 0.5, dense 10", "digits", 10)
    assert editor.table.cellWidget(0, editor_columns().index("P")).isEnabled() is False
    assert editor.table.cellWidget(2, editor_columns().index("Stride")).isEnabled() is False
    typed_into(editor, qtbot, 0, "Stride", "2")
    assert column(editor, "Output")[0] == "8×13×13"
    typed_into(editor, qtbot, 0, "Pad", "same")
    assert column(editor, "Output")[0] == "8×14×14"
    typed_into(editor, qtbot, 0, "Pad", "1")
    assert column(editor, "Output")[0] == "8×14×14"      # ⌊(28 + 2 − 3)/2⌋ + 1
    typed_into(editor, qtbot, 2, "P", "0.3")
    assert editor.text.text() == "conv 8 3x3 stride=2 pad=1, relu, dropout 0.3, dense 10"
    assert editor.apply.isEnabled() and editor.problems() == []
    network = arch.build(arch.parse(editor.text.text()), 10, 0, "float64")
    assert network.layers[0].stride == 2 and network.layers[0].padding == 1 and network.layers[2].p == 0.3


@pytest.mark.parametrize("name, text, reason", [
    ("Stride", "two", "stride: stride must be a whole number, not 'two'"),
    ("Stride", "0", "stride: stride must be ≥ 1"),
    ("Pad", "full", "pad: pad must be valid or same or a whole number, not 'full'"),
    ("P", "1.5", "p: the probability must be from 0 to below 1, not 1.5"),
])
def test_a_value_typed_wrong_shows_the_grammars_reason_and_apply_waits(editor, qtbot, name, text, reason):
    editor.set_network("conv 8 3x3, relu, dropout 0.5, dense 10", "digits", 10)
    row = 2 if name == "P" else 0
    field = typed_into(editor, qtbot, row, name, text)
    assert editor.problems() == [(row, reason)]
    assert editor.cell_text(row, "Problem") == reason and "\n" not in reason
    assert editor.table.item(row, editor_columns().index("Problem")).background().color() == INVALID
    assert not editor.apply.isEnabled() and editor.summary.text() == "1 layer to fix (red rows)"
    assert field.toolTip() == reason
    typed_into(editor, qtbot, row, name, "1" if name != "P" else "0.2")   # mended: the row and Apply are back
    assert editor.problems() == [] and editor.apply.isEnabled() and field.toolTip() != reason


def test_a_padding_the_kernel_cannot_take_is_the_rows_problem(editor, qtbot):
    editor.set_network("conv 8 3x3, relu, dense 10", "digits", 10)
    typed_into(editor, qtbot, 0, "Pad", "5")
    assert editor.problems() == [(0, "pad=5 must be less than the kernel size 3 (more adds outputs that see only "
                                     "zeros)")]
    assert not editor.apply.isEnabled()


def test_the_modern_preset_and_every_new_block_are_shown_with_their_shapes(editor):
    editor.set_network(None, "modern", 10)
    assert editor.problems() == [] and editor.apply.isEnabled()
    text = ("conv 8 3x3 stride=2 pad=same, batchnorm, relu, avgpool 2, dropout 0.3, conv 16 3x3 pad=1, relu, "
            "globalavgpool, dense 10")
    editor.set_network(text, "modern", 10)
    assert editor.text.text() == text
    assert column(editor, "Output") == ["8×14×14", "8×14×14", "8×14×14", "8×7×7", "8×7×7", "16×7×7", "16×7×7", "16",
                                        "10"]
    params = column(editor, "Parameters")
    assert params[1] == "16" and params[4] == "0"     # batchnorm's γ and β per channel; dropout has none
    pad = editor.table.cellWidget(0, editor_columns().index("Pad"))
    assert pad.text() == "same" and editor.table.cellWidget(4, editor_columns().index("P")).text() == "0.3"

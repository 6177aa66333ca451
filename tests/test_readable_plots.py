"""Plots keep a readable size on small screens: a scene too wide for its place is drawn smaller
(app/widgets/fit_scene), and below ~0.8 its titles, ticks and colour-bar numbers were 5–6 px. These
check what the user reads: the scale the views are drawn at, the legend's entries whole, the status
bar's message whole, a log axis's labelled ticks."""
import html

import pytest
from PySide6.QtCore import Qt

from app.widgets.fit_scene import needed_scale
from tests.test_workspaces_fit import show_at

READABLE = 0.8     # the least scale a scene is drawn at: 9 pt titles and 7 pt ticks stay ≥ 8 px


def drawn_scale(view) -> float:
    """The scale `view`'s scene is drawn at (app/widgets/fit_scene), from its layout as it is now."""
    graphics = view.graphics
    least = graphics.ci.effectiveSizeHint(Qt.MinimumSize)
    return needed_scale(graphics.viewport().width(), graphics.viewport().height(), least.width(), least.height())


def digits_network(window, qtbot) -> None:
    panel = window.settings_panel    # the digits network: ten layers, eight maps a row
    panel.preset.setCurrentIndex(panel.preset.findData("digits"))
    panel.limit.setValue(10)
    window.reset()
    qtbot.waitUntil(lambda: window.model is not None and window.model.config.preset == "digits"
                    and len(window.model.layers) == 10, timeout=30000)


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_the_chosen_layers_views_are_drawn_at_a_readable_scale(window, qtbot, size):
    """Inspect ▸ Layer at 1024×768: the feature maps' panel was drawn at ~0.45 (its titles, the
    "outputs" bars' axes and the colour bars' numbers 5–6 px)."""
    digits_network(window, qtbot)
    show_at(window, qtbot, size, "inspect")
    window.tabs.setCurrentIndex(0)
    views = (window.features_view, window.weights_view, window.gradients_view)
    for layer in range(len(window.model.layers)):
        window.layer_choice.choose(layer)
        qtbot.waitUntil(lambda layer=layer: window.features_view.layer == layer and window.features_view.shown
                        and len(window.features_view.snapshot.layers) == 10, timeout=10000)

        def scales():
            return {type(view).__name__: round(drawn_scale(view), 2) for view in views}
        try:
            qtbot.waitUntil(lambda: min(scales().values()) >= READABLE, timeout=5000)
        except qtbot.TimeoutError:
            pass
        assert min(scales().values()) >= READABLE, (layer, scales())


LONG_NETWORK = "conv 6 3x3, relu, maxpool 2, conv 12 3x3, relu, maxpool 2, dense 32, relu, dense 10, softmax"


def legend_words(text: str) -> list[str]:
    """A legend entry's words as read, wrapped lines joined (a line breaks after a " · " or a word)."""
    return [word for word in html.unescape(text.replace("<br>", " ")).split() if word != "·"]


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_compared_runs_keep_readable_plots_and_every_legend_entry_whole(window, qtbot, size, raw_mnist,
                                                                        monkeypatch):
    """Two runs ticked: the one-line legend ("digits · digits 0–9 · all images · lr 0.08 · batch 128 · …")
    was wider than the panel, the scene drawn at half size (ticks and titles ~6 px), the second entry cut off."""
    import cnn.cli
    from cnn.cli import main as cnn_train
    monkeypatch.setattr(cnn.cli, "load_mnist", lambda path=None: raw_mnist)
    for arguments in (["--limit", "10"], ["--preset", "digits", "--limit", "2", "--batch-size", "16"],
                      ["--preset", "digits", "--limit", "2", "--batch-size", "16", "--lr", "0.05", "--momentum",
                       "0.5", "--shift", "1", "--arch", LONG_NETWORK]):
        assert cnn_train(["--epochs", "1", "--quiet", "--runs", str(window.runs_dir), *arguments]) == 0
    panel, compare = window.runs_panel, window.compare_view
    qtbot.waitUntil(lambda: panel.tree.topLevelItemCount() == 3, timeout=10000)
    show_at(window, qtbot, size, "runs")
    for path in list(panel.entries):
        panel.set_ticked(path)
    qtbot.waitUntil(lambda: compare.ready() and len(compare.labels) == 3, timeout=10000)
    assert any(LONG_NETWORK in label for label in compare.labels), compare.labels
    assert drawn_scale(compare) >= READABLE
    graphics = compare.graphics
    assert len(compare.legend.items) == 3
    for (_sample, label), text in zip(compare.legend.items, compare.labels, strict=True):
        assert legend_words(label.text) == legend_words(html.escape(text)), (label.text, text)

    def outside() -> list:
        """The legend entries not wholly in view, once the legend has been fitted to the new width."""
        view = graphics.viewport().rect()
        drawn = [(text, graphics.mapFromScene(label.mapToScene(label.item.boundingRect())).boundingRect())
                 for (_sample, label), text in zip(compare.legend.items, compare.labels, strict=True)]
        return [(text, rect, view) for text, rect in drawn if not view.contains(rect)]
    try:     # the legend is fitted when its layout is next processed (a busy machine: after this line)
        qtbot.waitUntil(lambda: not outside(), timeout=5000)
    except qtbot.TimeoutError:
        pass
    assert outside() == []


NEW_RUN = ("lr 0.08 → lr 0.05: a new run from a fresh network (Continue in the Runs panel goes on with the "
           "last run).")


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_a_status_message_is_whole_beside_the_state_and_the_progress(window, qtbot, size):
    """The message was drawn under the state label and the progress bar: "… goes on with the last ru",
    "… on 10,000" running into "Ready"."""
    show_at(window, qtbot, size, "train")
    status, bar = window.status, window.statusBar()
    assert hasattr(status, "message"), "QStatusBar draws its message under the widgets at its right, cut"
    for progress in ("ready", "epoch 2/2 · step 20/20 · done"):
        status._set_format(progress)
        bar.showMessage(NEW_RUN)

        def laid_out():
            message = status.message.geometry()
            return (status.message.text() == NEW_RUN and status.message.toolTip() == ""
                    and status.message.fontMetrics().horizontalAdvance(NEW_RUN) <= status.message.contentsRect().width()
                    and message.x() < 20   # the bar's first widget: QStatusBar has no room of its own to draw in
                    and all(widget.isVisible() and message.right() < widget.geometry().left()
                            and widget.geometry().right() <= bar.width()
                            for widget in (status.state_label, status.progress_bar)))
        try:
            qtbot.waitUntil(laid_out, timeout=5000)
        except qtbot.TimeoutError:
            pass
        assert laid_out(), (progress, status.message.text(), status.message.geometry(),
                            status.state_label.geometry(), status.progress_bar.geometry(), bar.width())
    longer = " ".join([NEW_RUN] * 3)
    bar.showMessage(longer)            # longer than any bar: elided, whole in its tooltip
    qtbot.waitUntil(lambda: status.message.toolTip() == longer, timeout=5000)
    assert status.message.text().endswith("…") and status.message.whole == longer
    bar.clearMessage()
    assert status.message.text() == "" and status.message.toolTip() == ""


@pytest.mark.parametrize("size", [(1024, 768), (1280, 720)])
def test_the_preset_box_shows_a_custom_network_whole(window, qtbot, size):
    """"custom network (from origina" even at 1280×720: the box kept the width of "original"."""
    show_at(window, qtbot, size, "train")
    box = window.settings_panel.preset
    for preset in ("original", "digits"):
        box.setCurrentIndex(box.findData(preset))
        window.settings_panel.architecture = "conv 4 3x3, relu, dense 10"

        def whole():
            return box.isVisible() and box.fontMetrics().horizontalAdvance(box.currentText()) + 20 <= box.width()
        try:
            qtbot.waitUntil(whole, timeout=5000)
        except qtbot.TimeoutError:
            pass
        assert box.currentText() == f"custom network (from {preset})" and whole(), (box.currentText(), box.width())


def test_the_comparisons_loss_axis_labels_only_what_fits(qtbot):
    """Three digits runs' losses (0.05 to 1): pyqtgraph's stock log axis labelled every minor tick,
    '1 0.9 0.8 0.7 0.6' and '0.1 0.09 0.08 0.07 0.06 0.05' piled up in two blobs."""
    from app.studio.views.compare import CompareView
    from app.widgets.plots import LogAxis
    view = CompareView()
    qtbot.addWidget(view)
    assert isinstance(view.loss_plot.getAxis("left"), LogAxis)

"""Plots keep a readable size on small screens: a scene too wide for its place is drawn smaller
(app/widgets/fit_scene), and below ~0.8 its titles, ticks and colour-bar numbers were 5–6 px. These
check what the user reads: the scale the views are drawn at, the legend's entries whole, the status
bar's message whole, a log axis's labelled ticks."""
import pytest

from tests.test_workspaces_fit import show_at

READABLE = 0.8     # the least scale a scene is drawn at: 9 pt titles and 7 pt ticks stay ≥ 8 px


def fitter_of(window, view):
    return next(f for f in window.scene_fitters if f.graphics is view.graphics)


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
            return {type(view).__name__: round(fitter_of(window, view).scale, 2) for view in views}
        try:
            qtbot.waitUntil(lambda: min(scales().values()) >= READABLE, timeout=5000)
        except qtbot.TimeoutError:
            pass
        assert min(scales().values()) >= READABLE, (layer, scales())

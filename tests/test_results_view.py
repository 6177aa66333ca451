from app.studio.views.results import image_count


def test_a_count_of_images_is_spelled_in_the_singular_for_one():
    assert image_count(1) == "1 image"
    assert image_count(0) == "0 images"
    assert image_count(2417) == "2,417 images"


def test_the_gallery_shows_the_values_it_sorts_by(qtbot, small_dataset):
    """"Highest loss first" showed p(prediction) 0.98, 0.99, 0.99, 0.85: it looked unsorted. Sorted by the
    loss, each image says its loss; the confident mistakes, sorted by p, say p."""
    from types import SimpleNamespace

    import numpy as np

    from cnn.evaluation import results_of
    from cnn.losses import LOSSES
    from app.studio.views.results import ResultsView
    view = ResultsView()
    qtbot.addWidget(view)
    test = small_dataset.test
    view.set_model(SimpleNamespace(images={"test": test.x[:, 0], "train": test.x[:, 0]},
                                   labels={"test": test.y.argmax(1), "train": test.y.argmax(1)}))
    outputs = np.random.default_rng(0).normal(size=(len(test.x), 2))
    results = results_of("test", test, (0, 1), LOSSES["softmax_cross_entropy"], outputs)
    view.show_results(results)
    view.mode.setCurrentIndex(view.mode.findData("hardest"))
    values = [float(view.gallery.item(n).text().split("E ")[1]) for n in range(view.gallery.count())]
    assert values and values == sorted(values, reverse=True)
    assert "the loss E" in view.gallery_caption.text()
    view.mode.setCurrentIndex(view.mode.findData("mistakes"))
    values = [float(view.gallery.item(n).text().split("p ")[1]) for n in range(view.gallery.count())]
    assert values and values == sorted(values, reverse=True) and "probability p" in view.gallery_caption.text()

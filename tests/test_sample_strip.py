"""The sample strip's red frames follow each epoch's predictions without drawing the thumbnails anew when
the frames stay as they are (app/studio/sample_picker.py)."""
import numpy as np

from app.studio.sample_picker import PAGE, SamplePicker


def red_framed(picker) -> list[int]:
    """The strip's rows whose icon has a red frame (its corner pixel)."""
    rows = []
    for row in range(picker.strip.count()):
        image = picker.strip.item(row).icon().pixmap(36, 36).toImage()
        if image.pixelColor(0, 0).red() > 200 and image.pixelColor(0, 0).green() < 100:
            rows.append(row)
    return rows


def test_new_predictions_reframe_the_strip_only_where_they_change(qtbot):
    picker = SamplePicker()
    qtbot.addWidget(picker)
    picker.show()
    rng = np.random.default_rng(0)
    images = {split: rng.uniform(size=(PAGE + 10, 28, 28)) for split in ("train", "test")}
    labels = {split: np.arange(PAGE + 10) % 10 for split in ("train", "test")}
    picker.set_data(images, labels)
    picker.select("test", 3)
    predicted = labels["test"].copy()
    predicted[[2, 5]] = (predicted[[2, 5]] + 1) % 10
    picker.set_predictions("test", predicted)
    assert red_framed(picker) == [2, 5]
    first = picker.strip.item(0)
    again = predicted.copy()
    again[5] = (labels["test"][5] + 3) % 10     # another wrong answer: same frames, another tooltip
    picker.set_predictions("test", again)
    assert picker.strip.item(0) is first       # nothing drawn anew
    assert picker.strip.item(5).toolTip() == f"#5: label {labels['test'][5]}, predicted {again[5]}"
    fixed = again.copy()
    fixed[2] = labels["test"][2]
    picker.set_predictions("test", fixed)
    assert red_framed(picker) == [5] and picker.next_wrong.text() != "None misclassified"


def test_a_hidden_strip_is_framed_when_it_is_shown(qtbot):
    """Each epoch's predictions reach the strip while Inspect is hidden: it is framed when shown, not at every
    epoch (drawing its thumbnails held the GIL the training needs)."""
    picker = SamplePicker()
    qtbot.addWidget(picker)
    images = {split: np.random.default_rng(1).uniform(size=(PAGE, 28, 28)) for split in ("train", "test")}
    labels = {split: np.arange(PAGE) % 10 for split in ("train", "test")}
    picker.set_data(images, labels)
    predicted = labels["test"].copy()
    predicted[[1, 4]] = (predicted[[1, 4]] + 1) % 10
    picker.set_predictions("test", predicted)
    assert red_framed(picker) == [] and picker.unmarked
    assert picker.next_wrong.text() != "None misclassified"     # the count follows at once
    picker.show()
    assert red_framed(picker) == [1, 4] and not picker.unmarked

"""Confusion matrix, per-class accuracy, per-sample losses, hardest examples and confident mistakes,
against hand-counted cases and the losses' own per-sample values."""
import numpy as np
import pytest

from cnn.data import Split
from cnn.evaluation import confusion_matrix, format_confusion, per_class_accuracy, results_of
from cnn.losses import LOSSES


def test_confusion_matrix_counts_rows_true_columns_predicted():
    true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    predicted = np.array([0, 1, 0, 1, 1, 2, 0, 2, 1])
    matrix = confusion_matrix(true, predicted, 4)
    np.testing.assert_array_equal(matrix, [[2, 1, 0, 0], [0, 2, 0, 0], [1, 1, 2, 0], [0, 0, 0, 0]])
    accuracy = per_class_accuracy(matrix)
    np.testing.assert_allclose(accuracy[:3], [2 / 3, 1.0, 0.5])
    assert np.isnan(accuracy[3])                                   # a class with no samples


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_sample_losses_are_each_samples_loss_alone(name):
    loss = LOSSES[name]
    rng = np.random.default_rng(0)
    y = np.eye(3)[rng.integers(0, 3, 20)]
    outputs = rng.uniform(0.01, 0.99, (20, 3)) if not loss.on_logits else rng.normal(0, 3, (20, 3))
    expected = [loss.value(y[i:i + 1], outputs[i:i + 1]) for i in range(20)]
    np.testing.assert_allclose(loss.per_sample(y, outputs), expected, rtol=1e-12)
    assert np.mean(loss.per_sample(y, outputs)) == pytest.approx(loss.value(y, outputs))


def results():
    y = np.eye(3)[[0, 0, 1, 1, 2, 2]]
    logits = np.array([[5.0, 0, 0],      # right, confident
                       [0, 3.0, 0],      # 0 taken for 1
                       [0, 1.0, 0],      # right, unsure
                       [0, 0, 9.0],      # 1 taken for 2, very confident
                       [0, 0, 2.0],      # right
                       [1.0, 0, 0]])     # 2 taken for 0
    split = Split(x=np.zeros((6, 1, 2, 2)), y=y, labels=np.array([4, 4, 7, 7, 9, 9]))
    return results_of("test", split, (4, 7, 9), LOSSES["softmax_cross_entropy"], logits)


def test_results_order_cells_hardest_and_confident_mistakes():
    r = results()
    assert r.accuracy == pytest.approx(0.5)
    np.testing.assert_array_equal(r.confusion(), [[1, 1, 0], [0, 1, 1], [1, 0, 1]])
    np.testing.assert_array_equal(r.cell(1, 2), [3])
    np.testing.assert_array_equal(r.cell(0, 0), [0])
    # the loss is logsumexp − the true logit: sample 3 (9 against 0) is worst, then 1 (3 against 0),
    # then 5 (0 against 1), then the three right ones, unsure first
    np.testing.assert_array_equal(r.hardest(), [3, 1, 5, 2, 4, 0])
    np.testing.assert_array_equal(r.hardest(2), [3, 1])
    np.testing.assert_array_equal(r.confident_mistakes(), [3, 1, 5])
    assert r.confidence[3] == pytest.approx(np.exp(9) / (np.exp(9) + 2))


def test_cells_are_sorted_by_loss_highest_first():
    y = np.eye(2)[[0, 0, 0]]
    split = Split(x=np.zeros((3, 1, 2, 2)), y=y, labels=np.array([0, 0, 0]))
    r = results_of("test", split, (0, 1), LOSSES["softmax_cross_entropy"], np.array([[0, 1.0], [0, 4.0], [0, 2.0]]))
    np.testing.assert_array_equal(r.cell(0, 1), [1, 2, 0])


def test_format_confusion_prints_any_number_of_classes():
    text = format_confusion(np.array([[3, 1], [0, 4]]), (0, 1))
    lines = text.splitlines()
    assert lines[0] == "confusion matrix (rows: true digit, columns: predicted):"
    assert lines[2].split() == ["0", "3", "1", "75.0%"]
    assert lines[3].split() == ["1", "0", "4", "100.0%"]
    ten = format_confusion(np.diag(np.arange(10) * 100), tuple(range(10)))
    assert len(ten.splitlines()) == 12 and ten.splitlines()[2].split()[-1] == "—"   # class 0 has no samples


def test_a_confidently_right_sample_has_a_positive_loss_not_zero():
    """E = log(1 + Σ_{j≠y} e^(z_j − z_y)) ≈ Σ_{j≠y} e^(z_j − z_y) = 9 e^−40 ≈ 3.8e−17: adding it to 1 before the
    log rounded E to exactly 0 while ∂E/∂z = softmax(z) − y* was not 0."""
    from cnn.losses import get_loss
    logits = np.array([[40.0, 0, 0, 0, 0, 0, 0, 0, 0, 0]])
    y = np.eye(10)[[0]]
    expected = 9 * np.exp(-40.0)
    loss = get_loss("softmax_cross_entropy")
    assert abs(loss.value(y, logits) - expected) <= 1e-12 * expected
    assert abs(loss.per_sample(y, logits)[0] - expected) <= 1e-12 * expected
    wrong = np.eye(10)[[3]]  # the same logits, label 3: E = 40 + log(1 + 9 e^−40) = 40
    assert loss.value(wrong, logits) == 40.0

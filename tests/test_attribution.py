"""Attribution maps against independent computations: finite differences for saliency and for
Grad-CAM's ∂y_c/∂A, direct one-image-at-a-time loops for occlusion."""
import numpy as np
import pytest

from cnn import Convolutional, Dense, MaxPool2D, ReLU, Reshape
from cnn.activations import softmax
from cnn.attribution import grad_cam, occlusion, receptive_centres, saliency
from cnn.gradcheck import numerical_gradient, relative_error
from cnn.losses import get_loss
from cnn.network import Network
from cnn.presets import digits_network, original_network


def digits64(seed=0):
    return digits_network(10, seed, "float64")


def an_image(seed=3):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.05, 1.0, (1, 1, 28, 28))   # no exact zeros: ReLU and max-pool kinks are unlikely


@pytest.mark.parametrize("build", [lambda: digits64(), lambda: original_network(2, 0, "float64")])
def test_saliency_is_the_size_of_the_scores_finite_difference_gradient(build):
    network = build()
    x = an_image()
    analytic = saliency(network, x, 1)
    numeric = numerical_gradient(lambda: float(network.forward(x)[0, 1]), x)[0]
    assert relative_error(analytic, np.abs(numeric)) < 1e-6


def test_saliency_refuses_a_class_the_network_does_not_have():
    with pytest.raises(ValueError, match="class index 10"):
        saliency(digits64(), an_image(), 10)


def small_network():
    """Conv 3@3×3 → ReLU → MaxPool 2 → Conv 2@3×3 → ReLU → Dense(8, 3) on 10×10 images, float64."""
    return Network([Convolutional((1, 10, 10), 3, 3, bias_mode="kernel", rng=1), ReLU(), MaxPool2D((3, 8, 8), 2),
                    Convolutional((3, 4, 4), 3, 2, bias_mode="kernel", rng=2), ReLU(), Reshape((2, 2, 2), (8,)),
                    Dense(8, 3, rng=3)])


@pytest.mark.parametrize("build, biases, image_side, layer, maps_layer",
                         [(lambda: digits64(1), (3.0, 30.0), 28, 3, 4), (small_network, (10.0, 40.0), 10, 0, 1),
                          (small_network, (10.0, 40.0), 10, 3, 4)])
def test_grad_cam_equals_a_direct_reimplementation_with_finite_differences(build, biases, image_side, layer,
                                                                             maps_layer):
    network = build()
    # every ReLU input positive (the biases lift the convolutions' outputs above 0): no ReLU kink and no
    # max-pool tie for the differences to straddle
    network.layers[0].params["biases"] += biases[0]
    network.layers[3].params["biases"] += biases[1]
    x = np.random.default_rng(4).uniform(0.05, 1.0, (1, 1, image_side, image_side))
    c = 2
    result = grad_cam(network, x, c, layer)
    assert result.layer == layer and result.maps_layer == maps_layer
    # A: run the layers up to the activation one by one; the score as a function of A by the layers above
    a = x
    for current in network.layers[:maps_layer + 1]:
        a = current.forward(a)
    a = a.copy()
    assert a.min() > 0

    def score():
        out = a
        for current in network.layers[maps_layer + 1:]:
            out = current.forward(out)
        return float(out[0, c])
    d_score = numerical_gradient(score, a)[0]                      # ∂y_c/∂A by differences
    alpha = d_score.mean(axis=(1, 2))
    cam = np.maximum(sum(alpha[k] * a[0, k] for k in range(a.shape[1])), 0)
    np.testing.assert_allclose(result.weights, alpha, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(result.cam, cam, rtol=1e-5, atol=1e-9)
    assert result.image.shape == (image_side, image_side)


def test_grad_cam_defaults_to_the_last_convolution_and_refuses_other_layers():
    network = digits64()
    assert grad_cam(network, an_image(), 0).layer == 3
    with pytest.raises(ValueError, match="not a convolution"):
        grad_cam(network, an_image(), 0, 2)


def test_receptive_field_centres_follow_the_layers():
    network = digits64()
    rows, cols = receptive_centres(network, 0)               # 3×3 valid: output r centred on input r + 1
    assert rows[0] == 1 and rows[-1] == 26
    rows, _ = receptive_centres(network, 4)                  # conv 3 → pool 2 → conv 3, then ReLU
    # conv2 output r sits on pooled r + 1, pooled q on 2q + 0.5 of conv1's output, which sits on +1
    assert rows[0] == pytest.approx(2 * 1 + 0.5 + 1)
    assert rows[1] - rows[0] == pytest.approx(2.0)


def test_grad_cam_image_interpolates_between_centres():
    network = digits64()
    result = grad_cam(network, an_image(), 2, 0)            # 26×26 maps centred on input pixels 1..26
    np.testing.assert_allclose(result.image[1:27, 1:27], result.cam)
    np.testing.assert_allclose(result.image[0, 1:27], result.cam[0])   # held beyond the outermost centre


@pytest.mark.parametrize("fill", [0.5, 0.0])
def test_occlusion_equals_patching_each_position_one_image_at_a_time(fill):
    network, loss = digits64(2), get_loss("softmax_cross_entropy")
    x = an_image(5)
    patch, c = 6, 3
    result = occlusion(network, x, c, loss, patch=patch, fill=fill, batch_size=100)
    base = softmax(network.forward(x))[0, c]
    size = 28 - patch + 1
    drops = np.empty((size, size))
    for r in range(size):
        for col in range(size):
            covered = x.copy()
            covered[0, 0, r:r + patch, col:col + patch] = fill
            drops[r, col] = base - softmax(network.forward(covered))[0, c]
    np.testing.assert_allclose(result.drops, drops, rtol=1e-10, atol=1e-14)
    assert result.probability == pytest.approx(base)
    # pixel (0, 0) is covered only by the patch at (0, 0); the centre pixel by patch² of them
    assert result.image[0, 0] == pytest.approx(drops[0, 0])
    assert result.image[13, 13] == pytest.approx(drops[13 - patch + 1:14, 13 - patch + 1:14].mean())


def test_occlusion_on_sigmoid_outputs_uses_the_outputs_as_they_are():
    network, loss = original_network(2, 0, "float64"), get_loss("binary_cross_entropy")
    x = an_image()
    result = occlusion(network, x, 1, loss, patch=10)
    covered = x.copy()
    covered[0, 0, 0:10, 0:10] = 0.5
    assert result.drops[0, 0] == pytest.approx(network.forward(x)[0, 1] - network.forward(covered)[0, 1])


def test_occlusion_refuses_a_patch_larger_than_the_image():
    with pytest.raises(ValueError, match="patch"):
        occlusion(digits64(), an_image(), 0, get_loss("softmax_cross_entropy"), patch=29)

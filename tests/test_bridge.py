"""The Keras bridge against TensorFlow: the same outputs and loss gradients both ways, and every
refusal (slow lane: TensorFlow takes long to import on this machine)."""
import json
import zipfile

import numpy as np
import pytest

from cnn import arch, weights_file
from cnn.bridge import BridgeError, keras_module, links
from cnn.bridge.cli import export_main, import_main
from cnn.bridge.export import save_keras, to_keras
from cnn.bridge.losses import per_sample_loss
from cnn.bridge.reading import from_keras, load_keras, load_network
from cnn.data import load_mnist, prepare
from cnn.presets import digits_network, original_network
from cnn.session import loss_for

pytestmark = pytest.mark.slow
keras = keras_module()
import tensorflow as tf  # noqa: E402  (after keras_module set the backend)

from cnn.bridge.position_bias import PositionBias  # noqa: E402

TOLERANCE = {"float64": 1e-10, "float32": 1e-5}
CUSTOM = "conv 4 5x5, tanh, maxpool 2, conv 6 3x3 bias=kernel, sigmoid, dense 20 init=he, relu, dense 3, softmax"
CLASSES = {"original": (0, 1), "digits": tuple(range(10)), "custom": (0, 1, 2)}


def ours(name, dtype):
    if name == "original":
        return original_network(2, 1, dtype)
    if name == "digits":
        return digits_network(10, 1, dtype)
    return arch.build(arch.parse(CUSTOM), 3, 1, dtype)


def native(name, dtype):
    """The same architectures written directly in Keras, with random weights of Keras' own."""
    layers = keras.layers
    chain = {
        "original": [layers.Conv2D(5, 3, use_bias=False), PositionBias(), layers.Activation("sigmoid"),
                     layers.Flatten(), layers.Dense(100, activation="sigmoid"), layers.Dense(2, activation="sigmoid")],
        "digits": [layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(2), layers.Conv2D(16, 3),
                   layers.ReLU(), layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10)],
        "custom": [layers.Conv2D(4, 5, use_bias=False), PositionBias(), layers.Activation("tanh"),
                   layers.MaxPooling2D(2),
                   layers.Conv2D(6, 3, activation="sigmoid"), layers.Flatten(), layers.Dense(20, activation="relu"),
                   layers.Dense(3), layers.Softmax()],
    }[name]
    for layer in chain:
        layer.dtype_policy = keras.DTypePolicy(dtype)
    model = keras.Sequential([keras.Input((28, 28, 1), dtype=dtype), *chain])
    rng = np.random.default_rng(5)
    model.set_weights([rng.standard_normal(w.shape) * 0.3 for w in model.get_weights()])
    return model


@pytest.fixture(scope="module")
def raw():
    return load_mnist()


def hundred(raw, name, dtype):
    classes = CLASSES[name]
    data = prepare(raw, classes, 100 // len(classes) + 1, 0, dtype)
    return data.test.x[:100], data.test.y[:100]


def relative(a, b):
    b = np.asarray(b)
    assert a.shape == b.shape
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def differences(network, model, linked, x, y):
    """(output, worst parameter gradient) relative differences between our engine and TensorFlow."""
    loss = loss_for(network)
    output = network.forward(x)
    network.backward(loss.prime(y, output))
    with tf.GradientTape() as tape:
        theirs = model(np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1))))
        energy = tf.reduce_mean(per_sample_loss(loss.name)(y, theirs))
    gradients = links.ours(linked, tape.gradient(energy, [link.variable for link in linked]))
    assert sorted(gradients) == sorted(network.params)
    assert abs(float(energy) - loss.value(y, output)) <= TOLERANCE[network.dtype.name] * max(1.0, abs(float(energy)))
    return relative(output, theirs.numpy()), max(relative(network.grads[n], gradients[n]) for n in gradients)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["original", "digits", "custom"])
def test_export_computes_the_same_outputs_and_gradients(raw, name, dtype, tmp_path):
    network = ours(name, dtype)
    x, y = hundred(raw, name, dtype)
    model, linked = to_keras(network)
    out, grad = differences(network, model, linked, x, y)
    assert out < TOLERANCE[dtype] and grad < TOLERANCE[dtype], (out, grad)
    # and through the file: the .keras loads back (safe mode) into the same weights
    path = save_keras(model, tmp_path / "m.keras")
    back = load_network(path)
    assert back.dtype == network.dtype
    for parameter in network.params:
        assert np.array_equal(back.params[parameter], network.params[parameter]), parameter


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", ["original", "digits", "custom"])
def test_import_computes_the_same_outputs_and_gradients(raw, name, dtype, tmp_path):
    original = native(name, dtype)
    path = tmp_path / "native.keras"
    original.save(path)
    model = load_keras(path)
    network, linked = from_keras(model)
    assert network.dtype.name == dtype
    x, y = hundred(raw, name, dtype)
    assert np.array_equal(model(np.transpose(x, (0, 2, 3, 1))).numpy(), original(np.transpose(x, (0, 2, 3, 1))).numpy())
    out, grad = differences(network, model, linked, x, y)
    assert out < TOLERANCE[dtype] and grad < TOLERANCE[dtype], (out, grad)
    assert arch.describe(network) == {"original": "conv 5 3x3, sigmoid, dense 100, sigmoid, dense 2, sigmoid",
                                      "digits": "conv 8 3x3 bias=kernel, relu, maxpool 2, conv 16 3x3 bias=kernel, "
                                                "relu, maxpool 2, dense 10",
                                      "custom": "conv 4 5x5, tanh, maxpool 2, conv 6 3x3 bias=kernel, sigmoid, "
                                                "dense 20, relu, dense 3, softmax"}[name]


def model_of(*chain, shape=(28, 28, 1)):
    return keras.Sequential([keras.Input(shape), *chain])


L = keras.layers


@pytest.mark.parametrize("model, message", [
    (lambda: model_of(L.Conv2D(4, 3, strides=(2, 1), name="c"), L.Flatten(), L.Dense(2)),
     r"layer 'c' (Conv2D): strides (2, 1): only the same stride down and across is read"),
    (lambda: model_of(L.Conv2D(4, 3, dilation_rate=2, name="c"), L.Flatten(), L.Dense(2)),
     r"layer 'c' (Conv2D): dilation (2, 2): only 1 is read"),
    (lambda: model_of(L.Conv2D(4, (3, 5), name="c"), L.Flatten(), L.Dense(2)),
     "layer 'c' (Conv2D): kernel 3×5: only square kernels are read"),
    (lambda: model_of(L.Conv2D(4, 3), L.MaxPooling2D(2, strides=1, name="p"), L.Flatten(), L.Dense(2)),
     r"layer 'p' (MaxPooling2D): strides (1, 1) with pool size (2, 2): only strides equal to the pool size are read"),
    (lambda: model_of(L.Conv2D(4, 3), L.MaxPooling2D(2, padding="same", name="p"), L.Flatten(), L.Dense(2)),
     "layer 'p' (MaxPooling2D): padding 'same': only 'valid' is read"),
    (lambda: model_of(L.Flatten(), L.Dropout(0.5, noise_shape=(1, 784), name="d"), L.Dense(2)),
     "layer 'd' (Dropout): rate 0.5, noise_shape (1, 784): only a rate below 1 and no noise_shape are read"),
    (lambda: model_of(L.Conv2D(4, 3), L.BatchNormalization(axis=1, name="b"), L.Flatten(), L.Dense(2)),
     "layer 'b' (BatchNormalization): axis 1: only a normalization over the last axis"),
    (lambda: model_of(L.Conv2D(4, 3), L.Flatten(), L.BatchNormalization(name="b"), L.Dense(2)),
     "layer 'b' (BatchNormalization): after a Flatten of a many-channel image its units are in Keras' order"),
    (lambda: model_of(L.Conv2D(4, 3), L.AveragePooling2D(2, strides=1, name="a"), L.Flatten(), L.Dense(2)),
     "layer 'a' (AveragePooling2D): strides (1, 1) with pool size (2, 2): only strides equal to the pool size"),
    (lambda: model_of(L.ZeroPadding2D(((1, 2), (1, 1)), name="z"), L.Conv2D(4, 3), L.Flatten(), L.Dense(2)),
     "layer 'z' (ZeroPadding2D): padding ((1, 2), (1, 1)): only the same N on every side, right before a Conv2D "
     "with padding 'valid', is read"),
    (lambda: model_of(L.ZeroPadding2D(3, name="z"), L.Conv2D(4, 3), L.Flatten(), L.Dense(2)),
     "layer 'z' (ZeroPadding2D): padding 3: the engine pads a 3×3 kernel's input by at most 2"),
    (lambda: model_of(L.Reshape((14, 56, 1), name="r"), L.Flatten(), L.Dense(2)),
     "layer 'r' (Reshape): to (14, 56, 1): only a Reshape to the shape the image has already"),
    (lambda: model_of(L.GlobalAveragePooling2D(keepdims=True, name="g"), L.Flatten(), L.Dense(2)),
     "layer 'g' (GlobalAveragePooling2D): only the average of each channel of a channels-last image, without "
     "keepdims, is read"),
    (lambda: model_of(L.Conv2D(4, 3), L.Dense(2, name="d")),
     "layer 'd' (Dense): gets a 26×26×4 image: put a Flatten before it"),
    (lambda: model_of(L.Flatten(), L.Dense(2, activation="elu", name="d")),
     "layer 'd' (Dense): activation 'elu' is not read; only sigmoid, tanh, relu, softmax and linear are"),
    (lambda: model_of(L.Conv2D(4, 3, activation="softmax", name="c"), L.Flatten(), L.Dense(2)),
     "layer 'c' (Conv2D): softmax over an image's channels has no counterpart here; only after a Dense"),
    (lambda: model_of(L.Flatten(), L.Dense(2), L.LeakyReLU(name="r")),
     "layer 'r' (LeakyReLU): not supported"),
    (lambda: model_of(L.Conv2D(4, 3), PositionBias(name="b"), L.Flatten(), L.Dense(2)),
     "layer 'b' (PositionBias): a PositionBias is read only right after a Conv2D without a bias of its own"),
    (lambda: model_of(L.Conv2D(4, 3), L.Flatten(), L.Dense(2), shape=(32, 32, 3)),
     "the input is 32×32×3: the bridge reads 28×28×1 images (height × width × channels, channels last)"),
    (lambda: model_of(L.Flatten(), L.Dense(2), shape=(28, 28, 2)),
     "the input is 28×28×2: the bridge reads 28×28×1 images"),
])
def test_unsupported_models_are_refused_naming_the_layer_and_the_reason(model, message):
    with pytest.raises(BridgeError) as caught:
        from_keras(model())
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_branching_model_is_refused():
    inputs = keras.Input((28, 28, 1))
    flat = L.Flatten()(inputs)
    joined = L.Add(name="add")([L.Dense(2)(flat), L.Dense(2)(flat)])
    with pytest.raises(BridgeError, match=r"^layer '.*' \(Dense\): not fed by the layer before it|^layer 'add'"):
        from_keras(keras.Model(inputs, joined))


def test_a_lambda_layer_is_never_loaded(tmp_path):
    path = tmp_path / "lambda.keras"
    model_of(L.Flatten(), L.Lambda(lambda t: t * 2, name="twice"), L.Dense(2)).save(path)
    with pytest.raises(BridgeError, match=r"layer 'twice' \(Lambda\): layers that carry code are never loaded"):
        load_keras(path)


def test_a_config_naming_another_module_is_refused_before_keras_reads_it(tmp_path):
    path, forged = tmp_path / "m.keras", tmp_path / "forged.keras"
    model_of(L.Flatten(), L.Dense(2, name="d")).save(path)
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(forged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "config.json":
                config = json.loads(data)
                config["config"]["layers"][-1]["module"] = "os"
                config["config"]["layers"][-1]["class_name"] = "system"
                data = json.dumps(config).encode()
            target.writestr(item, data)
    with pytest.raises(BridgeError, match=r"layer 'd' \(system\) comes from module 'os', which is never imported"):
        load_keras(forged)


def test_the_commands_carry_a_network_across_and_back(tmp_path, capsys):
    network = arch.build(arch.parse(CUSTOM), 3, 2, "float64")
    weights_file.save(network, tmp_path / "w.npz")
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "m.keras")]) == 0
    assert import_main([str(tmp_path / "m.keras"), str(tmp_path / "back.npz")]) == 0
    back = weights_file.load(tmp_path / "back.npz")
    for name in network.params:
        assert np.array_equal(back.params[name], network.params[name])
    capsys.readouterr()
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "m.h5")]) == 2
    assert capsys.readouterr().err == f"cnn-export: error: {tmp_path / 'm.h5'}: the format is told by the suffix " \
                                      "(.keras, .onnx, .tflite) or --format; .h5 is none of them\n"
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    assert import_main([str(tmp_path / "junk.keras"), str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cnn-import: error: {tmp_path / 'junk.keras'}: not a .keras archive")
    assert err.count("\n") == 1
    assert not (tmp_path / "x.npz").exists()


def test_the_studio_opens_a_keras_model(window, qtbot, tmp_path):
    network = original_network(2, 42, "float64")
    model, _ = to_keras(network)
    path = save_keras(model, tmp_path / "original.keras")
    window.open_weights(str(path))
    qtbot.waitUntil(lambda: window.model is not None and window.model.source == str(path), timeout=60000)
    for name, value in network.params.items():
        assert np.array_equal(window.worker.session.network.params[name], value), name
    bad = tmp_path / "leaky.keras"
    model_of(L.Flatten(), L.Dense(2), L.LeakyReLU(name="drop")).save(bad)
    with qtbot.waitSignal(window.error_shown, timeout=60000) as blocker:
        window.open_weights(str(bad))
    assert blocker.args[0].startswith(f"{bad}: layer 'drop' (LeakyReLU): not supported")
    assert np.array_equal(window.worker.session.network.params["3.weights"], network.params["3.weights"])

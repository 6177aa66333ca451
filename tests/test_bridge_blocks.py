"""The Keras bridge with the new blocks (slow lane: TensorFlow): strides, padding, average pooling,
dropout and batch normalization go to Keras (.keras, SavedModel, TFLite) computing the engine's
evaluation-mode outputs, and come back bit for bit; models built and trained in plain Keras (the
canonical MNIST example, one with batch normalization, padding='same' and strides 2 behind a
28×28 input and a Reshape) are imported with Keras' outputs and train on with cnn-train --load;
a refusal names every layer it cannot read."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn import arch, weights_file
from cnn.bridge import BridgeError, keras_module
from cnn.bridge.cli import export_main, import_main
from cnn.bridge.export import to_keras
from cnn.bridge.reading import from_keras
from cnn.data import load_mnist, prepare
from cnn.presets import modern_network

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
BLOCKS = ("conv 4 3x3 stride=2 pad=1, batchnorm, tanh, avgpool 2, conv 6 5x5 stride=2 pad=same, relu, globalavgpool, "
          "dense 12, batchnorm, relu, dropout 0.3, dense 3, softmax")
keras = keras_module()
L = keras.layers


@pytest.fixture(scope="module")
def mnist():
    return prepare(load_mnist(), tuple(range(10)), 200, 0, "float32")   # 2,000 of each split


def channels_last(x):
    return np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1)))


def trained_like(network, seed=0):
    """Parameters and running statistics moved off their initial values, as after training."""
    rng = np.random.default_rng(seed)
    network.set_params({k: v + 0.1 * rng.standard_normal(v.shape) for k, v in network.params.items()})
    network.set_buffers({k: rng.random(v.shape) + 0.5 if k.endswith("var") else
                         rng.standard_normal(v.shape) if k.endswith("mean") else v
                         for k, v in network.buffers.items()})
    return network


def relative(theirs, ours) -> float:
    return float(np.max(np.abs(theirs - ours)) / max(1.0, np.max(np.abs(theirs))))


def layout(network) -> list:
    return [{**layer, "args": {k: v for k, v in layer["args"].items() if k != "init"}}
            for layer in network.architecture()]


@pytest.mark.parametrize("text", ["modern", BLOCKS])
@pytest.mark.parametrize("dtype, tolerance", [("float32", 1e-5), ("float64", 1e-12)])
def test_the_new_blocks_go_to_keras_with_the_engines_outputs_and_come_back_bit_for_bit(text, dtype, tolerance,
                                                                                      mnist, tmp_path):
    network = modern_network(10, 1, dtype) if text == "modern" else arch.build(arch.parse(text), 3, 1, dtype)
    trained_like(network)
    weights_file.save(network, tmp_path / "w.npz")
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "m.keras")]) == 0
    model = keras.saving.load_model(tmp_path / "m.keras")
    x = mnist.test.x[:100].astype(dtype)
    ours = network.predict(x)                        # evaluation mode: running statistics, no dropout
    theirs = keras.ops.convert_to_numpy(model(channels_last(x), training=False))
    assert theirs.dtype == np.dtype(dtype) and relative(theirs, ours) < tolerance, relative(theirs, ours)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"BatchNormalization", "Dropout"} <= kinds
    norm = next(layer for layer in model.layers if type(layer).__name__ == "BatchNormalization")
    assert (norm.momentum, norm.epsilon) == (0.9, 1e-5)
    assert import_main([str(tmp_path / "m.keras"), str(tmp_path / "back.npz")]) == 0
    back = weights_file.load(tmp_path / "back.npz")
    assert layout(back) == layout(network)
    for name, value in {**network.params, **network.buffers}.items():
        ours_back = {**back.params, **back.buffers}[name]
        assert ours_back.dtype == value.dtype and (np.array_equal(ours_back, value) or name.endswith("generator")), name


def test_the_modern_network_as_savedmodel_and_tflite_computes_the_engines_outputs(mnist, tmp_path, capsys):
    import tensorflow as tf
    network = trained_like(modern_network(10, 1, "float32"))
    weights_file.save(network, tmp_path / "w.npz")
    x = mnist.test.x[:100]
    ours = network.predict(x)
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "saved"), "--format", "savedmodel"]) == 0
    loaded = tf.saved_model.load(str(tmp_path / "saved"))      # kept: its variables live as long as it does
    served = loaded.serve(tf.constant(channels_last(x))).numpy()
    assert relative(served, ours) < 1e-5
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "m.tflite")]) == 0
    interpreter = tf.lite.Interpreter(model_path=str(tmp_path / "m.tflite"))
    [given], [output] = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.resize_tensor_input(given["index"], [len(x), 28, 28, 1])
    interpreter.allocate_tensors()
    interpreter.set_tensor(given["index"], channels_last(x))
    interpreter.invoke()
    assert relative(interpreter.get_tensor(output["index"]), ours) < 1e-5


def canonical():
    """The best-known Keras MNIST example."""
    return keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
                             L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(), L.Dropout(0.5),
                             L.Dense(10, activation="softmax")])


def normalized():
    """A functional model: a 28×28 input reshaped, batch normalization, padding='same' and strides 2."""
    image = keras.Input((28, 28))
    x = L.Reshape((28, 28, 1))(image)
    x = L.Conv2D(16, 3, strides=2, padding="same", use_bias=False)(x)
    x = L.Activation("relu")(L.BatchNormalization(momentum=0.9)(x))   # Keras' ε 1e-3; its momentum 0.99 would
    x = L.Conv2D(32, 3, strides=2, padding="same")(x)
    x = L.ReLU()(L.BatchNormalization(momentum=0.9)(x))               # hardly move in a short test's 32 steps
    x = L.Dropout(0.25)(L.Flatten()(x))
    return keras.Model(image, L.Dense(10, activation="softmax")(x))


@pytest.mark.parametrize("make, front", [(canonical, (28, 28, 1)), (normalized, (28, 28))], ids=["canonical", "bn"])
def test_models_trained_in_plain_keras_are_imported_and_train_on(make, front, mnist, tmp_path, capsys):
    keras.utils.set_random_seed(0)
    model = make()
    model.compile(keras.optimizers.Adam(0.005), "categorical_crossentropy")
    train = mnist.train.x[:2000].reshape(-1, *front)
    model.fit(train, mnist.train.y[:2000], batch_size=128, epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    assert import_main([str(tmp_path / "m.keras"), str(tmp_path / "w.npz")]) == 0
    network = weights_file.load(tmp_path / "w.npz")
    x = mnist.test.x[:100]
    theirs = model.predict(x.reshape(-1, *front), verbose=0)
    assert relative(theirs, network.predict(x)) < 1e-5
    labels = np.argmax(mnist.test.y[:100], axis=1)
    assert np.mean(np.argmax(theirs, axis=1) == labels) > 0.5    # it learned: the comparison has teeth
    done = subprocess.run([sys.executable, "-m", "cnn", "--load", str(tmp_path / "w.npz"), "--classes", *"0123456789",
                           "--limit", "20", "--epochs", "1", "--quiet", "--save", str(tmp_path / "on.npz")],
                          cwd=ROOT, capture_output=True, text=True, timeout=900, env={"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert "test accuracy" in done.stdout
    on = weights_file.load(tmp_path / "on.npz")
    assert layout(on) == layout(network)
    assert any(not np.array_equal(on.params[name], value) for name, value in network.params.items())


def test_a_refusal_names_every_unsupported_layer_at_once(tmp_path, capsys):
    sequence = keras.Input((28, 28), name="image")
    x = L.LSTM(8, return_sequences=True, name="lstm")(sequence)
    x = L.Attention(name="attention")([x, x])
    model = keras.Model(sequence, L.Dense(10)(L.Flatten()(x)))
    model.save(tmp_path / "m.keras")
    assert import_main([str(tmp_path / "m.keras"), str(tmp_path / "w.npz")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and f"{tmp_path / 'm.keras'}: layers 'lstm' (LSTM), 'attention' (Attention): " \
                                      "not supported; the bridge reads Conv2D" in error, error
    assert not (tmp_path / "w.npz").exists()
    with pytest.raises(BridgeError, match=r"^layers 'lstm' \(LSTM\), 'attention' \(Attention\): not supported;"):
        from_keras(model)


def test_a_keras_batch_normalization_with_its_own_epsilon_computes_the_same(mnist):
    """Keras' default ε = 1e−3 goes into the running variance: evaluation computes what Keras does."""
    model = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(3, 3), L.BatchNormalization(epsilon=1e-3),
                              L.Flatten(), L.Dense(4), L.BatchNormalization(), L.Softmax()])
    rng = np.random.default_rng(3)
    for layer in model.layers:
        for variable in layer.weights:
            variable.assign(rng.random(variable.shape).astype("float32") + 0.1)
    network, _ = from_keras(model)
    x = mnist.test.x[:100]
    assert relative(model.predict(channels_last(x), verbose=0), network.predict(x)) < 1e-5
    moving = np.asarray(model.layers[1].moving_variance)
    assert np.allclose(network.buffers["1.running_var"], moving + 1e-3 - 1e-5, rtol=1e-6)
    back, _ = to_keras(network)
    assert relative(keras.ops.convert_to_numpy(back(channels_last(x))), network.predict(x)) < 1e-5


def test_a_28_by_28_input_flattened_is_read_as_the_engines_image(mnist):
    model = keras.Sequential([keras.Input((28, 28)), L.Flatten(), L.Dense(5, activation="tanh"), L.Dense(3)])
    network, _ = from_keras(model)
    x = mnist.test.x[:100]
    assert network.input_shape == (1, 28, 28)
    assert relative(model.predict(x.reshape(-1, 28, 28), verbose=0), network.predict(x)) < 1e-5

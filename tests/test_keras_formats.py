"""cnn-export's Keras-side formats, opened as their users open them (slow lane: TensorFlow): the
original network's .keras in a Python that has Keras and not this project, a SavedModel through
tf.saved_model.load, a .tflite through tf.lite.Interpreter; and the .keras back through cnn-import."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnn import weights_file
from cnn.bridge.cli import export_main, import_main
from cnn.data import load_mnist, prepare
from cnn.presets import digits_network, original_network

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
PLAIN_KERAS = """
import os, sys
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
# no copy of this project either: an editable install's finder and any folder holding cnn/bridge go
sys.meta_path[:] = [f for f in sys.meta_path if "cnn_studio" not in getattr(f, "__module__", "")]
sys.path[:] = [p for p in sys.path if not os.path.isdir(os.path.join(p or ".", "cnn", "bridge"))]
root = os.path.realpath(sys.argv[1])
assert not any(os.path.realpath(p or ".") == root for p in sys.path), sys.path
try:
    import cnn
except ModuleNotFoundError:
    pass
else:
    raise SystemExit(f"this project is importable from {cnn.__file__}")
import keras
import numpy as np
model = keras.saving.load_model(sys.argv[2])          # safe mode, nothing registered
np.save(sys.argv[4], keras.ops.convert_to_numpy(model(np.load(sys.argv[3]))))   # predict() would cast to float32
print(sorted({type(layer).__module__.split(".")[0] for layer in model.layers}))
"""


@pytest.fixture(scope="module")
def images():
    return prepare(load_mnist(), tuple(range(10)), 11, 0, "float64").test.x[:100]


def exported(tmp_path, network, name, *options) -> Path:
    weights_file.save(network, tmp_path / "w.npz")
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / name), *options]) == 0
    return tmp_path / name


def channels_last(x):
    return np.ascontiguousarray(np.transpose(x, (0, 2, 3, 1)))


def test_the_original_networks_keras_file_loads_in_plain_keras(images, tmp_path, capsys):
    network = original_network(2, 1, "float64")
    model = exported(tmp_path, network, "original.keras")
    np.save(tmp_path / "x.npy", channels_last(images))
    done = subprocess.run([sys.executable, "-I", "-c", PLAIN_KERAS, str(ROOT), str(model), str(tmp_path / "x.npy"),
                           str(tmp_path / "y.npy")], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "['keras']"      # every layer one of Keras' own
    theirs = np.load(tmp_path / "y.npy")
    assert theirs.dtype == np.float64 and np.max(np.abs(theirs - network.forward(images))) < 1e-12
    assert import_main([str(model), str(tmp_path / "back.npz")]) == 0   # and it comes back, bit for bit
    back = weights_file.load(tmp_path / "back.npz")
    assert back.layers[0].bias_mode == "position"
    for name, value in network.params.items():
        assert np.array_equal(back.params[name], value)


@pytest.mark.parametrize("make, dtype, tolerance", [(original_network, "float64", 1e-12),
                                                    (digits_network, "float32", 1e-5)])
def test_a_savedmodel_computes_the_engines_outputs(make, dtype, tolerance, images, tmp_path):
    import tensorflow as tf
    network = make(10 if make is digits_network else 2, 1, dtype)
    folder = exported(tmp_path, network, "saved", "--format", "savedmodel")
    loaded = tf.saved_model.load(str(folder))
    theirs = loaded.serve(tf.constant(channels_last(images.astype(dtype)))).numpy()
    assert theirs.dtype == np.dtype(dtype)
    assert np.max(np.abs(theirs - network.forward(images.astype(dtype)))) < tolerance
    assert export_main([str(tmp_path / "w.npz"), str(folder), "--format", "savedmodel"]) == 2   # never overwritten


@pytest.mark.parametrize("make", [original_network, digits_network])
def test_a_tflite_file_computes_the_engines_outputs_in_float32(make, images, tmp_path, capsys):
    import tensorflow as tf
    network = make(10 if make is digits_network else 2, 1, "float64")   # TFLite computes in float32
    path = exported(tmp_path, network, "m.tflite")
    assert capsys.readouterr().out.endswith("float32 (TensorFlow Lite computes in float32)\n")
    interpreter = tf.lite.Interpreter(model_path=str(path))
    [given], [output] = interpreter.get_input_details(), interpreter.get_output_details()
    interpreter.resize_tensor_input(given["index"], [len(images), 28, 28, 1])
    interpreter.allocate_tensors()
    interpreter.set_tensor(given["index"], channels_last(images).astype(np.float32))
    interpreter.invoke()
    theirs = interpreter.get_tensor(output["index"])
    assert theirs.dtype == np.float32 and np.max(np.abs(theirs - network.forward(images))) < 1e-5


def branch_model(scale=0.0, with_other_add=False):
    """A Conv2D without bias plus the bias branch cnn-export writes, or a look-alike the importer refuses."""
    from cnn.bridge import keras_module
    keras = keras_module()
    layers = keras.layers
    image = keras.Input((28, 28, 1), name="image")
    conv = layers.Conv2D(2, 3, use_bias=False, name="conv")(image)
    if with_other_add:
        added = layers.Add(name="add")([conv, layers.Conv2D(2, 3, name="other")(image)])
    else:
        pooled = layers.GlobalAveragePooling2D(name="pool")(layers.Rescaling(scale, name="zero")(image))
        added = layers.Add(name="add")([conv, layers.Reshape((26, 26, 2), name="shape")(
            layers.Dense(26 * 26 * 2, name="bias")(pooled))])
    return keras.Model(image, layers.Dense(2, name="out")(layers.Flatten(name="flat")(added)))


def test_the_bias_branch_is_read_and_look_alikes_are_refused_naming_the_layer():
    from cnn.bridge import BridgeError
    from cnn.bridge.reading import from_keras
    network, _ = from_keras(branch_model())
    assert network.layers[0].bias_mode == "position" and network.params["0.biases"].shape == (2, 26, 26)
    for model in (branch_model(scale=1.0), branch_model(with_other_add=True)):
        with pytest.raises(BridgeError) as refused:
            from_keras(model)
        assert str(refused.value) == (
            "layer 'add' (Add): only the bias branch cnn-export writes (Rescaling(0) → GlobalAveragePooling2D → "
            "Dense → Reshape, added to a Conv2D without a bias) is read")

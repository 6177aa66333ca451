"""ONNX out and in (cnn-export M.onnx, cnn-import M.onnx): onnxruntime computes what the engine
computes, onnx.checker accepts what is written, a round trip changes no bit, torch.onnx.export's
files for the presets' networks are read (slow: torch), and every hostile file is one line."""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from cnn import arch, weights_file
from cnn.bridge import BridgeError
from cnn.bridge.cli import export_main, import_main
from cnn.bridge.onnx_file import MAX_FILE_BYTES
from cnn.bridge.onnx_in import load_onnx_network
from cnn.bridge.onnx_out import save_onnx, to_onnx
from cnn.data import load_mnist, prepare
from cnn.presets import digits_network, original_network

ROOT = Path(__file__).resolve().parent.parent
CUSTOM = "conv 4 5x5, tanh, maxpool 2, conv 6 3x3 bias=kernel, sigmoid, dense 20 init=he, relu, dense 3, softmax"
NO_CONV = "maxpool 2, dense 20, tanh, dense 12, relu, dense 3, softmax"   # every op onnxruntime has in float64


def layout(net) -> list:
    """The architecture without how the weights were first drawn (which a model file does not say)."""
    return [{**layer, "args": {k: v for k, v in layer["args"].items() if k != "init"}} for layer in net.architecture()]


def network(name, dtype):
    if name == "original":
        return original_network(2, 1, dtype)
    if name == "digits":
        return digits_network(10, 1, dtype)
    return arch.build(arch.parse(CUSTOM if name == "custom" else NO_CONV), 3, 1, dtype)


@pytest.fixture(scope="module")
def images():
    """100 MNIST test images, as the engine sees them."""
    return prepare(load_mnist(), tuple(range(10)), 11, 0, "float64").test.x[:100]


def runtime(model, x):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"image": x})[0]


@pytest.mark.parametrize("name", ["original", "digits", "custom"])
def test_onnxruntime_computes_the_engines_outputs_in_float32(name, images, tmp_path):
    ours = network(name, "float32")
    save_onnx(ours, tmp_path / "m.onnx")
    model = onnx.load(tmp_path / "m.onnx")
    onnx.checker.check_model(model, full_check=True)
    x = images.astype(np.float32)
    theirs = runtime(model, x)
    assert theirs.dtype == np.float32 and theirs.shape == (100, *ours.output_shape)
    assert np.max(np.abs(theirs - ours.forward(x))) < 1e-5
    assert model.graph.output[0].name == ("logits" if name == "digits" else "output")


@pytest.mark.parametrize("name", ["original", "digits", "custom"])
def test_float64_models_compute_the_engines_outputs_to_the_last_digits(name, images):
    """onnxruntime's CPU has no float64 Conv: onnx's reference evaluator checks those; onnxruntime
    checks a float64 network of the operators it has."""
    ours = network(name, "float64")
    model = to_onnx(ours)
    assert model.graph.input[0].type.tensor_type.elem_type == TensorProto.DOUBLE
    expected = ours.forward(images)
    assert np.max(np.abs(ReferenceEvaluator(model).run(None, {"image": images})[0] - expected)) < 1e-12
    plain = network("no conv", "float64")
    assert np.max(np.abs(runtime(to_onnx(plain), images) - plain.forward(images))) < 1e-14


@pytest.mark.parametrize("name", ["original", "digits", "custom"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_round_trip_through_onnx_changes_no_bit(name, dtype, tmp_path, capsys):
    ours = network(name, dtype)
    weights_file.save(ours, tmp_path / "w.npz")
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "m.onnx")]) == 0
    assert import_main([str(tmp_path / "m.onnx"), str(tmp_path / "back.npz")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"wrote {tmp_path / 'm.onnx'}: {len(ours.layers)} layers, "
                   f"{sum(p.size for p in ours.params.values()):,} parameters, {dtype}",
                   f"wrote {tmp_path / 'back.npz'}: {len(ours.layers)} layers, {dtype}"]
    back = weights_file.load(tmp_path / "back.npz")
    assert layout(back) == layout(ours)
    for key, value in ours.params.items():
        assert back.params[key].dtype == value.dtype and np.array_equal(back.params[key], value)


def graph_model(nodes, initializers=(), shape=(None, 1, 28, 28), output="y", opset=17):
    """A model from hand-made nodes on an 'x' input."""
    dims = ["N" if d is None else d for d in shape]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
                              [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)], list(initializers))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], ir_version=8)


def refused(path, capsys) -> str:
    """cnn-import's one line for `path` (exit 2, nothing written, no traceback), without its prefix."""
    target = path.parent / "out.npz"
    assert import_main([str(path), str(target)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"cnn-import: error: {path}: "), err
    assert not target.exists()
    return err[len(f"cnn-import: error: {path}: "):].rstrip("\n")


def test_a_refusal_names_every_unsupported_node_at_once(tmp_path, capsys):
    scale = numpy_helper.from_array(np.ones(1, np.float32), "s")
    nodes = [helper.make_node("InstanceNormalization", ["x", "s", "s"], ["a"], name="norm"),
             helper.make_node("LeakyRelu", ["a"], ["b"], name="leaky"),
             helper.make_node("Relu", ["b"], ["c"], name="fine"),
             helper.make_node("GlobalMaxPool", ["c"], ["y"], name="gmp")]
    onnx.save(graph_model(nodes, [scale]), tmp_path / "m.onnx")
    assert refused(tmp_path / "m.onnx", capsys) == (
        "3 nodes the importer does not read: node 'norm' (InstanceNormalization), node 'leaky' (LeakyRelu), node "
        "'gmp' (GlobalMaxPool); it reads Conv, Add, MaxPool, AveragePool, GlobalAveragePool, ReduceMean, "
        "BatchNormalization, Dropout, Flatten, Reshape, Gemm, MatMul, Sigmoid, Tanh, Relu, Softmax, Identity and "
        "Constant")


def conv_weights(**attributes):
    return ([helper.make_node("Conv", ["x", "w"], ["y"], name="c", **attributes)],
            [numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "w")])


@pytest.mark.parametrize("case, message", [
    (lambda: graph_model(*conv_weights(strides=[2, 1])),
     "node 'c' (Conv): strides [2, 1]: only the same stride down and across is read"),
    (lambda: graph_model(*conv_weights(pads=[0, 0, 1, 1])),
     "node 'c' (Conv): pads [0, 0, 1, 1]: only N on every side (below the kernel size 3) or those of 'same' "
     "([1, 1, 1, 1]) are read"),
    (lambda: graph_model(*conv_weights(auto_pad="SAME_LOWER", strides=[2, 2])),
     "node 'c' (Conv): auto_pad SAME_LOWER: only NOTSET, VALID and SAME_UPPER are read"),
    (lambda: graph_model([helper.make_node("ReduceMean", ["x"], ["y"], name="m", axes=[1])], opset=17),
     "node 'm' (ReduceMean): axes [1]: only the mean over height and width (2, 3) is read"),
    (lambda: graph_model([helper.make_node("BatchNormalization", ["x", "s", "s", "s", "s"], ["y", "m", "v"],
                                           name="b", training_mode=1)],
                         [numpy_helper.from_array(np.ones(1, np.float32), "s")]),
     "node 'b' (BatchNormalization): training_mode: only inference batch normalization (one output) is read"),
    (lambda: graph_model([helper.make_node("Dropout", ["x", "r", "t"], ["y"], name="d")],
                         [numpy_helper.from_array(np.array(0.5, np.float32), "r"),
                          numpy_helper.from_array(np.array(True), "t")]),
     "node 'd' (Dropout): training_mode true: only the inference graph's dropout is read"),
    (lambda: graph_model(*conv_weights(), shape=(None, 3, 28, 28)),
     "the input is N×3×28×28: the importer reads N×1×28×28 images (batch, channels, height, width)"),
    (lambda: graph_model([helper.make_node("Relu", ["x"], ["a"], name="r"), helper.make_node("Relu", ["x"], ["y"])]),
     "a Relu node: not fed by the node before it; the importer reads one chain of layers"),
    (lambda: graph_model([helper.make_node("Gemm", ["x", "w"], ["y"], name="g")],
                         [numpy_helper.from_array(np.ones((784, 2), np.float32), "w")]),
     "node 'g' (Gemm): gets a 1×28×28 image: flatten it first"),
    (lambda: graph_model([helper.make_node("Relu", ["x"], ["y"])], opset=6),
     "opset 6: the importer reads ONNX opsets 7 to 24"),
])
def test_models_the_engine_cannot_compute_are_refused_naming_the_node(case, message, tmp_path, capsys):
    onnx.save(case(), tmp_path / "m.onnx")
    assert refused(tmp_path / "m.onnx", capsys) == message


def test_hostile_files_are_one_line_each(tmp_path, capsys):
    save_onnx(original_network(2, 0, "float32"), tmp_path / "good.onnx")
    data = (tmp_path / "good.onnx").read_bytes()
    (tmp_path / "cut.onnx").write_bytes(data[:len(data) // 2])
    assert refused(tmp_path / "cut.onnx", capsys).startswith("not an ONNX model (DecodeError")
    (tmp_path / "text.onnx").write_text("this is not a model\n" * 50)
    assert refused(tmp_path / "text.onnx", capsys).startswith("not an ONNX model")
    (tmp_path / "empty.onnx").write_bytes(b"")
    assert refused(tmp_path / "empty.onnx", capsys) == "not an ONNX model (no graph of nodes, or no IR version)"
    with open(tmp_path / "huge.onnx", "wb") as sparse:      # a sparse file: no disk, and never read
        sparse.truncate(MAX_FILE_BYTES + 1)
    assert refused(tmp_path / "huge.onnx", capsys) == (
        f"is {MAX_FILE_BYTES + 1:,} bytes, more than the {MAX_FILE_BYTES:,} an ONNX model of the engine's at most "
        "50,000,000 parameters can need; refused unread")
    (tmp_path / "folder.onnx").mkdir()
    assert refused(tmp_path / "folder.onnx", capsys) == "is a folder, not a file"
    os.mkfifo(tmp_path / "fifo.onnx")
    assert refused(tmp_path / "fifo.onnx", capsys) == "is a FIFO (named pipe), not a file"


def with_tensor(tmp_path, tensor) -> Path:
    """A one-Gemm model whose weights are `tensor` (named 'w')."""
    nodes = [helper.make_node("Flatten", ["x"], ["f"]), helper.make_node("Gemm", ["f", "w"], ["y"], name="g")]
    path = tmp_path / "m.onnx"
    onnx.save(graph_model(nodes, [tensor]), path)
    return path


def external(location, offset=0, length=784 * 2 * 4):
    tensor = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[784, 2])
    tensor.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        tensor.external_data.add(key=key, value=value)
    return tensor


def test_constants_and_external_data_are_checked_before_they_are_read(tmp_path, capsys):
    secret = tmp_path.parent / f"{tmp_path.name}-secret.bin"
    secret.write_bytes(np.ones((784, 2), np.float32).tobytes())
    for location in (f"../{secret.name}", str(secret)):
        assert refused(with_tensor(tmp_path, external(location)), capsys) == (
            f"constant 'w': its data file {location!r} is not a file name beside the model; external data is read "
            "only from the model's own folder")
    (tmp_path / "w.bin").write_bytes(np.arange(784 * 2, dtype=np.float32).tobytes())
    assert refused(with_tensor(tmp_path, external("w.bin", offset=8)), capsys) == \
        "constant 'w': its data file w.bin ends before byte 6,280"
    assert refused(with_tensor(tmp_path, external("gone.bin")), capsys) == \
        "constant 'w': its data file gone.bin: no such file"
    network = load_onnx_network(with_tensor(tmp_path, external("w.bin")))   # beside the model: read
    assert np.array_equal(network.params["1.weights"], np.arange(784 * 2, dtype=np.float32).reshape(784, 2).T)
    huge = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[10 ** 6, 10 ** 6], raw_data=b"\0" * 16)
    assert refused(with_tensor(tmp_path, huge), capsys) == \
        "constant 'w' declares [1000000, 1000000]: more than the 50,000,000 values a constant may hold"
    many = [TensorProto(name=f"c{i}", data_type=TensorProto.FLOAT, dims=[30_000_000], raw_data=b"") for i in (1, 2)]
    nodes = [helper.make_node("Flatten", ["x"], ["y"])]
    onnx.save(graph_model(nodes, many), tmp_path / "many.onnx")
    assert refused(tmp_path / "many.onnx", capsys) == "the constants declare more than the 50,000,000 values in all " \
                                                      "that the engine's networks can hold; refused unread"
    relus = [helper.make_node("Relu", [f"r{i}" if i else "x"], [f"r{i + 1}" if i < 1000 else "y"]) for i in range(1001)]
    onnx.save(graph_model(relus), tmp_path / "long.onnx")
    assert refused(tmp_path / "long.onnx", capsys) == \
        "the graph has 1,001 nodes, more than the 1,000 the importer reads"
    short = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[784, 2], raw_data=b"\0" * 16)
    assert refused(with_tensor(tmp_path, short), capsys) == "constant 'w' declares 1,568 values but holds 16 bytes"


def test_the_format_is_told_by_the_suffix_or_the_option(tmp_path, capsys):
    weights_file.save(original_network(2, 0, "float32"), tmp_path / "w.npz")
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "m.h5")]) == 2
    assert capsys.readouterr().err == f"cnn-export: error: {tmp_path / 'm.h5'}: the format is told by the suffix " \
                                      "(.keras, .onnx, .tflite) or --format; .h5 is none of them\n"
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "m.keras"), "--format", "onnx"]) == 2
    assert capsys.readouterr().err == f"cnn-export: error: {tmp_path / 'm.keras'}: --format onnx writes .onnx\n"
    assert import_main([str(tmp_path / "m.tflite"), str(tmp_path / "x.npz")]) == 2
    assert capsys.readouterr().err == f"cnn-import: error: {tmp_path / 'm.tflite'}: the format is told by the " \
                                      "suffix (.keras, .onnx); .tflite is none of them\n"
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "m.onnx"), "--format", "onnx"]) == 0
    assert not any(p.name.startswith(".") for p in tmp_path.iterdir())   # no temporary file left


def torch_networks(dtype):
    """The presets' networks written in torch (the original's bias per position as an added parameter)."""
    torch = pytest.importorskip("torch")
    nn = torch.nn

    class PositionBias(nn.Module):
        def __init__(self):
            super().__init__()
            self.bias = nn.Parameter(torch.randn(5, 26, 26))

        def forward(self, x):
            return x + self.bias
    torch.manual_seed(3)
    original = nn.Sequential(nn.Conv2d(1, 5, 3, bias=False), PositionBias(), nn.Sigmoid(), nn.Flatten(),
                             nn.Linear(3380, 100), nn.Sigmoid(), nn.Linear(100, 2), nn.Sigmoid())
    digits = nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
                           nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 64), nn.ReLU(), nn.Linear(64, 10))
    kind = torch.float64 if dtype == "float64" else torch.float32
    return {"original": original.to(kind), "digits": digits.to(kind)}


@pytest.mark.slow
@pytest.mark.parametrize("name", ["original", "digits"])
@pytest.mark.parametrize("dynamo", [True, False], ids=["torch.export", "torchscript"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_onnx_exports_of_the_presets_networks_are_imported(name, dynamo, dtype, images, tmp_path, capsys):
    import torch
    model = torch_networks(dtype)[name]
    path = tmp_path / f"{name}.onnx"
    x = torch.from_numpy(images.astype(dtype))
    torch.onnx.export(model, (x[:1],), str(path), dynamo=dynamo)
    capsys.readouterr()
    assert import_main([str(path), str(tmp_path / "w.npz")]) == 0
    ours = weights_file.load(tmp_path / "w.npz")
    expected = {"original": original_network(2, 0, dtype), "digits": digits_network(10, 0, dtype)}[name]
    assert layout(ours) == layout(expected) and ours.dtype == np.dtype(dtype)
    with torch.no_grad():
        theirs = model(x).numpy()
    difference = np.max(np.abs(ours.forward(images) - theirs)) / max(1.0, np.max(np.abs(theirs)))
    assert difference < (1e-5 if dtype == "float32" else 1e-12), difference


def test_onnx_models_of_a_bias_after_the_convolution_are_read_exactly(tmp_path):
    """A Conv with a bias of its own, then an Add per position: the two are one bias per position."""
    rng = np.random.default_rng(0)
    named = {"w": (2, 1, 3, 3), "b": (2,), "p": (2, 26, 26)}
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"]), helper.make_node("Add", ["c", "p"], ["y"])]
    arrays = [numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), n) for n, shape in named.items()]
    model = graph_model(nodes, arrays)
    onnx.save(model, tmp_path / "m.onnx")
    network = load_onnx_network(tmp_path / "m.onnx")
    assert network.layers[0].bias_mode == "position"
    x = rng.random((4, 1, 28, 28)).astype(np.float32)
    assert np.max(np.abs(network.forward(x) - runtime_named(model, x))) < 1e-5
    assert math.prod(network.params["0.biases"].shape) == 2 * 26 * 26


def runtime_named(model, x):
    session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


def test_a_network_without_an_onnx_writer_is_refused_naming_the_layer():
    ours = original_network(2, 0, "float32")
    ours.layers[1] = type("Swish", (type(ours.layers[1]),), {})(dtype="float32")
    with pytest.raises(BridgeError, match=r"^layer 1 \(Swish\) has no ONNX equivalent$"):
        to_onnx(ours)


def test_the_studio_opens_an_onnx_model(tmp_path):
    from cnn.bridge import load_any
    ours = digits_network(10, 2, "float32")
    save_onnx(ours, tmp_path / "m.onnx")
    opened = load_any(tmp_path / "m.onnx")
    for name, value in ours.params.items():
        assert np.array_equal(opened.params[name], value)
    (tmp_path / "bad.onnx").write_bytes(b"\x08")
    with pytest.raises(ValueError, match=rf"^{tmp_path / 'bad.onnx'}: not an ONNX model \(DecodeError"):
        load_any(tmp_path / "bad.onnx")


def test_without_onnx_the_commands_say_how_to_install_it(monkeypatch, tmp_path, capsys):
    from cnn.bridge.onnx_out import INSTALL_HINT
    weights_file.save(original_network(2, 0, "float32"), tmp_path / "w.npz")
    save_onnx(original_network(2, 0, "float32"), tmp_path / "m.onnx")
    monkeypatch.setitem(sys.modules, "onnx", None)      # import onnx now raises ImportError
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "new.onnx")]) == 3
    assert capsys.readouterr().err == f"cnn-export: {INSTALL_HINT}\n"
    assert import_main([str(tmp_path / "m.onnx"), str(tmp_path / "back.npz")]) == 3
    assert capsys.readouterr().err == f"cnn-import: {INSTALL_HINT}\n"
    assert not (tmp_path / "new.onnx").exists() and not (tmp_path / "back.npz").exists()


@pytest.mark.slow
def test_onnx_export_and_import_never_import_tensorflow(tmp_path):
    weights_file.save(digits_network(10, 0, "float32"), tmp_path / "w.npz")
    script = ("import sys; from cnn.bridge.cli import export_main, import_main; "
              f"assert export_main([{str(tmp_path / 'w.npz')!r}, {str(tmp_path / 'm.onnx')!r}]) == 0; "
              f"assert import_main([{str(tmp_path / 'm.onnx')!r}, {str(tmp_path / 'b.npz')!r}]) == 0; "
              "print(sorted(m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "[]"


BLOCKS = ("conv 4 3x3 stride=2 pad=1, batchnorm, tanh, avgpool 2, conv 6 5x5 stride=2 pad=same, relu, globalavgpool, "
          "dense 12, batchnorm, relu, dropout 0.3, dense 3, softmax")


def blocks_network(name, dtype):
    """The modern preset's network, or BLOCKS, with parameters and running statistics as after training."""
    from cnn.presets import modern_network
    ours = modern_network(10, 1, dtype) if name == "modern" else arch.build(arch.parse(BLOCKS), 3, 1, dtype)
    rng = np.random.default_rng(5)
    ours.set_params({k: v + 0.1 * rng.standard_normal(v.shape) for k, v in ours.params.items()})
    ours.set_buffers({k: rng.random(v.shape) + 0.5 if k.endswith("var") else
                      rng.standard_normal(v.shape) if k.endswith("mean") else v for k, v in ours.buffers.items()})
    return ours


def relative(theirs, ours) -> float:
    return float(np.max(np.abs(theirs - ours)) / max(1.0, np.max(np.abs(theirs))))


@pytest.mark.parametrize("name", ["modern", "blocks"])
def test_the_new_blocks_compute_the_engines_evaluation_outputs_in_onnx(name, images):
    """float32 in onnxruntime; float64 in onnx's reference evaluator (onnxruntime's CPU has no float64
    Conv), to 1e-12 but for ε: an attribute is a float32, 1e-5 as 9.99999975e-6."""
    ours = blocks_network(name, "float32")
    model = to_onnx(ours)
    ops = {node.op_type for node in model.graph.node}
    assert {"BatchNormalization", "Dropout"} <= ops
    assert name == "modern" or {"AveragePool", "GlobalAveragePool"} <= ops
    x = images.astype(np.float32)
    assert relative(runtime(model, x), ours.predict(x)) < 1e-5
    ours = blocks_network(name, "float64")
    theirs = ReferenceEvaluator(to_onnx(ours)).run(None, {"image": images})[0]
    assert relative(theirs, ours.predict(images)) < 1e-11


@pytest.mark.parametrize("name", ["modern", "blocks"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_new_blocks_come_back_from_onnx_bit_for_bit(name, dtype, tmp_path, capsys):
    ours = blocks_network(name, dtype)
    weights_file.save(ours, tmp_path / "w.npz")
    assert export_main([str(tmp_path / "w.npz"), str(tmp_path / "m.onnx")]) == 0
    assert import_main([str(tmp_path / "m.onnx"), str(tmp_path / "back.npz")]) == 0
    back = weights_file.load(tmp_path / "back.npz")
    assert layout(back) == layout(ours)
    for key, value in {**ours.params, **ours.buffers}.items():
        if not key.endswith("generator"):      # a dropout's mask stream: a model file does not hold it
            assert np.array_equal({**back.params, **back.buffers}[key], value), key


def test_onnx_padding_and_batch_normalization_of_other_writers_are_read(images):
    """pads of 'same' given as numbers, auto_pad SAME_UPPER, and a batch normalization with its own ε
    (folded into the running variance) compute what onnxruntime computes."""
    rng = np.random.default_rng(2)
    arrays = {"w": rng.standard_normal((3, 1, 3, 3)), "v": rng.standard_normal((2, 3, 3, 3)),
              "g": rng.random(2) + 0.5, "b": rng.standard_normal(2), "m": rng.standard_normal(2), "s": rng.random(2)}
    nodes = [helper.make_node("Conv", ["x", "w"], ["a"], strides=[2, 2], pads=[0, 0, 1, 1]),
             helper.make_node("Conv", ["a", "v"], ["c"], auto_pad="SAME_UPPER", strides=[2, 2]),
             helper.make_node("BatchNormalization", ["c", "g", "b", "m", "s"], ["y"], epsilon=1e-3)]
    model = graph_model(nodes, [numpy_helper.from_array(v.astype(np.float32), k) for k, v in arrays.items()])
    network = from_onnx_model(model)
    assert [layer.padding for layer in network.layers[:2]] == ["same", "same"]
    x = images.astype(np.float32)
    assert relative(runtime_named(model, x), network.predict(x)) < 1e-5


def from_onnx_model(model):
    from cnn.bridge.onnx_in import from_onnx
    return from_onnx(model, Path("."))


@pytest.mark.slow
@pytest.mark.parametrize("dynamo", [True, False], ids=["torch.export", "torchscript"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_torch_onnx_exports_of_the_new_blocks_are_imported(dynamo, dtype, images, tmp_path, capsys):
    """A torch model in evaluation mode with strides, padding, batch normalization (both exporters may
    fold it into the layer before), average pooling, the global average and dropout."""
    import torch
    torch.manual_seed(0)
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.AvgPool2d(2),
                          nn.Conv2d(4, 6, 3, padding="same"), nn.BatchNorm2d(6), nn.Tanh(), nn.Dropout(0.3),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 12), nn.BatchNorm1d(12), nn.ReLU(),
                          nn.Dropout(0.5), nn.Linear(12, 3)).to(getattr(torch, dtype))
    with torch.no_grad():
        for norm in (m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)):
            norm.running_mean.normal_()
            norm.running_var.uniform_(0.5, 1.5)
            norm.weight.uniform_(0.5, 1.5)
            norm.bias.normal_()
    model.eval()
    x = torch.from_numpy(images.astype(dtype))
    torch.onnx.export(model, (x[:1],), str(tmp_path / "m.onnx"), dynamo=dynamo)
    capsys.readouterr()
    assert import_main([str(tmp_path / "m.onnx"), str(tmp_path / "w.npz")]) == 0
    ours = weights_file.load(tmp_path / "w.npz")
    assert ours.layers[0].stride == 2 and ours.layers[0].padding == 1 and ours.dtype == np.dtype(dtype)
    with torch.no_grad():
        theirs = model(x).numpy()
    assert relative(theirs, ours.predict(images)) < (1e-5 if dtype == "float32" else 1e-12)

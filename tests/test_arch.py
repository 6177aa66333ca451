"""The architecture grammar (cnn.arch): what it builds, and every message it gives."""
import json

import numpy as np
import pytest

from app.model.run_labels import summary
from cnn import arch, cli, weights_file
from cnn.checkpoint import load_checkpoint
from cnn.config import RunConfig, SettingError
from cnn.data import load_mnist
from cnn.presets import digits_network, original_network
from cnn.runs.runfile import read_info
from cnn.runs.store import RunStore
from cnn.session import Session

ORIGINAL = "conv 5 3x3, sigmoid, dense 100, sigmoid, dense 2, sigmoid"
DIGITS = ("conv 8 3x3 bias=kernel init=he, relu, maxpool 2, conv 16 3x3 bias=kernel init=he, relu, maxpool 2, "
          "dense 64 init=he, relu, dense 10 init=xavier")


def same_network(a, b):
    assert a.architecture() == b.architecture()
    assert a.dtype == b.dtype
    assert a.params.keys() == b.params.keys()
    for name in a.params:
        assert np.array_equal(a.params[name], b.params[name]), name


@pytest.mark.parametrize("seed", [0, 7])
def test_the_issues_strings_build_the_presets_with_their_weights(seed):
    same_network(arch.build(arch.parse(ORIGINAL), 2, seed, "float64"), original_network(2, seed, "float64"))
    same_network(arch.build(arch.parse(DIGITS), 10, seed, "float32"), digits_network(10, seed, "float32"))


def test_case_and_spaces_are_free_and_the_text_comes_back_canonical():
    messy = "  CONV 8 3X3 Bias=Kernel INIT=he ,relu,   MaxPool 2,conv 16 3x3 bias=kernel init=he , relu, maxpool 2," \
            "DENSE 64 init=HE, Relu, DENSE 10 init=XAVIER "
    assert arch.canonical(messy, 10) == DIGITS
    assert arch.canonical("conv 5 3x3 bias=position init=normal, sigmoid, dense 2", 2) == "conv 5 3x3, sigmoid, dense 2"


def test_presets_are_described_in_the_grammar():
    assert arch.describe(original_network()) == ORIGINAL
    assert arch.describe(digits_network()) == DIGITS


@pytest.mark.parametrize("spec, message", [
    ("conv 8 3x3, relu, maxpool 0, dense 2", "token 3 'maxpool 0': size must be ≥ 1"),
    ("", "the architecture is empty; write layers separated by commas, e.g. 'conv 5 3x3, sigmoid, dense 2, sigmoid'"),
    ("relu,, dense 2", "token 2 '': no layer between two commas"),
    ("pool 2, dense 2", "token 1 'pool 2': unknown layer 'pool'; the layers are conv, maxpool, avgpool, globalavgpool, "
                        "dropout, batchnorm, dense, sigmoid, tanh, relu, softmax"),
    ("relu 2, dense 2", "token 1 'relu 2': relu takes no numbers or options, not '2'"),
    ("conv 5, dense 2", "token 1 'conv 5': conv takes DEPTH KxK, e.g. 'conv 8 3x3'"),
    ("maxpool, dense 2", "token 1 'maxpool': maxpool takes a window size S, e.g. 'maxpool 2'"),
    ("dense 2 3", "token 1 'dense 2 3': dense takes a number of units N, e.g. 'dense 10'"),
    ("dense init=he 2", "token 1 'dense init=he 2': options come after the numbers: dense takes a number of units N, "
                        "e.g. 'dense 10'"),
    ("conv x 3x3, dense 2", "token 1 'conv x 3x3': depth must be a whole number, not 'x'"),
    ("conv 0 3x3, dense 2", "token 1 'conv 0 3x3': depth must be ≥ 1"),
    ("conv 2000 3x3, dense 2", "token 1 'conv 2000 3x3': depth must be at most 1,024"),
    ("conv 5 3, dense 2", "token 1 'conv 5 3': the kernel size must be KxK, e.g. 3x3, not '3'"),
    ("conv 5 3x4, dense 2", "token 1 'conv 5 3x4': kernels are square (KxK), not 3x4"),
    ("conv 5 0x0, dense 2", "token 1 'conv 5 0x0': kernel size must be ≥ 1"),
    ("dense 2.5", "token 1 'dense 2.5': size must be a whole number, not '2.5'"),
    ("dense 200000, dense 2", "token 1 'dense 200000': size must be at most 100,000"),
    ("conv 5 3x3 bias=both, dense 2", "token 1 'conv 5 3x3 bias=both': bias must be position or kernel, not 'both'"),
    ("conv 5 3x3 init=zero, dense 2",
     "token 1 'conv 5 3x3 init=zero': init must be normal or he or xavier, not 'zero'"),
    ("conv 5 3x3 step=2, dense 2", "token 1 'conv 5 3x3 step=2': unknown option 'step'; conv takes stride=S (a whole "
                                   "number), pad=valid|same|N, bias=position|kernel, init=normal|he|xavier"),
    ("conv 5 3x3 stride=0, dense 2", "token 1 'conv 5 3x3 stride=0': stride must be ≥ 1"),
    ("conv 5 3x3 stride=x, dense 2", "token 1 'conv 5 3x3 stride=x': stride must be a whole number, not 'x'"),
    ("conv 5 3x3 pad=full, dense 2", "token 1 'conv 5 3x3 pad=full': pad must be valid or same or a whole number, "
                                     "not 'full'"),
    ("conv 5 3x3 pad=-1, dense 2", "token 1 'conv 5 3x3 pad=-1': pad must be ≥ 0"),
    ("conv 5 3x3 pad=3, dense 2", "token 1 'conv 5 3x3 pad=3': pad=3 must be less than the kernel size 3 (more adds "
                                  "outputs that see only zeros)"),
    ("conv 5 3x3 pad=1 pad=1, dense 2", "token 1 'conv 5 3x3 pad=1 pad=1': pad is given twice"),
    ("maxpool 2, conv 4 3x3 stride=20, dense 2", "token 2 'conv 4 3x3 stride=20': stride 20 is larger than the "
                                                 "1×14×14 input after maxpool"),
    ("conv 4 5x5 stride=8, conv 4 5x5, dense 2", "token 2 'conv 4 5x5': a 5×5 kernel does not fit the 4×3×3 input "
                                                 "after conv"),
    ("dropout 1, dense 2", "token 1 'dropout 1': the probability must be from 0 to below 1, not 1"),
    ("dropout half, dense 2", "token 1 'dropout half': the probability must be a number from 0 to below 1, e.g. 0.5, "
                              "not 'half'"),
    ("dropout, dense 2", "token 1 'dropout': dropout takes a probability P of dropping each value, from 0 to below 1, "
                         "e.g. 'dropout 0.5'"),
    ("batchnorm 2, dense 2", "token 1 'batchnorm 2': batchnorm takes no numbers or options, not '2'"),
    ("globalavgpool 2, dense 2", "token 1 'globalavgpool 2': globalavgpool takes no numbers or options, not '2'"),
    ("avgpool 30, dense 2", "token 1 'avgpool 30': a 30×30 window does not fit the 1×28×28 input"),
    ("dense 4, globalavgpool, dense 2", "token 2 'globalavgpool': globalavgpool needs an image (channels×height×width) "
                                        "but gets a 4-vector after dense"),
    ("dense 2 bias=kernel", "token 1 'dense 2 bias=kernel': unknown option 'bias'; dense takes init=normal|he|xavier"),
    ("maxpool 2 init=he, dense 2", "token 1 'maxpool 2 init=he': unknown option 'init'; maxpool takes no options"),
    ("dense 2 init=he init=xavier", "token 1 'dense 2 init=he init=xavier': init is given twice"),
    # shapes
    ("dense 4, conv 3 3x3, dense 2", "token 2 'conv 3 3x3': conv needs an image (channels×height×width) but gets a "
                                     "4-vector after dense"),
    ("dense 4, maxpool 2, dense 2", "token 2 'maxpool 2': maxpool needs an image (channels×height×width) but gets a "
                                    "4-vector after dense"),
    ("conv 4 3x3, maxpool 2, conv 4 14x14, dense 2", "token 3 'conv 4 14x14': a 14×14 kernel does not fit the 4×13×13 "
                                                     "input after maxpool"),
    ("maxpool 29, dense 2", "token 1 'maxpool 29': a 29×29 window does not fit the 1×28×28 input"),
    ("conv 3 3x3, softmax, dense 2", "token 2 'softmax': softmax needs a vector but gets 3×26×26 after conv; put it "
                                     "after a dense"),
    ("conv 5 3x3, sigmoid, dense 3", "token 3 'dense 3': the last layer gives 3 outputs, but 2 classes are chosen"),
    ("conv 5 3x3, relu", "token 2 'relu': the network ends with 5×26×26; end with a dense 2 (one output per class)"),
    ("dense 30000, dense 2000, dense 2", "token 2 'dense 2000': the network would have 83,552,000 parameters, more "
                                         "than the 50,000,000 allowed"),
])
def test_every_message_names_the_token_and_the_reason(spec, message):
    with pytest.raises(arch.ArchitectureError) as caught:
        arch.canonical(spec, 2)
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_json_layers_are_checked_against_the_shapes_that_reach_them(tmp_path):
    layers = digits_network().architecture()
    assert arch.text(arch.from_json(layers, classes=10)) == DIGITS
    wrong = json.loads(json.dumps(layers))
    wrong[7]["args"]["input_size"] = 3380
    with pytest.raises(arch.ArchitectureError, match=r"^layer 8 dense expects a 3380-vector but gets a 400-vector "
                                                     r"after flatten$"):
        arch.from_json(wrong)
    del wrong[6]   # no flatten: a dense after an image has the implied one
    with pytest.raises(arch.ArchitectureError, match=r"^layer 7 dense expects a 3380-vector but gets 16×5×5 after "
                                                     r"maxpool$"):
        arch.from_json(wrong)
    wrong = json.loads(json.dumps(layers))
    wrong[3]["args"]["input_shape"] = [8, 12, 12]
    with pytest.raises(arch.ArchitectureError, match=r"^layer 4 conv expects 8×12×12 but gets 8×13×13 after maxpool$"):
        arch.from_json(wrong)
    with pytest.raises(arch.ArchitectureError, match=r"^layer 2: not a known layer: \{'type': 'LSTM'\}$"):
        arch.from_json([layers[0], {"type": "LSTM"}])
    with pytest.raises(arch.ArchitectureError,
                       match=r"^layer 10 dense: the last layer gives 10 outputs, but 2 classes"):
        arch.from_json(layers, classes=2)


def test_a_json_file_header_or_list_is_read_as_the_spec(tmp_path):
    weights = tmp_path / "digits.npz"
    weights_file.save(digits_network(), weights)
    header = tmp_path / "arch.json"
    header.write_text(json.dumps({"architecture": digits_network().architecture()}))
    assert arch.read_spec(str(header)) == DIGITS
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps(original_network().architecture()))
    assert arch.read_spec(str(listed), 2) == ORIGINAL
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    with pytest.raises(arch.ArchitectureError, match=rf"^{broken} is not valid JSON"):
        arch.read_spec(str(broken))
    with pytest.raises(arch.ArchitectureError, match=rf"^{tmp_path / 'missing.json'}: cannot be read"):
        arch.read_spec(str(tmp_path / "missing.json"))


def test_an_unknown_key_in_a_json_layer_is_named_not_dropped(tmp_path, capsys):
    layers = digits_network().architecture()
    wrong = json.loads(json.dumps(layers))
    wrong[0]["args"]["dilation"] = 2           # a setting this program has not: it would train without it
    with pytest.raises(arch.ArchitectureError, match=r"^layer 1 conv: unknown argument 'dilation' in args; conv takes "
                                                     r"input_shape, kernel_size, depth, bias_mode, init, stride, "
                                                     r"padding, bias$"):
        arch.from_json(wrong)
    wrong = json.loads(json.dumps(layers))
    wrong[8]["activation"] = "sigmoid"
    with pytest.raises(arch.ArchitectureError, match=r"^layer 9 relu: unknown key 'activation'; a layer holds only "
                                                     r"type and args$"):
        arch.from_json(wrong)
    spec = tmp_path / "arch.json"
    wrong = json.loads(json.dumps(original_network().architecture()))
    wrong[3]["args"]["dropout"] = 0.5
    spec.write_text(json.dumps(wrong))
    assert cli.main(["--arch", str(spec), "--epochs", "1"]) == 2
    assert capsys.readouterr().err == (f"cnn-train: error: --arch: {spec}: layer 4 dense: unknown argument 'dropout' "
                                       "in args; dense takes input_size, output_size, init\n")


def test_editor_rows_give_shapes_parameters_and_problems():
    rows = arch.plan(arch.parse(DIGITS), classes=10)
    assert [row.output_shape for row in rows] == [(8, 26, 26), (8, 26, 26), (8, 13, 13), (16, 11, 11), (16, 11, 11),
                                                  (16, 5, 5), (64,), (64,), (10,)]
    assert sum(row.parameters for row in rows) == sum(p.size for p in digits_network().params.values())
    assert [row.parameters for row in rows] == [80, 0, 0, 1168, 0, 0, 25664, 0, 650]
    rows = arch.plan(arch.parse("conv 4 3x3, dense 4, maxpool 2, relu, dense 2"), classes=2)
    assert [row.problem is None for row in rows] == [True, True, False, True, True]
    assert rows[3].input_shape is None and rows[3].output_shape is None   # unknown after a bad layer


def test_run_config_checks_the_architecture_against_the_classes():
    config = RunConfig.from_preset("digits", architecture=DIGITS)
    assert config.architecture == DIGITS
    with pytest.raises(SettingError) as caught:
        config.with_changes(classes=(0, 1))
    assert str(caught.value) == "architecture: token 9 'dense 10 init=xavier': the last layer gives 10 outputs, but " \
                                "2 classes are chosen"
    assert RunConfig.from_dict(config.as_dict()) == config
    assert "dense 10 init=xavier" in summary(config)
    assert "conv" not in summary(RunConfig.from_preset("digits"))


def cli_error(capsys, *argv):
    assert cli.main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err.strip()


def test_cli_errors_are_one_line(capsys, tmp_path):
    assert cli_error(capsys, "--arch", "conv 8 3x3, maxpool 0, dense 2") == \
        "cnn-train: error: --arch: token 2 'maxpool 0': size must be ≥ 1"
    assert cli_error(capsys, "--arch", "conv 5 3x3, dense 10") == \
        "cnn-train: error: --arch: token 2 'dense 10': the last layer gives 10 outputs, but 2 classes are chosen"
    weights = tmp_path / "w.npz"
    weights_file.save(original_network(), weights)
    assert cli_error(capsys, "--arch", ORIGINAL, "--load", str(weights)) == \
        "cnn-train: error: --arch and --load both say which network to train; give one of them"


def test_cli_trains_the_architecture_and_records_it(capsys, tmp_path):
    spec = "conv 3 5x5 bias=kernel init=he, relu, maxpool 4, dense 2 init=xavier"
    saved = tmp_path / "w.npz"
    assert cli.main(["--arch", spec, "--limit", "20", "--epochs", "1", "--batch-size", "8", "--quiet",
                     "--runs", str(tmp_path / "runs"), "--save", str(saved)]) == 0
    assert "test accuracy" in capsys.readouterr().out
    network = weights_file.load(saved)
    assert arch.describe(network) == spec
    [run] = RunStore(tmp_path / "runs").list()
    info = read_info(run.path)
    assert info.settings.architecture == spec
    assert info.architecture == network.architecture()
    continued = Session.from_checkpoint(load_checkpoint(run.path / "last.npz"), load_mnist())
    assert continued.config.architecture == spec


def test_weights_of_another_network_name_it_in_the_settings(tmp_path):
    network = arch.build(arch.parse("dense 5, tanh, dense 2, sigmoid"), 2, seed=1)
    session = Session(RunConfig(limit=5), load_mnist(), network)
    assert session.config.architecture == "dense 5, tanh, dense 2, sigmoid"
    session = Session(RunConfig(limit=5), load_mnist(), original_network())
    assert session.config.architecture is None


def test_the_studio_refuses_a_bad_architecture_in_one_line(capsys):
    from app.main import main
    assert main(["--arch", "conv 5 3x3, maxpool 0, dense 2"]) == 2
    assert capsys.readouterr().err == "cnn-studio: error: --arch: token 2 'maxpool 0': size must be ≥ 1\n"


BLOCKS = ("conv 8 3x3 stride=2 pad=same bias=kernel init=he, batchnorm, relu, avgpool 2, conv 4 5x5 pad=2, "
          "dropout 0.25, globalavgpool, dense 16, batchnorm, dropout 1e-05, dense 10")


def test_the_newer_blocks_go_from_text_to_a_network_and_back(tmp_path):
    layers = arch.parse(BLOCKS.upper().replace("X", "x"))
    assert arch.text(layers) == BLOCKS
    assert [row.output_shape for row in arch.check(layers, classes=10)] == [
        (8, 14, 14), (8, 14, 14), (8, 14, 14), (8, 7, 7), (4, 7, 7), (4, 7, 7), (4,), (16,), (16,), (16,), (10,)]
    network = arch.build(layers, 10, seed=3)
    assert arch.describe(network) == BLOCKS
    assert [type(layer).__name__ for layer in network.layers] == [
        "Convolutional", "BatchNorm", "ReLU", "AvgPool2D", "Convolutional", "Dropout", "GlobalAvgPool", "Dense",
        "BatchNorm", "Dropout", "Dense"]
    assert network.layers[0].pads == ((0, 1), (0, 1))   # 28 → 14 with a 3×3 kernel: one zero after
    assert arch.text(arch.from_json(json.loads(json.dumps(network.architecture())))) == BLOCKS
    network.layers[1].buffers["running_mean"][:] = 0.5
    weights_file.save(network, tmp_path / "w.npz")
    loaded = weights_file.load(tmp_path / "w.npz")
    assert arch.describe(loaded) == BLOCKS
    assert np.array_equal(loaded.buffers["1.running_mean"], network.buffers["1.running_mean"])
    x = np.random.default_rng(0).random((3, 1, 28, 28))
    assert np.array_equal(loaded.predict(x), network.predict(x))


def test_a_json_conv_with_a_bad_padding_is_named():
    layers = arch.build(arch.parse("conv 2 3x3 pad=1, dense 2"), 2).architecture()
    layers[0]["args"]["padding"] = "full"
    with pytest.raises(arch.ArchitectureError, match=r"^layer 1 conv: padding must be 'valid', 'same' or a whole "
                                                     r"number from 0 to 27, not full$"):
        arch.from_json(layers)

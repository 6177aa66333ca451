"""A network is a list of layers; parameters are named '<layer index>.<param>' ('0.kernels').

The names are shared by saving, loading, the optimizer and the studio's views.
"""
from __future__ import annotations

from contextlib import contextmanager

import numpy as np

from .activations import ReLU, Sigmoid, Softmax, Tanh
from .batchnorm import BatchNorm
from .convolution import Convolutional
from .dense import Dense
from .dropout import Dropout
from .layer import Layer, resolve_dtype
from .memory import chunk_size
from .pooling import AvgPool2D, GlobalAvgPool, MaxPool2D
from .reshape import Reshape

LAYER_TYPES = {cls.__name__: cls for cls in
               (Convolutional, Dense, Reshape, Sigmoid, Tanh, ReLU, Softmax, MaxPool2D, AvgPool2D, GlobalAvgPool,
                Dropout, BatchNorm)}


class Network:
    """Runs layers in order and keeps, per layer, its last input, output and input gradient.

    A network is in evaluation mode unless a `mode(training=True)` block says otherwise: a training
    step's (cnn.step, cnn.fast) with stepping=True; evaluation, predict, attribution and the studio's
    views run in evaluation mode."""

    def __init__(self, layers: list[Layer], input_shape=None):
        if not layers:
            raise ValueError("a network needs at least one layer")
        dtypes = {layer.dtype for layer in layers}
        if len(dtypes) != 1:
            raise ValueError(f"all layers must share one dtype, got {sorted(d.name for d in dtypes)}")
        self.layers = list(layers)
        self.input_shape = tuple(input_shape or self._declared_input_shape(self.layers))
        self.shapes = self._check_shapes()
        self.inputs: list = [None] * len(layers)
        self.outputs: list = [None] * len(layers)
        self.input_gradients: list = [None] * len(layers)
        self.halves: tuple[Network, ...] = ()   # after a step split in halves (cnn/fast/shards.py): the others

    @staticmethod
    def _declared_input_shape(layers: list[Layer]) -> tuple:
        """The shape the first layer that declares one expects ("relu, dense 2": the flatten's 1×28×28):
        the layers before it, activations, keep their input's shape; () when none declares one."""
        for layer in layers:
            if getattr(layer, "input_shape", None) is not None:
                return tuple(layer.input_shape)
            if isinstance(layer, Dense):
                return (layer.input_size,)
        return ()

    def _check_shapes(self) -> list[tuple]:
        """Per-sample shapes between layers: shapes[i] goes into layer i; raises on a mismatch."""
        shapes = [self.input_shape]
        for index, layer in enumerate(self.layers):
            expected = getattr(layer, "input_shape", None)
            if expected is not None and tuple(expected) != shapes[-1]:
                raise ValueError(f"layer {index} ({type(layer).__name__}) expects input {tuple(expected)}, "
                                 f"but receives {shapes[-1]}")
            shapes.append(tuple(layer.output_shape(shapes[-1])))
        return shapes

    @property
    def training(self) -> bool:
        return self.layers[0].training

    @contextmanager
    def mode(self, training: bool, stepping: bool = False):
        """Within the block every layer is in training (or evaluation) mode; with stepping, a forward
        pass is a real step and moves the layers' buffers on (cnn.layer). The modes before are restored after."""
        before = [(layer.training, layer.stepping) for layer in self.layers]
        for layer in self.layers:
            layer.training, layer.stepping = training, training and stepping
        try:
            yield self
        finally:
            for layer, (was_training, was_stepping) in zip(self.layers, before, strict=True):
                layer.training, layer.stepping = was_training, was_stepping

    @property
    def whole_batches(self) -> bool:
        """Whether a training step must take its batch in one pass: a layer with buffers (batch statistics,
        dropout's generator) would compute or draw otherwise in halves or chunks than in one."""
        return any(layer.buffers for layer in self.layers)

    @property
    def dtype(self) -> np.dtype:
        return self.layers[0].dtype

    @property
    def output_shape(self) -> tuple:
        return self.shapes[-1]

    def astype(self, dtype) -> "Network":
        dtype = resolve_dtype(dtype)
        for layer in self.layers:
            layer.astype(dtype)
        return self

    def as_input(self, x: np.ndarray) -> np.ndarray:
        """x checked to be (N, *input_shape), in the network's dtype."""
        x = np.asarray(x)
        if x.shape[1:] != self.input_shape:
            raise ValueError(f"expected input of shape (N, {', '.join(map(str, self.input_shape))}), got {x.shape}")
        return x.astype(self.dtype, copy=False)

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: (N, *input_shape) → (N, *output_shape), computed in the network's dtype."""
        x = self.as_input(x)
        self.halves = ()
        for index, layer in enumerate(self.layers):
            self.inputs[index] = x
            x = layer.forward(x)
            self.outputs[index] = x
        return x

    def batch_output(self, index: int) -> np.ndarray:
        """Layer `index`'s output for the whole last batch: outputs[index], joined with the other halves'
        when the last step was split in halves (a batch taken in chunks, cnn.step.in_chunks: its last chunk's)."""
        if not self.halves:
            return self.outputs[index]
        return np.concatenate([self.outputs[index], *(half.outputs[index] for half in self.halves)])

    def backward(self, output_gradient: np.ndarray) -> np.ndarray:
        """Back-propagates ∂E/∂output; returns ∂E/∂input and fills every layer's grads."""
        gradient = np.asarray(output_gradient, dtype=self.dtype)
        for index in reversed(range(len(self.layers))):
            gradient = self.layers[index].backward(gradient)
            self.input_gradients[index] = gradient
        return gradient

    def predict(self, x: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Forward in chunks of `batch_size`, by default 500 or as many as keep a chunk's activations under
        cnn.memory.CHUNK_BYTES (a conv 1024 3x3 holds 22 MB a sample): bounded memory for any set."""
        batch_size = batch_size or chunk_size(self, 500)
        with self.mode(training=False):
            return np.concatenate([self.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])

    @property
    def params(self) -> dict[str, np.ndarray]:
        return {f"{i}.{name}": value for i, layer in enumerate(self.layers) for name, value in layer.params.items()}

    @property
    def grads(self) -> dict[str, np.ndarray]:
        return {f"{i}.{name}": value for i, layer in enumerate(self.layers) for name, value in layer.grads.items()}

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """What the layers keep that is not trained, by name ('1.running_mean'), saved with the weights."""
        return {f"{i}.{name}": value for i, layer in enumerate(self.layers) for name, value in layer.buffers.items()}

    def set_buffers(self, values: dict[str, np.ndarray]) -> None:
        """Replace every buffer at once by copies in its own dtype; checks names and shapes first."""
        current = self.buffers
        if set(values) != set(current):
            raise ValueError(f"buffer names differ: missing {sorted(set(current) - set(values))}, "
                             f"unexpected {sorted(set(values) - set(current))}")
        for name, value in values.items():
            if np.shape(value) != current[name].shape:
                raise ValueError(f"{name}: shape {np.shape(value)} does not match {current[name].shape}")
        for name, value in values.items():
            index, key = name.split(".", 1)
            self.layers[int(index)].buffers[key] = np.array(value, dtype=current[name].dtype, order="C")

    def set_params(self, values: dict[str, np.ndarray]) -> None:
        """Replace every parameter at once by C-ordered copies; checks names and shapes before changing any."""
        current = self.params
        if set(values) != set(current):
            missing, extra = sorted(set(current) - set(values)), sorted(set(values) - set(current))
            raise ValueError(f"parameter names differ: missing {missing}, unexpected {extra}")
        for name, value in values.items():
            if np.shape(value) != current[name].shape:
                raise ValueError(f"{name}: shape {np.shape(value)} does not match {current[name].shape}")
        for name, value in values.items():
            index, key = name.split(".", 1)
            self.layers[int(index)].params[key] = np.array(value, dtype=self.dtype, order="C")

    def architecture(self) -> list[dict]:
        return [{"type": type(layer).__name__, "args": layer.config()} for layer in self.layers]

    @classmethod
    def from_architecture(cls, architecture: list[dict], dtype="float64", rng=0) -> "Network":
        layers = []
        for index, spec in enumerate(architecture):
            layer_type = LAYER_TYPES.get(spec.get("type"))
            if layer_type is None:
                raise ValueError(f"layer {index}: unknown type {spec.get('type')!r}")
            args = dict(spec.get("args", {}))
            if layer_type is Convolutional and "bias" in args:  # files saved before the argument's rename
                args.setdefault("bias_mode", args.pop("bias"))
            if layer_type in (Convolutional, Dense):
                args["rng"] = rng
            layers.append(layer_type(**args, dtype=dtype))
        return cls(layers)

    def __repr__(self) -> str:
        return "Network([\n" + "".join(f"    {layer!r},\n" for layer in self.layers) + "])"

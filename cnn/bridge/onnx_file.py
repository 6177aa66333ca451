"""An .onnx file read within bounds, before any node is: the file (a regular file of at most
MAX_FILE_BYTES, parsed as a ModelProto), the graph (at most MAX_NODES nodes; its constants' declared
values at most MAX_VALUES, each and in all), its one (N, 1, 28, 28) float32 or float64 input, and each
constant's values, its declared size checked against the bytes that hold it before numpy sees them;
external data only from a regular file beside the model, named without any folder, within its size."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ..arch import IMAGE_SHAPE
from ..arch.shapes import MAX_PARAMETERS
from ..files import open_regular
from . import BridgeError
from .onnx_out import onnx_module

MAX_FILE_BYTES = 8 * MAX_PARAMETERS + (16 << 20)   # float64 weights at the engine's parameter limit, and the graph
MAX_VALUES = MAX_PARAMETERS                        # values one constant may declare
MAX_NODES = 1000                                   # the engine's networks have a few dozen layers


def parse_model(path: Path):
    """The ModelProto in `path`, read only when the file is a regular file of at most MAX_FILE_BYTES."""
    onnx = onnx_module()
    with open_regular(path, BridgeError) as file:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise BridgeError(f"is {size:,} bytes, more than the {MAX_FILE_BYTES:,} an ONNX model of the engine's "
                              f"at most {MAX_PARAMETERS:,} parameters can need; refused unread")
        data = file.read(MAX_FILE_BYTES + 1)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except Exception as error:   # protobuf's DecodeError, and RuntimeError from its C++ parser
        raise BridgeError(f"not an ONNX model ({type(error).__name__}: {str(error)[:120] or 'unreadable'})") from None
    if model.ir_version < 3 or not model.HasField("graph") or not model.graph.node:
        raise BridgeError("not an ONNX model (no graph of nodes, or no IR version)")
    return model


def check_bounds(onnx, graph) -> None:
    """Refuse a graph of more nodes than MAX_NODES, or constants declaring more values in all than
    MAX_VALUES, before any is read (an external data file can be named by many constants)."""
    if len(graph.node) > MAX_NODES:
        raise BridgeError(f"the graph has {len(graph.node):,} nodes, more than the {MAX_NODES:,} the importer reads")
    tensors = [*graph.initializer, *(a.t for node in graph.node if node.op_type == "Constant" for a in node.attribute
                                     if a.type == onnx.AttributeProto.TENSOR)]
    total = 0
    for tensor in tensors:
        values = math.prod(max(d, 0) for d in tensor.dims)
        if values > MAX_VALUES:
            raise BridgeError(f"constant '{tensor.name[:60]}' declares {list(tensor.dims)[:8]}: more than the "
                              f"{MAX_VALUES:,} values a constant may hold")
        total += values
        if total > MAX_VALUES:
            raise BridgeError(f"the constants declare more than the {MAX_VALUES:,} values in all that the engine's "
                              "networks can hold; refused unread")


def graph_input(onnx, graph, constants) -> tuple[str, str]:
    """The one input's name and dtype; it must be (N, 1, 28, 28) float32 or float64."""
    inputs = [i for i in graph.input if i.name not in constants]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise BridgeError(f"the model has {len(inputs)} inputs and {len(graph.output)} outputs; the importer reads "
                          "one chain from one input to one output")
    tensor = inputs[0].type.tensor_type
    kinds = {onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.DOUBLE: "float64"}
    if tensor.elem_type not in kinds:
        raise BridgeError(f"the input is {onnx.TensorProto.DataType.Name(tensor.elem_type)}; the engine computes "
                          "in float32 or float64")
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tensor.shape.dim]
    if len(dims) != 4 or tuple(dims[1:]) != IMAGE_SHAPE:
        shown = "×".join("N" if d is None else str(d) for d in dims)
        raise BridgeError(f"the input is {shown or 'of no declared shape'}: the importer reads "
                          f"N×{'×'.join(map(str, IMAGE_SHAPE))} images (batch, channels, height, width)")
    dtype = kinds[tensor.elem_type]
    floats = {a.dtype.name for a in constants.values() if a.dtype.kind == "f"}
    if floats - {dtype}:
        raise BridgeError(f"the weights are {', '.join(sorted(floats))} and the input {dtype}; the engine computes "
                          "in one of float32 and float64")
    return inputs[0].name, dtype


def tensor_values(onnx, tensor, folder: Path) -> np.ndarray:
    """A TensorProto's values, its declared size checked against the bytes that hold it first."""
    named = f"constant '{tensor.name[:60]}'"
    kinds = {onnx.TensorProto.FLOAT: np.float32, onnx.TensorProto.DOUBLE: np.float64, onnx.TensorProto.INT64: np.int64,
             onnx.TensorProto.BOOL: np.bool_}       # a bool: a Dropout's training_mode
    if tensor.data_type not in kinds:
        raise BridgeError(f"{named} is {onnx.TensorProto.DataType.Name(tensor.data_type)}; the importer reads "
                          "float32, float64, int64 and bool constants")
    dims = list(tensor.dims)
    if any(d < 0 for d in dims) or math.prod(dims) > MAX_VALUES:
        raise BridgeError(f"{named} declares {dims[:8]}: more than the {MAX_VALUES:,} values a constant may hold")
    kind = np.dtype(kinds[tensor.data_type])
    count = math.prod(dims)
    if tensor.data_location == onnx.TensorProto.EXTERNAL:
        data = _external(tensor, folder, count * kind.itemsize, named)
    elif tensor.HasField("raw_data"):
        data = tensor.raw_data
    else:
        typed = {np.float32: tensor.float_data, np.float64: tensor.double_data, np.int64: tensor.int64_data,
                 np.bool_: tensor.int32_data}
        values = typed[kinds[tensor.data_type]]
        if len(values) != count:
            raise BridgeError(f"{named} declares {count:,} values but holds {len(values):,}")
        return np.array(values, dtype=kind).reshape(dims)
    if len(data) != count * kind.itemsize:
        raise BridgeError(f"{named} declares {count:,} values but holds {len(data):,} bytes")
    return np.frombuffer(data, dtype=kind.newbyteorder("<")).astype(kind).reshape(dims)


def _external(tensor, folder: Path, size: int, named: str) -> bytes:
    """`size` bytes of a data file beside the model (named without any folder), at the offset given."""
    fields = {entry.key: entry.value for entry in tensor.external_data}
    location = fields.get("location", "")
    if not location or location != os.path.basename(location) or location in (".", "..") or "\\" in location:
        raise BridgeError(f"{named}: its data file {location[:80]!r} is not a file name beside the model; "
                          "external data is read only from the model's own folder")
    try:
        offset, length = int(fields.get("offset", 0)), int(fields.get("length", size))
    except ValueError:
        raise BridgeError(f"{named}: its data's offset or length is not a whole number") from None
    if offset < 0 or length != size:
        raise BridgeError(f"{named}: its data is {length:,} bytes at offset {offset:,}; its shape needs {size:,}")
    data_path = folder / location
    with open_regular(data_path, lambda problem: BridgeError(f"{named}: its data file {location}: {problem}")) as file:
        if offset + size > os.fstat(file.fileno()).st_size:
            raise BridgeError(f"{named}: its data file {location} ends before byte {offset + size:,}")
        file.seek(offset)
        return file.read(size)

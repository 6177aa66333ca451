"""The step-through's steps of the newer blocks (Qt-free): average pooling, global average pooling,
dropout and batch normalization, forward and backward, with the formulas of cnn/pooling.py,
cnn/dropout.py and cnn/batchnorm.py. Dropout and batch normalization differ between training mode
(the mask of the next step, this sample's own statistics: what Apply update computes) and evaluation
mode (no mask, the running averages: what predictions use); each step says which one it shows."""
from __future__ import annotations

import numpy as np

from cnn.batchnorm import EPS
from cnn.trace import read_only_copy

from app.model.step_types import D, Panel, Step, input_panel, scale_of, shape_text, sub

KINDS = ("AvgPool2D", "GlobalAvgPool", "Dropout", "BatchNorm")
GAMMA, BETA = "<i>γ</i>", "<i>β</i>"


def statistics(trace_layer, engine_layer, training: bool) -> tuple[np.ndarray, np.ndarray]:
    """Batch normalization's μ and σ² as the pass used them: this sample's (training) or the running ones."""
    if not training:
        return engine_layer.buffers["running_mean"], engine_layer.buffers["running_var"]
    x = trace_layer.input
    axes = (0, 2, 3) if x.ndim == 4 else (0,)
    return read_only_copy(x.mean(axis=axes)), read_only_copy(x.var(axis=axes))


def _per_channel(values, like):
    return values[:, None, None] if like.ndim == 3 else values


def normalized(trace_layer, engine_layer, training: bool) -> np.ndarray:
    """X̂ = (X − μ)/√(σ² + ε) of the one sample."""
    mean, variance = statistics(trace_layer, engine_layer, training)
    x = trace_layer.input[0]
    inverse = 1.0 / np.sqrt(variance + x.dtype.type(EPS))
    return read_only_copy((x - _per_channel(mean, x)) * _per_channel(inverse, x))


def mode_text(training: bool) -> str:
    return ("<b>Training mode</b> (what Apply update computes)" if training
            else "<b>Evaluation mode</b> (what predictions use)")


def forward(layer, engine_layer, training: bool, title: str) -> Step:
    kind, x, y = layer.kind, layer.input[0], layer.output[0]
    shapes = f"<i>X</i>: {shape_text(x.shape)} → <i>Y</i>: {shape_text(y.shape)}."
    out = Panel("Y", "<i>Y</i>", y, scale_of(y))
    if kind == "AvgPool2D":
        p = engine_layer.pool_size
        return Step("forward", layer.index, title,
                    f"<i>Y</i><sub>c</sub>[r, s] = (1/{p * p}) Σ<sub>a,b &lt; {p}</sub> "
                    f"<i>X</i><sub>c</sub>[{p}r + a, {p}s + b]",
                    f"The mean of each {p}×{p} window (stride {p}; a ragged edge is dropped), channel by channel. "
                    f"{shapes}", (input_panel(layer), out))
    if kind == "GlobalAvgPool":
        h, w = x.shape[1:]
        return Step("forward", layer.index, title,
                    f"<i>Y</i><sub>j</sub> = (1/<i>HW</i>) Σ<sub>r,c</sub> {sub('X', 'j')}[r, c]",
                    f"Each channel's {h}×{w} plane becomes its mean (<i>HW</i> = {h * w}). {shapes}",
                    (input_panel(layer), out))
    if kind == "Dropout":
        return _dropout_forward(layer, engine_layer, training, title, shapes, out)
    return _batchnorm_forward(layer, engine_layer, training, title, shapes, out)


def _dropout_forward(layer, engine_layer, training, title, shapes, out) -> Step:
    p = engine_layer.p
    if not training:
        return Step("forward", layer.index, title, "<i>Y</i> = <i>X</i>",
                    f"{mode_text(False)}: dropout keeps every value as it is (p = {p:g} applies only in training; "
                    f"training's scaling by 1/(1 − p) keeps the expected values equal). {shapes}",
                    (input_panel(layer), out))
    mask = read_only_copy(engine_layer.draw_mask(layer.input.shape)[0])
    kept = int(np.count_nonzero(mask))
    return Step("forward", layer.index, title,
                "<i>Y</i> = <i>M</i> ⊙ <i>X</i> / (1 − <i>p</i>), &nbsp; <i>M</i> ~ Bernoulli(1 − <i>p</i>) per value",
                f"{mode_text(True)}: the mask of the next training step, p = {p:g}: {kept} of {mask.size} values "
                f"kept and scaled by 1/(1 − p) = {1 / (1 - p):.6g}, the others set to 0. {shapes}",
                (input_panel(layer), Panel("M", "<i>M</i> / (1 − <i>p</i>)", mask, "positive"), out))


def _batchnorm_forward(layer, engine_layer, training, title, shapes, out) -> Step:
    mean, variance = statistics(layer, engine_layer, training)
    x = layer.input[0]
    per = "channel (over its positions)" if x.ndim == 3 else "unit"
    if training:
        stats = (f"{mode_text(True)}: μ and σ² are this sample's own, per {per}, as the update computes them "
                 "(the running averages move only in a real step).")
        if x.ndim == 1:
            stats += (" After a dense layer one sample gives each unit one value: σ² = 0, <i>X̂</i> = 0 and "
                      "<i>Y</i> = β, so no gradient passes down (training uses batches).")
        formula = ("μ = mean <i>X</i>, &nbsp; σ² = mean (<i>X</i> − μ)², &nbsp; "
                   "<i>X̂</i> = (<i>X</i> − μ) / √(σ² + ε), &nbsp; <i>Y</i> = γ <i>X̂</i> + β")
        names = ("μ (this sample's)", "σ² (this sample's)")
    else:
        stats = f"{mode_text(False)}: μ and σ² are the running averages kept by training, per {per}."
        formula = ("<i>X̂</i> = (<i>X</i> − μ<sub>run</sub>) / √(σ²<sub>run</sub> + ε), &nbsp; "
                   "<i>Y</i> = γ <i>X̂</i> + β")
        names = ("μ<sub>run</sub>", "σ²<sub>run</sub>")
    return Step("forward", layer.index, title, formula, f"{stats} ε = {EPS:g}. {shapes}",
                (input_panel(layer), Panel("mean", names[0], mean, "signed"),
                 Panel("var", names[1], variance, "positive"), Panel("gamma", GAMMA, layer.params["gamma"], "signed"),
                 Panel("beta", BETA, layer.params["beta"], "signed"), out))


def backward(layer, engine_layer, training: bool, title: str) -> Step:
    kind, dy, dx = layer.kind, layer.output_gradient[0], layer.input_gradient[0]
    shapes = f"{D}<i>Y</i>: {shape_text(dy.shape)} → {D}<i>X</i>: {shape_text(dx.shape)}."
    dy_panel = Panel("dY", f"{D}<i>Y</i> (from above)", dy, "signed")
    dx_panel = Panel("dX", f"{D}<i>X</i> (passed down)", dx, "signed")
    if kind == "AvgPool2D":
        p = engine_layer.pool_size
        return Step("backward", layer.index, title,
                    f"{D}<i>X</i><sub>c</sub>[{p}r + a, {p}s + b] = {D}<i>Y</i><sub>c</sub>[r, s] / {p * p}",
                    f"Each value of a window had weight 1/{p * p} in its mean. {shapes}", (dy_panel, dx_panel))
    if kind == "GlobalAvgPool":
        h, w = dx.shape[1:]
        return Step("backward", layer.index, title,
                    f"{D}{sub('X', 'j')}[r, c] = {D}<i>Y</i><sub>j</sub> / <i>HW</i>",
                    f"Every position of channel j gets the same share, 1/{h * w} of its gradient. {shapes}",
                    (dy_panel, dx_panel))
    if kind == "Dropout":
        if not training:
            return Step("backward", layer.index, title, f"{D}<i>X</i> = {D}<i>Y</i>",
                        f"{mode_text(False)}: the identity. {shapes}", (dy_panel, dx_panel))
        mask = read_only_copy(engine_layer.draw_mask(layer.input.shape)[0])
        return Step("backward", layer.index, title, f"{D}<i>X</i> = <i>M</i> ⊙ {D}<i>Y</i> / (1 − <i>p</i>)",
                    f"{mode_text(True)}: the gradient passes only where the value was kept, with the same "
                    f"scale. {shapes}", (dy_panel, Panel("M", "<i>M</i> / (1 − <i>p</i>)", mask, "positive"), dx_panel))
    return _batchnorm_backward(layer, engine_layer, training, title, shapes, dy_panel, dx_panel)


def _batchnorm_backward(layer, engine_layer, training, title, shapes, dy_panel, dx_panel) -> Step:
    x_hat = normalized(layer, engine_layer, training)
    sums = "Σ<sub>r,c</sub> " if x_hat.ndim == 3 else ""
    formula = (f"{D}γ = {sums}{D}<i>Y</i> ⊙ <i>X̂</i>, &nbsp; {D}β = {sums}{D}<i>Y</i><br>"
               + (f"{D}<i>X</i> = γ/√(σ² + ε) · ({D}<i>Y</i> − mean {D}<i>Y</i> − <i>X̂</i> · "
                  f"mean({D}<i>Y</i> ⊙ <i>X̂</i>))" if training else
                  f"{D}<i>X</i> = γ/√(σ²<sub>run</sub> + ε) · {D}<i>Y</i>"))
    why = ("μ and σ² depend on <i>X</i>, so the gradient loses its mean and its projection on <i>X̂</i>."
           if training else "μ<sub>run</sub> and σ²<sub>run</sub> are constants: a scaling per channel.")
    return Step("backward", layer.index, title, formula, f"{mode_text(training)}: {why} {shapes}",
                (dy_panel, Panel("xhat", "<i>X̂</i>", x_hat, "signed"),
                 Panel("dgamma", f"{D}{GAMMA}", layer.grads["gamma"], "signed"),
                 Panel("dbeta", f"{D}{BETA}", layer.grads["beta"], "signed"),
                 Panel("gamma", GAMMA, layer.params["gamma"], "signed"), dx_panel))

"""One sample's pass as a list of steps, each with its formula and the arrays going in and out.

Qt-free: the step-through window draws these. Formulas are the ones in DESIGN.md, as rich text.
Every array is one sample's (the batch axis dropped) and read-only.
"""
from __future__ import annotations


from cnn.convolution import Convolutional
from cnn.network import Network
from cnn.activations import softmax
from cnn.trace import Trace, read_only_copy

from app.model.steps_blocks import KINDS as BLOCK_KINDS, backward as block_backward, forward as block_forward
from app.model.step_types import D, Panel, Step, input_panel as _input_panel, scale_of as _scale, shape_text, \
    sub as _sub

__all__ = ["D", "Panel", "Step", "build_steps", "shape_text"]

PARAMETER_SYMBOLS = {"kernels": "K", "biases": "B", "weights": "W", "bias": "B", "gamma": "γ", "beta": "β"}

ACTIVATIONS = {   # forward formula, backward formula, the local derivative (from X and Y) and its name
    "Sigmoid": ("<i>Y</i> = σ(<i>X</i>) = 1 / (1 + <i>e</i><sup>−<i>X</i></sup>)",
                f"{D}<i>X</i> = {D}<i>Y</i> ⊙ σ(<i>X</i>)(1 − σ(<i>X</i>))",
                lambda x, y: y * (1 - y), "σ′(<i>X</i>) = <i>Y</i>(1 − <i>Y</i>)"),
    "Tanh": ("<i>Y</i> = tanh(<i>X</i>)", f"{D}<i>X</i> = {D}<i>Y</i> ⊙ (1 − tanh²(<i>X</i>))",
             lambda x, y: 1 - y * y, "1 − <i>Y</i>²"),
    "ReLU": ("<i>Y</i> = max(0, <i>X</i>)", f"{D}<i>X</i> = {D}<i>Y</i> ⊙ [<i>X</i> &gt; 0]",
             lambda x, y: (x > 0).astype(x.dtype), "[<i>X</i> &gt; 0]"),
    "Softmax": ("<i>Y</i><sub>i</sub> = <i>e</i><sup><i>X</i><sub>i</sub></sup> / Σ<sub>k</sub> "
                "<i>e</i><sup><i>X</i><sub>k</sub></sup>",
                f"{D}<i>X</i> = <i>Y</i> ⊙ ({D}<i>Y</i> − ⟨<i>Y</i>, {D}<i>Y</i>⟩)", None, ""),
}

LOSS_FORMULAS = {  # E, ∂E/∂y
    "binary_cross_entropy": (
        "<i>E</i> = −(1/<i>n</i>) Σ<sub>i</sub> [ <i>y</i>*<sub>i</sub> log <i>y</i><sub>i</sub> + "
        "(1 − <i>y</i>*<sub>i</sub>) log(1 − <i>y</i><sub>i</sub>) ]",
        "∂<i>E</i>/∂<i>y</i><sub>i</sub> = (1/<i>n</i>) ( (1 − <i>y</i>*<sub>i</sub>)/(1 − <i>y</i><sub>i</sub>)"
        " − <i>y</i>*<sub>i</sub>/<i>y</i><sub>i</sub> )"),
    "mse": ("<i>E</i> = (1/<i>n</i>) Σ<sub>i</sub> (<i>y</i><sub>i</sub> − <i>y</i>*<sub>i</sub>)²",
            "∂<i>E</i>/∂<i>y</i><sub>i</sub> = (2/<i>n</i>) (<i>y</i><sub>i</sub> − <i>y</i>*<sub>i</sub>)"),
    "categorical_cross_entropy": (
        "<i>E</i> = −Σ<sub>i</sub> <i>y</i>*<sub>i</sub> log <i>y</i><sub>i</sub>",
        "∂<i>E</i>/∂<i>y</i><sub>i</sub> = −<i>y</i>*<sub>i</sub> / <i>y</i><sub>i</sub>"),
    "softmax_cross_entropy": (
        "<i>E</i> = −Σ<sub>i</sub> <i>y</i>*<sub>i</sub> log <i>p</i><sub>i</sub>, &nbsp; <i>p</i> = softmax(<i>z</i>)"
        " &nbsp;(<i>z</i>: the network's output, logits)",
        "∂<i>E</i>/∂<i>z</i><sub>i</sub> = <i>p</i><sub>i</sub> − <i>y</i>*<sub>i</sub>"),
}
CLIPPED = {"binary_cross_entropy":
           " Predictions are clipped to [ε, 1 − ε], ε = 10<sup>−15</sup>, so no log is infinite.",
           "categorical_cross_entropy": " Predictions are clipped to [ε, 1], ε = 10<sup>−15</sup>."}


def build_steps(t: Trace, network: Network) -> list[Step]:
    """Forward through every layer, the loss, its derivative, backward down to ∂E/∂X, then one
    update step per layer that has parameters. `network` is the one `t` was traced on (for the
    convolution's per-(i, j) terms)."""
    steps = [_forward(t, network, layer) for layer in t.layers]
    steps += _loss_steps(t)
    steps += [_backward(t, network, layer) for layer in reversed(t.layers)]
    steps += [_update(t, layer) for layer in t.layers if layer.params]
    return steps


def _forward(t: Trace, network: Network, layer) -> Step:
    kind, x, y = layer.kind, layer.input[0], layer.output[0]
    title = f"Forward · layer {layer.index} · {kind}"
    shapes = f"<i>X</i>: {shape_text(x.shape)} → <i>Y</i>: {shape_text(y.shape)}."
    if kind in BLOCK_KINDS:
        return block_forward(layer, network.layers[layer.index], t.training, title)
    if kind == "Convolutional":
        conv: Convolutional = network.layers[layer.index]
        d, c, k = conv.depth, conv.input_shape[0], conv.kernel_size
        terms = read_only_copy(conv.reference_terms(x))
        per_position = conv.bias_mode == "position"
        bias_text = ("one bias per output position, " + shape_text(layer.params["biases"].shape[1:])) if per_position \
            else "one number per kernel"
        return Step("forward", layer.index, title,
                    "<i>Y</i><sub>i</sub> = <i>B</i><sub>i</sub> + Σ<sub>j</sub> "
                    f"{_sub('X', 'j')} ⋆ {_sub('K', 'ij')}",
                    f"{d} kernels {_sub('K', 'ij')} of {k}×{k} over {c} input channel{'s' * (c > 1)}; ⋆ is the "
                    f"{correlation_text(conv)}: <i>Y</i><sub>i</sub>[r, c] = "
                    f"<i>B</i><sub>i</sub>{'[r, c]' * per_position} + Σ<sub>j</sub> "
                    f"Σ<sub>a,b</sub> {_sub('X', 'j')}[{_at(conv, 'r', 'a', 0)}, {_at(conv, 'c', 'b', 1)}] · "
                    f"{_sub('K', 'ij')}[a, b]{' (0 outside X)' * any(map(any, conv.pads))}. "
                    f"Each term {_sub('X', 'j')} ⋆ {_sub('K', 'ij')} is shown, then summed with <i>B</i><sub>i</sub> "
                    f"({bias_text}). {shapes} Hover over <i>Y</i> to see the window and the {k * k * c} products "
                    "behind a pixel; click a kernel value to edit it.",
                    (_input_panel(layer), Panel("K", "<i>K</i>", layer.params["kernels"], "signed"),
                     Panel("terms", f"{_sub('X', 'j')} ⋆ {_sub('K', 'ij')}", terms, "signed"),
                     Panel("B", "<i>B</i>", layer.params["biases"], "signed"),
                     Panel("Y", "<i>Y</i>", y, "signed")))
    if kind == "Dense":
        w = layer.params["weights"]
        return Step("forward", layer.index, title, "<i>Y</i> = <i>W X</i> + <i>B</i>",
                    f"<i>W</i> is {shape_text(w.shape)}: row i holds the weights from all {w.shape[1]} inputs to "
                    f"output i. {shapes}",
                    (_input_panel(layer), Panel("W", "<i>W</i>", layer.params["weights"], "signed"),
                     Panel("B", "<i>B</i>", layer.params["bias"], "signed"), Panel("Y", "<i>Y</i>", y, _scale(y))))
    if kind == "Reshape":
        return Step("forward", layer.index, title, "<i>Y</i> = reshape(<i>X</i>)",
                    f"The same {x.size} numbers in a new shape, in row-major order: {shapes}",
                    (_input_panel(layer), Panel("Y", "<i>Y</i>", y, _scale(y))))
    if kind == "MaxPool2D":
        p = x.shape[1] // y.shape[1]
        return Step("forward", layer.index, title,
                    f"<i>Y</i><sub>c</sub>[r, s] = max<sub>a,b &lt; {p}</sub> <i>X</i><sub>c</sub>[{p}r + a, {p}s + b]",
                    f"The largest value of each {p}×{p} window, channel by channel. {shapes}",
                    (_input_panel(layer), Panel("Y", "<i>Y</i>", y, _scale(y))))
    formula = ACTIVATIONS[kind][0]
    return Step("forward", layer.index, title, formula, f"Element by element. {shapes}",
                (_input_panel(layer), Panel("Y", "<i>Y</i>", y, "positive" if kind != "Tanh" else "signed")))


def _loss_steps(t: Trace) -> list[Step]:
    value, prime = LOSS_FORMULAS[t.loss_name]
    output, target, gradient = t.output[0], t.y_true[0], t.loss_gradient[0]
    name = t.loss_name.replace("_", " ")
    y_name = "<i>z</i>" if t.loss_name == "softmax_cross_entropy" else "<i>y</i>"
    panels = [Panel("output", f"{y_name} (the network's output)", output, _scale(output)),
              Panel("target", "<i>y</i>* (the one-hot label)", target, "positive")]
    if t.loss_name == "softmax_cross_entropy":
        panels.append(Panel("p", "<i>p</i> = softmax(<i>z</i>)", read_only_copy(softmax(output[None])[0]), "positive"))
    n = output.size
    return [
        Step("loss", None, f"Loss · {name}", value,
             f"<i>n</i> = {n} outputs. For this sample <b><i>E</i> = {t.loss:.10g}</b>.{CLIPPED.get(t.loss_name, '')}",
             tuple(panels)),
        Step("loss gradient", None, f"Loss gradient · ∂E/∂{'z' if 'softmax' in t.loss_name else 'y'}", prime,
             "Where back-propagation starts: how the error changes with each output.",
             (*panels, Panel("dY", f"∂<i>E</i>/∂{y_name}", gradient, "signed"))),
    ]


def correlation_text(conv: Convolutional) -> str:
    """'valid cross-correlation', or with its stride s and its padding's zeros."""
    (top, bottom), (left, right) = conv.pads
    if conv.stride == 1 and not any((top, bottom, left, right)):
        return "valid cross-correlation"
    pads = f"{top}" if len({top, bottom, left, right}) == 1 else \
        f"{top} above, {bottom} below, {left} left, {right} right"
    return (f"cross-correlation with stride <i>s</i> = {conv.stride} and padding <i>P</i> = {pads} "
            f"(pad={conv.padding}: zeros around X)")


def _at(conv: Convolutional, out: str, offset: str, axis: int) -> str:
    """The input row (or column) behind output `out` and kernel offset: 'r+a', or 's·r + a − P'."""
    stride, before = conv.stride, conv.pads[axis][0]
    return (f"{stride}{out}" if stride > 1 else out) + f" + {offset}" + (f" − {before}" if before else "")


def _backward(t: Trace, network: Network, layer) -> Step:
    kind = layer.kind
    if kind in BLOCK_KINDS:
        return block_backward(layer, network.layers[layer.index], t.training,
                               f"Backward · layer {layer.index} · {kind}")
    dy, dx, x = layer.output_gradient[0], layer.input_gradient[0], layer.input[0]
    title = f"Backward · layer {layer.index} · {kind}"
    shapes = f"{D}<i>Y</i>: {shape_text(dy.shape)} → {D}<i>X</i>: {shape_text(dx.shape)}."
    dy_panel = Panel("dY", f"{D}<i>Y</i> (from above)", dy, "signed")
    dx_panel = Panel("dX", f"{D}<i>X</i> (passed down)", dx, "signed")
    if kind == "Convolutional":
        k = layer.params["kernels"].shape[-1]
        ho, wo = dy.shape[1:]
        per_kernel = layer.params["biases"].ndim == 1
        bias = f"{D}<i>B</i><sub>i</sub> = Σ<sub>r,c</sub> {D}<i>Y</i><sub>i</sub>[r, c]" if per_kernel \
            else f"{D}<i>B</i><sub>i</sub> = {D}<i>Y</i><sub>i</sub>"
        conv = network.layers[layer.index]
        return Step("backward", layer.index, title,
                    f"{D}{_sub('K', 'ij')} = {_sub('X', 'j')} ⋆ {D}<i>Y</i><sub>i</sub><br>{bias}<br>"
                    f"{D}{_sub('X', 'j')} = Σ<sub>i</sub> {D}<i>Y</i><sub>i</sub> ∗ {_sub('K', 'ij')}",
                    f"⋆ is the {correlation_text(conv)}: {D}{_sub('K', 'ij')}[a, b] = Σ<sub>r,c</sub> "
                    f"{_sub('X', 'j')}[{_at(conv, 'r', 'a', 0)}, {_at(conv, 'c', 'b', 1)}] · "
                    f"{D}<i>Y</i><sub>i</sub>[r, c]; each of the {k}×{k} entries of {D}{_sub('K', 'ij')} sums "
                    f"{ho}×{wo} products of {_sub('X', 'j')} and {D}<i>Y</i><sub>i</sub> (hover over {D}<i>K</i> to "
                    f"see the region). ∗ is the full convolution (a correlation with <i>K</i> rotated by 180°"
                    + (f", {D}<i>Y</i> spread out by {conv.stride}" if conv.stride > 1 else "")
                    + f"), so {D}<i>X</i> regains the input's size"
                    + (" (the padding's share is cut off)" if any(map(any, conv.pads)) else "") + f". {shapes}",
                    (dy_panel, _input_panel(layer), Panel("dK", f"{D}<i>K</i>", layer.grads["kernels"], "signed"),
                     Panel("dB", f"{D}<i>B</i>", layer.grads["biases"], "signed"),
                     Panel("K", "<i>K</i>", layer.params["kernels"], "signed"), dx_panel))
    if kind == "Dense":
        return Step("backward", layer.index, title,
                    f"{D}<i>W</i> = {D}<i>Y</i> · <i>X</i><sup>T</sup><br>{D}<i>B</i> = {D}<i>Y</i><br>"
                    f"{D}<i>X</i> = <i>W</i><sup>T</sup> · {D}<i>Y</i>",
                    f"{D}<i>W</i> is the outer product of {shape_text(dy.shape)} and {shape_text(x.shape)}. {shapes}",
                    (dy_panel, _input_panel(layer), Panel("dW", f"{D}<i>W</i>", layer.grads["weights"], "signed"),
                     Panel("dB", f"{D}<i>B</i>", layer.grads["bias"], "signed"),
                     Panel("W", "<i>W</i>", layer.params["weights"], "signed"), dx_panel))
    if kind == "Reshape":
        return Step("backward", layer.index, title, f"{D}<i>X</i> = reshape({D}<i>Y</i>)",
                    f"The gradient takes the input's shape back. {shapes}", (dy_panel, dx_panel))
    if kind == "MaxPool2D":
        return Step("backward", layer.index, title,
                    f"{D}<i>X</i> = {D}<i>Y</i> at the maximum of each window, 0 elsewhere",
                    f"Only the value that won each window affected the output (the first one, on a tie). {shapes}",
                    (_input_panel(layer), dy_panel, dx_panel))
    _, formula, local, local_name = ACTIVATIONS[kind]
    panels = [dy_panel, _input_panel(layer)]
    if local is not None:
        panels.append(Panel("local", local_name, read_only_copy(local(x, layer.output[0])), "positive"))
    return Step("backward", layer.index, title, formula, f"Element by element. {shapes}", (*panels, dx_panel))


def _gradient(t: Trace, symbol: str) -> str:
    """∂E/∂W, or with weight decay the g = ∂E/∂W + λW that SGD steps along."""
    return f"({D}<i>{symbol}</i> + λ<i>{symbol}</i>)" if t.weight_decay else f"{D}<i>{symbol}</i>"


def _update(t: Trace, layer) -> Step:
    if t.adam is not None:
        return _adam_update(t, layer)
    panels, lines = [], []
    for name, value in layer.params.items():
        symbol = PARAMETER_SYMBOLS.get(name, name)
        step = f"μ<i>v</i> − η {_gradient(t, symbol)}" if t.momentum else f"−η {_gradient(t, symbol)}"
        update = t.updates[f"{layer.index}.{name}"]
        panels += [Panel(symbol, f"<i>{symbol}</i>", value, "signed"),
                   Panel(f"step {symbol}", step, update, "signed"),
                   Panel(f"new {symbol}", f"<i>{symbol}</i> after", t.new_params[f"{layer.index}.{name}"], "signed")]
        lines.append(f"<i>{symbol}</i> ← <i>{symbol}</i> + {step}" if t.momentum
                     else f"<i>{symbol}</i> ← <i>{symbol}</i> − η {_gradient(t, symbol)}")
    decay = (f" Weight decay λ = {t.weight_decay:g} adds λθ to each gradient (as torch.optim.SGD's weight_decay)."
             if t.weight_decay else "")
    if t.momentum:
        kind = (f"One step of SGD with momentum μ = {t.momentum:g} on this sample, η = {t.learning_rate:g}: the "
                "step is the new velocity <i>v</i> ← μ<i>v</i> − η ∂E/∂θ (<i>v</i>: the optimizer's, from training).")
    else:
        kind = f"One step of plain SGD on this sample, η = {t.learning_rate:g} (the learning rate of this epoch)."
    return Step("update", layer.index, f"Update · layer {layer.index} · {layer.kind}", "<br>".join(lines),
                kind + decay + " “After” is the weights plus the step, exactly what the engine's step computes. "
                "<b>Apply update</b> takes that step on the model (its optimizer's velocity too).", tuple(panels))


def _adam_update(t: Trace, layer) -> Step:
    """Adam's step: the moments m, v (the optimizer's, from training) advanced by this sample's gradient."""
    beta1, beta2, eps, steps = t.adam
    panels, symbols = [], []
    for name, value in layer.params.items():
        symbol = PARAMETER_SYMBOLS.get(name, name)
        symbols.append(f"<i>{symbol}</i>")
        panels += [Panel(symbol, f"<i>{symbol}</i>", value, "signed"),
                   Panel(f"step {symbol}", ("−ηλθ " if t.weight_decay else "") + f"−η m̂/(√v̂ + ε) of <i>{symbol}</i>",
                         t.updates[f"{layer.index}.{name}"], "signed"),
                   Panel(f"new {symbol}", f"<i>{symbol}</i> after", t.new_params[f"{layer.index}.{name}"], "signed")]
    formula = (f"<i>g</i> = {D}θ,  <i>m</i> ← β₁<i>m</i> + (1 − β₁)<i>g</i>,  "
               "<i>v</i> ← β₂<i>v</i> + (1 − β₂)<i>g</i>²<br>"
               "m̂ = <i>m</i> / (1 − β₁<sup>t</sup>),  v̂ = <i>v</i> / (1 − β₂<sup>t</sup>),  "
               "θ ← θ " + ("− ηλθ " if t.weight_decay else "") + "− η m̂ / (√v̂ + ε)   (θ: " + ", ".join(symbols) + ")")
    explanation = (f"One step of Adam on this sample, η = {t.learning_rate:g}, β₁ = {beta1:g}, β₂ = {beta2:g}, "
                   f"ε = {eps:g}, t = {steps}"
                   + (f", weight decay λ = {t.weight_decay:g} (decoupled from the moments, as torch.optim.AdamW)"
                      if t.weight_decay else "")
                   + ": <i>m</i> and <i>v</i> are running averages of the gradient and its square (the optimizer's, "
                   "from training), so each weight gets its own step size, about η in "
                   "size whatever the gradient's scale. “After” is the weights plus the step, exactly what the "
                   "engine's step computes. <b>Apply update</b> takes that step on the model (its moments too).")
    return Step("update", layer.index, f"Update · layer {layer.index} · {layer.kind}", formula, explanation,
                tuple(panels))

"""The lesson's Try it checks (Qt-free): each looks at the studio model's state (and, for the
step-through's tasks, what the step-through window reports of its own copy) and answers in words.

The studio's command `check_lesson NAME [FACTS]` runs CHECKS[NAME] and sends `lesson_answer` with
the name, whether the task is done, and the words."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn.train import evaluate

from app.model.health import SATURATION, saturated_share, stuck_share
from app.model.health_watch import STUCK_SHARE
from app.model.my_samples import ImageSample, snapshot_of
from app.model.snapshot import take_snapshot

NO_NETWORK = "No network is shown yet: wait for it, or press Show me."
STOP_PROBE = 8    # training images whose gradients tell whether the network still learns


@dataclass(frozen=True)
class StepFacts:
    """What the step-through window shows (its own copy of the weights): None when it is not open."""
    title: str                    # the sample: 'test image #49'
    edited: bool                  # a kernel value differs from the model's
    model_loss: float             # E with the model's weights
    loss: float                   # E with the weights shown (edits included)
    output: tuple                 # the network's output with the weights shown
    applied_from: float | None    # E before the last update applied on this sample, None: none applied


@dataclass(frozen=True)
class Answer:
    done: bool
    text: str


def chosen(studio):
    """The chosen sample's snapshot (an MNIST image or your own), or None without a network."""
    session, sample = studio.session, studio.inspection.sample
    if session is None:
        return None
    if isinstance(sample, ImageSample):
        return snapshot_of(session, sample, studio.layers)
    return take_snapshot(session, *sample, studio.layers)


def title(snapshot) -> str:
    if snapshot.split in ("train", "test"):
        return f"{'training' if snapshot.split == 'train' else 'test'} image #{snapshot.index}"
    return f"your image ({snapshot.split})"


def numbers(values) -> str:
    return ", ".join(f"{v:.3f}" for v in np.asarray(values).reshape(-1))


def chosen_layer(studio):
    return None if studio.layers is None else studio.layers[studio.layer]


def one_found(studio, _facts=None) -> Answer:
    snapshot = chosen(studio)
    if snapshot is None:
        return Answer(False, NO_NETWORK)
    if snapshot.split != "train" or snapshot.label != 1:
        return Answer(False, f"Not yet: {title(snapshot)} is a {snapshot.label}. In Inspect, set the split to "
                             "training and step with ▶ until a 1 shows.")
    return Answer(True, f"Yes: {title(snapshot)} is a 1, and its target is the one-hot vector "
                        f"{tuple(int(d == 1) for d in snapshot.classes)}. The network's outputs for it now: "
                        f"{numbers(snapshot.probabilities)}.")


def convolution_chosen(studio, _facts=None) -> Answer:
    """A convolution of many input channels: the ten-digit network's second."""
    layer = chosen_layer(studio)
    if layer is None:
        return Answer(False, NO_NETWORK)
    if layer.kind != "Convolutional":
        return Answer(False, f"Not yet: layer {layer.index} is a {layer.kind}. Choose a convolution.")
    (c, h, w), (d, oh, ow) = layer.input_shape, layer.output_shape
    k = h - oh + 1
    sizes = f"{h} − {k} + 1 = {oh} positions each way, so {d} maps of {oh}×{ow}"
    if c == 1:
        return Answer(False, f"Not yet: layer {layer.index} reads the image alone ({sizes}). Choose the digits "
                             "preset in Train, then its second convolution, which reads many maps.")
    return Answer(True, f"Yes: layer {layer.index} reads {c} maps of {h}×{w}: {sizes}. Each output map Y_i is "
                        f"B_i plus the sum of {c} cross-correlations X_j ⋆ K_ij, so it holds {d}×{c} kernels.")


def kernel_edited(_studio, facts: StepFacts | None = None) -> Answer:
    if facts is None:
        return Answer(False, "Open the step-through first (Show me, or Sample ▸ Step through this sample).")
    if not facts.edited:
        return Answer(False, "Not yet: every kernel is as the model has it. Click a value of K on the "
                             "convolution's forward step and type another number.")
    return Answer(True, f"Yes: with your edit, E for {facts.title} went from {facts.model_loss:.6g} to "
                        f"{facts.loss:.6g}, and the output is now {numbers(facts.output)}. One kernel value "
                        "moved every pixel of its map, and all that follows.")


def update_applied(_studio, facts: StepFacts | None = None) -> Answer:
    if facts is None:
        return Answer(False, "Open the step-through first (Show me, or Sample ▸ Step through this sample).")
    if facts.applied_from is None:
        return Answer(False, "Not yet: no update applied to this sample. Press Apply update in the step-through.")
    return Answer(True, f"Yes: one step against the gradient took E for {facts.title} from "
                        f"{facts.applied_from:.6g} to {facts.model_loss:.6g}.")


def dense_chosen(studio, _facts=None) -> Answer:
    """The last Dense layer: one output per class."""
    layer = chosen_layer(studio)
    if layer is None:
        return Answer(False, NO_NETWORK)
    if layer.kind != "Dense":
        return Answer(False, f"Not yet: layer {layer.index} is a {layer.kind}. Choose a Dense layer.")
    rows, columns = layer.params["weights"]
    classes = len(studio.session.dataset.classes)
    sizes = f"W is {rows}×{columns} = {rows * columns:,} weights, and B holds {rows} biases"
    if rows != classes:
        return Answer(False, f"Not yet: layer {layer.index} turns {columns:,} inputs into {rows} ({sizes}). Choose "
                             f"the last Dense layer, the one with {classes} outputs.")
    return Answer(True, f"Yes: layer {layer.index} gives one number per class from {columns} inputs: {sizes}. "
                        f"Row i of W is what class {studio.session.dataset.classes[0]}…"
                        f"{studio.session.dataset.classes[-1]}'s output i looks for; ∂E/∂W = ∂E/∂Y·Xᵀ.")


def sigmoid_chosen(studio, _facts=None) -> Answer:
    """The sigmoid right after the convolution (its output is maps)."""
    layer, snapshot = chosen_layer(studio), chosen(studio)
    if layer is None or snapshot is None:
        return Answer(False, NO_NETWORK)
    if layer.kind != "Sigmoid" or len(layer.output_shape) != 3:
        shape = "×".join(map(str, layer.output_shape))
        return Answer(False, f"Not yet: layer {layer.index} is a {layer.kind} of shape {shape}. Choose the Sigmoid "
                             "right after the convolution.")
    output = snapshot.layers[layer.index].output
    slope = output * (1 - output)
    return Answer(True, f"Yes: for {title(snapshot)}, {100 * saturated_share(output):.0f}% of layer {layer.index}'s "
                        f"{output.size:,} outputs are within {SATURATION} of 0 or 1, where σ′ = σ(1 − σ) is almost 0; "
                        f"the steepest slope here is {slope.max():.3f} (at most 0.25, at σ = 0.5).")


def mistake_found(studio, _facts=None) -> Answer:
    snapshot = chosen(studio)
    if snapshot is None:
        return Answer(False, NO_NETWORK)
    if snapshot.predicted == snapshot.label:
        return Answer(False, f"Not yet: the network reads {title(snapshot)} right, as a {snapshot.label} (E = "
                             f"{snapshot.loss:.3g}). Sample ▸ Next misclassified (Ctrl+M) finds a mistake.")
    return Answer(True, f"Yes: {title(snapshot)} is a {snapshot.label} the network calls {snapshot.predicted} (outputs "
                        f"{numbers(snapshot.probabilities)}); its loss E = {snapshot.loss:.4g} is large because "
                        "the target's output is far from 1.")


def slower_rate(studio, _facts=None) -> Answer:
    session = studio.session
    if session is None:
        return Answer(False, NO_NETWORK)
    rate, epochs = session.config.learning_rate, session.epochs_done
    if rate > 0.02 or epochs < 1:
        return Answer(False, f"Not yet: learning rate {rate:g}, {epochs} epoch(s) trained. Type 0.01 in Learning "
                             "rate, press Reset, then Start.")
    result = evaluate(session.network, session.dataset.test, session.loss)
    return Answer(True, f"Yes: at learning rate {rate:g}, after {epochs} epoch(s) the test loss is "
                        f"{result.loss:.4g} and the accuracy {100 * result.accuracy:.1f}%. Steps ten times smaller "
                        "go down the same slope more slowly: compare the curve with the run at 0.1 in Runs.")


def seed_changed(studio, _facts=None) -> Answer:
    session = studio.session
    if session is None:
        return Answer(False, NO_NETWORK)
    seed, epochs = session.config.seed, session.epochs_done
    if seed == 0 or epochs < 1:
        return Answer(False, f"Not yet: seed {seed}, {epochs} epoch(s) trained. Set another seed, press Reset, "
                             "then Start.")
    return Answer(True, f"Yes: seed {seed}, trained {epochs} epoch(s). Compare its kernels (Inspect, layer 0) with "
                        "seed 0's: other starting numbers, other detectors, often doing the same job.")


def stopped_learning(studio, _facts=None) -> Answer:
    """The health rules' verdict on a few training images: every gradient zero, or the sigmoids stuck."""
    session = studio.session
    if session is None:
        return Answer(False, NO_NETWORK)
    count = min(STOP_PROBE, len(session.dataset.train.x))
    snapshots = [take_snapshot(session, "train", i, studio.layers) for i in range(count)]
    zero = all(not np.any(g) for s in snapshots for layer in s.layers for g in layer.grads.values())
    stuck = {state.info.index: np.mean([stuck_share(s.layers[state.info.index].output) for s in snapshots])
             for state in snapshots[0].layers if state.info.kind == "Sigmoid"}
    worst = max(stuck.items(), key=lambda item: item[1], default=None)
    if zero or (worst is not None and worst[1] >= STUCK_SHARE):
        said = f"{100 * worst[1]:.0f}% of layer {worst[0]}'s sigmoids are exactly 0 or 1" if worst else ""
        return Answer(True, f"Yes: the network has stopped learning: {said}{' and ' if said else ''}"
                            f"{'every gradient is exactly 0' if zero else 'little gradient passes them'} on "
                            f"{count} training images. The Health view and the amber banner say so.")
    return Answer(False, f"Not yet: gradients still flow (at lr {session.config.learning_rate:g}). Set the "
                         "learning rate to 50, press Reset, then Start, and watch Health.")


def maxpool_chosen(studio, _facts=None) -> Answer:
    layer = chosen_layer(studio)
    if layer is None:
        return Answer(False, NO_NETWORK)
    if layer.kind != "MaxPool2D":
        return Answer(False, f"Not yet: layer {layer.index} is a {layer.kind}. Choose a MaxPool2D (the ten-digit "
                             "network has two).")
    (c, h, w), (_, oh, ow) = layer.input_shape, layer.output_shape
    return Answer(True, f"Yes: layer {layer.index} keeps the largest value of each {h // oh}×{w // ow} window: "
                        f"{c}×{h}×{w} → {c}×{oh}×{ow}. Backward, each window's gradient goes to its maximum alone.")


def seven_read_as_one(studio, _facts=None) -> Answer:
    session, image = studio.session, studio.inspection.image
    if session is None:
        return Answer(False, NO_NETWORK)
    if image is None:
        return Answer(False, "Not yet: draw on the pad in Your digit.")
    snapshot = snapshot_of(session, image, studio.layers)
    read = f"the network reads your drawing as {snapshot.predicted} (p = {snapshot.probabilities.max():.2f})"
    if image.label != 7:
        return Answer(False, f"Not yet: {read}. Pick 7 as its true digit, so the studio knows it is a 7.")
    if snapshot.predicted != 1:
        return Answer(False, f"Not yet: {read}. Try a 7 with a very short top bar, or a long straight stem.")
    return Answer(True, f"Yes: {read}, though you say it is a 7. Saliency and Grad-CAM show which strokes made "
                        "it say 1; occlusion shows which hiding would change its mind.")


CHECKS = {check.__name__: check for check in (
    one_found, convolution_chosen, kernel_edited, update_applied, dense_chosen, sigmoid_chosen, mistake_found,
    slower_rate, seed_changed, stopped_learning, maxpool_chosen, seven_read_as_one)}


def answer(studio, name: str, facts: StepFacts | None = None) -> None:
    """Runs the check `name` and sends its lesson_answer (name, done, words)."""
    def run():
        found = CHECKS[name](studio, facts) if name in CHECKS else Answer(False, f"No check named {name!r}.")
        studio.emit("lesson_answer", name, found.done, found.text)
    studio.guarded(run)

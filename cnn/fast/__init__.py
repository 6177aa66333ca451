"""The speed tricks, in one place, each tested equal to the plain path (tests/test_fast.py).

The training loop (cnn.train) takes its steps with `FastStep`, and the studio's snapshot of one
sample takes its backward pass with `backward`; the step-through, the trace and the reference
tests use the layers' own textbook methods. What it changes, and where it pays:

- one sample through a Dense layer: ∂E/∂W = ∂E/∂Y·Xᵀ is kept as its two vectors, applied as a
  rank-one update (BLAS ger: one pass over W) and its norm taken as ‖∂E/∂Y‖·‖X‖ (`step.py`);
  a batch's ∂E/∂W is written into the same buffer every step;
- plain SGD updates in one pass (BLAS axpy); SGD with momentum as v = μv − ηg, θ += v in one compiled
  pass (no parameter-sized temporary); a large parameter on both threads (`step.py`, `kernels.py`);
- convolutions by compiled loops (numba, `kernels.py`): a layer with few values per window (a first
  convolution of one channel) summed directly, plane by plane; wider ones as GEMMs in a "wide"
  layout with the layout changes around them, the columns included, compiled (`conv.py`); without
  numba, numpy does the same;
- compiled loops vectorise (numpy's error model: no division-by-zero test in a loop) and run without
  the GIL, which the two halves of a batch would otherwise wait for each other on;
- ReLU by compiled loops, one pass each way, its output kept in place of its mask (`relu.py`; bit
  for bit the layer's own);
- max pooling by compiled loops that keep where each window's maximum was, so that backward writes
  each input's gradient once (`pool.py`; bit for bit the layer's own);
- the sigmoid through exp of a clipped input, in three passes (`sigmoid.py`);
- the first convolution skips ∂E/∂X, which nobody reads while training;
- gradient norms with numpy's own loops (BLAS dot wakes OpenBLAS threads between steps), or taken in
  the same pass that adds the two halves' gradients;
- no pass over the weights per step to keep them finite: bounds say when one is needed (`guard.py`);
- a batch of at least 32 in two halves at once, the second on another thread, each through its own
  copy of the layers (shared parameters), forward, loss and backward in one hand-over, the gradients
  summed (`shards.py`): numpy and the compiled loops let go of the GIL, so the halves use both cores.

A batch too large for cnn.memory.TRAINING_BYTES goes in chunks (cnn.step.in_chunks), each as above.
"""
from .step import FastStep, backward, forward

__all__ = ["FastStep", "backward", "forward"]

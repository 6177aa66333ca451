"""Architectures as text: the compact grammar of `--arch`, its checks, and the network it builds.

    conv DEPTH KxK [stride=S] [pad=valid|same|N]
         [bias=position|kernel] [init=normal|he|xavier]               Y_i = B_i + Σ_j X_j ⋆ K_ij (stride S, P zeros)
    maxpool S | avgpool S                                             max or mean over S×S windows, stride S
    globalavgpool                                                     Y_j = mean of channel X_j: an image → a vector
    dropout P                                                         training: Y = M ⊙ X/(1 − P); evaluation: Y = X
    batchnorm                                                         Y = γ (X − μ)/√(σ² + ε) + β per channel or unit
    dense N [init=normal|he|xavier]                                   Y = W X + B
    sigmoid | tanh | relu | softmax

Layers are separated by commas (case-insensitive; spaces are free around commas). A flatten is
implied before the first dense; the first layer takes the data's 1×28×28; the last layer's size
must equal the number of classes. Defaults (bias=position, init=normal, stride=1, pad=valid) are the
original's; pad=same keeps ⌈H/S⌉ rows (the odd zero after), pad=N puts N zeros on every side (N < K).

Every problem is one line naming where it is and why: "token 3 'maxpool 0': size must be ≥ 1"
for the compact string (tokens count from 1), "layer 8 dense expects a 3380-vector but gets a
400-vector after flatten" for the weights header's JSON layers (counted from 1 in the file's list).
"""
from __future__ import annotations

from .grammar import IMAGE_SHAPE, KINDS, ArchitectureError, LayerSpec, parse, text
from .networks import build, describe, from_json, read_spec
from .shapes import Row, canonical, check, plan, shape_text

__all__ = ["IMAGE_SHAPE", "KINDS", "ArchitectureError", "LayerSpec", "Row", "build", "canonical", "check",
           "describe", "from_json", "parse", "plan", "read_spec", "shape_text", "text"]

"""The attribution maps the studio overlays on the chosen sample (Qt-free): what the view asks
for, and the maps the worker computes with cnn.attribution."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnn.attribution import convolutions, grad_cam, occlusion, saliency
from cnn.session import Session

PATCH_SIZES = (3, 5, 7, 9)


@dataclass(frozen=True)
class AttributionRequest:
    class_index: int | None = None   # None: the predicted class
    layer: int | None = None         # Grad-CAM's convolution; None: the last one
    patch: int = 5                   # occlusion's square, in pixels
    fill: float = 0.5                # what the patch greys the image to
    occlusion: bool = True           # occlusion costs one forward pass per patch position


@dataclass(frozen=True)
class Attribution:
    sample: tuple                    # (split, index) of the snapshot it explains
    image: np.ndarray                # (28, 28) the input
    classes: tuple[int, ...]
    class_index: int                 # the class explained
    predicted_index: int
    probability: float              # p of that class
    saliency: np.ndarray             # (28, 28) |∂y_c/∂X|
    grad_cam: np.ndarray             # (28, 28) Grad-CAM at the input's pixels
    grad_cam_layer: int
    convolutions: tuple[int, ...]
    occlusion: np.ndarray | None     # (28, 28) mean drop of p_c, or None when not computed
    patch: int


def explain(session: Session, x: np.ndarray, sample: tuple, request: AttributionRequest) -> Attribution:
    """The maps for one input x (1, 1, 28, 28) of `session`'s network."""
    network, loss = session.network, session.loss
    x = np.asarray(x, dtype=network.dtype)
    probabilities = loss.probabilities(network.forward(x))[0]
    predicted = int(np.argmax(probabilities))
    c = predicted if request.class_index is None or request.class_index >= len(probabilities) \
        else int(request.class_index)
    layers = tuple(convolutions(network))
    layer = request.layer if request.layer in layers else None
    cam = grad_cam(network, x, c, layer)
    occluded = occlusion(network, x, c, loss, patch=request.patch, fill=request.fill).image \
        if request.occlusion else None
    maps = [saliency(network, x, c)[0], cam.image] + ([occluded] if occluded is not None else [])
    for array in maps:
        array.flags.writeable = False
    image = np.array(x[0, 0], dtype=np.float64)
    image.flags.writeable = False
    return Attribution(sample, image, session.dataset.classes, c, predicted, float(probabilities[c]), maps[0],
                       maps[1], cam.layer, layers, maps[2] if occluded is not None else None, request.patch)

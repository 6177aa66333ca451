"""Why the network decided: saliency, Grad-CAM and occlusion over the chosen sample, for the
predicted class or any other, with an opacity slider (the maps come from the worker, computed by
cnn.attribution; this view asks for them while it is shown)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QSlider, QSpinBox, QVBoxLayout, QWidget

from app.model.explainer import AttributionRequest
from app.widgets.wheel_guard import guard_wheel
from app.widgets.imaging import GRAY, image_plot

HEAT = pg.colormap.get("inferno")
MIN_DROP = 0.01   # an occlusion map's scale reaches at least this drop (a class at p ≈ 0 drew one stray pixel)
MAPS = (("saliency", "saliency |∂y<sub>c</sub>/∂X|"), ("grad_cam", "Grad-CAM"),
        ("occlusion", "occlusion: drop of p<sub>c</sub>"))
NOTE = ("<b>Saliency</b> is |∂y<sub>c</sub>/∂X|: how much each pixel moves the score of the class c chosen here "
        "(the network's own output for c: the logit before the softmax of a network trained with softmax "
        "cross-entropy, the sigmoid's output of one trained with binary cross-entropy, as the original). The "
        "Gradients view's ∂E/∂X is another thing: the loss's gradient, which needs the true label, mixes every "
        "class (with softmax, Σ<sub>k</sub> (p<sub>k</sub> − y*<sub>k</sub>) ∂z<sub>k</sub>/∂X) "
        "and fades when the network is confidently right. <b>Grad-CAM</b> weighs a convolution's feature maps by "
        "how much the score rises with each and keeps the positive part. <b>Occlusion</b> greys a square out at "
        "every position and shows how much p<sub>c</sub> drops (red: the digit needs it; negative drops are 0 "
        "here).")


PREDICTED = "predicted"    # the class box's first item: the class the network predicts


class AttributionView(QWidget):
    request_changed = Signal(object)   # AttributionRequest, or None when hidden
    shown = Signal(object)             # the Attribution now drawn

    def __init__(self, parent=None):
        super().__init__(parent)
        self.class_choice = QComboBox()
        self.class_choice.addItem(PREDICTED, None)
        self.layer_choice = QComboBox()
        self.layer_choice.setToolTip("The convolution whose feature maps Grad-CAM weighs")
        self.patch = QSpinBox()
        self.patch.setRange(1, 14)
        self.patch.setValue(5)
        self.patch.setSuffix(" px")
        self.patch.setToolTip("Occlusion: the side of the grey square slid over the image")
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(60)
        self.opacity.setToolTip("How much of the map covers the image")
        for combo in (self.class_choice, self.layer_choice):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.class_choice.setMinimumContentsLength(len(PREDICTED))   # its longest item, whole
        controls = QGridLayout()
        for n, (text, widget) in enumerate((("Class", self.class_choice), ("Grad-CAM on", self.layer_choice),
                                            ("Patch", self.patch), ("Opacity", self.opacity))):
            controls.addWidget(QLabel(text), n // 2, 2 * (n % 2))
            controls.addWidget(widget, n // 2, 2 * (n % 2) + 1)
        self.caption = QLabel("")
        self.caption.setObjectName("caption")
        self.caption.setTextFormat(Qt.RichText)
        self.graphics = pg.GraphicsLayoutWidget()
        self.views, self.images, self.overlays = {}, {}, {}
        for row, (key, title) in enumerate(MAPS):   # one above the other: the dock is narrow and tall
            view = image_plot(title, self.graphics.ci, 2 * row, 0)
            base, overlay = pg.ImageItem(), pg.ImageItem()
            base.setColorMap(GRAY)
            overlay.setColorMap(HEAT)
            view.addItem(base)
            view.addItem(overlay)
            self.views[key], self.images[key], self.overlays[key] = view, base, overlay
        self.note = QLabel(NOTE)
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.RichText)
        self.note.setStyleSheet("color: #444")
        self.note.setMinimumWidth(200)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(controls)
        layout.addWidget(self.caption)
        layout.addWidget(self.graphics, 1)
        self.occlusion_note = QLabel("")
        layout.addWidget(self.occlusion_note)
        layout.addWidget(self.note)
        self.attribution = None
        self.class_choice.currentIndexChanged.connect(self._ask)
        self.layer_choice.currentIndexChanged.connect(self._ask)
        self.patch.valueChanged.connect(self._ask)
        guard_wheel(self)   # in its scrolled workspace, the wheel scrolls the panel past the opacity and the choices
        self.opacity.valueChanged.connect(self._set_opacity)
        self._set_opacity()

    def request(self) -> AttributionRequest:
        return AttributionRequest(self.class_choice.currentData(), self.layer_choice.currentData(), self.patch.value())

    def set_model(self, info) -> None:
        """A new network: its classes to choose from (its convolutions come with the first maps)."""
        self.class_choice.blockSignals(True)
        self.class_choice.clear()
        self.class_choice.addItem(PREDICTED, None)
        for index, digit in enumerate(info.classes):
            self.class_choice.addItem(f"digit {digit}", index)
        self.class_choice.blockSignals(False)
        self.layer_choice.blockSignals(True)
        self.layer_choice.clear()
        self.layer_choice.blockSignals(False)

    def show_attribution(self, a) -> None:
        self.attribution = a
        if self.layer_choice.count() != len(a.convolutions):
            self.layer_choice.blockSignals(True)
            self.layer_choice.clear()
            for layer in a.convolutions:
                self.layer_choice.addItem(f"layer {layer}" + (" (last)" if layer == a.convolutions[-1] else ""), layer)
            self.layer_choice.setCurrentIndex(self.layer_choice.findData(a.grad_cam_layer))
            self.layer_choice.blockSignals(False)
        split, index = a.sample
        what = f"{split} image #{index}" if split in ("test", "train") else split
        self.caption.setText(f"<b>{what}</b> · explaining <b>{a.classes[a.class_index]}</b> (p = {a.probability:.3f})"
                             f"{' · the predicted class' if a.class_index == a.predicted_index else ''}"
                             f" · Grad-CAM on layer {a.grad_cam_layer}")
        for key, _ in MAPS:
            self.images[key].setImage(a.image, levels=(0, 1))
            values = getattr(a, key)
            if values is None:
                self.overlays[key].clear()
                continue
            high = float(values.max())
            if key == "occlusion":   # drops of p_c, in probability: under MIN_DROP never shown at full brightness
                high = max(high, MIN_DROP)
            self.overlays[key].setImage(values.clip(0, None), levels=(0, high if high > 0 else 1.0))
            self.views[key].autoRange(padding=0.02)
        self.occlusion_note.setText("" if a.occlusion is not None else
                                    "Occlusion (one forward pass per patch position) is computed when the pen "
                                    "lifts and while training pauses.")
        self.shown.emit(a)

    def _set_opacity(self) -> None:
        for overlay in self.overlays.values():
            overlay.setOpacity(self.opacity.value() / 100)

    def _ask(self) -> None:
        if self.isVisible():
            self.request_changed.emit(self.request())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.request_changed.emit(self.request())

    def hideEvent(self, event) -> None:
        super().hideEvent(event)
        self.request_changed.emit(None)

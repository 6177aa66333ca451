"""Texts of the Help menu."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from cnn import __version__


def version() -> str:
    """The installed package's version, or the source tree's (cnn.__version__) when run from a checkout."""
    try:
        from importlib.metadata import PackageNotFoundError, version as installed
        return installed("cnn-studio")
    except (ImportError, PackageNotFoundError):
        return __version__


ABOUT = (f"<b>CNN Studio {version()}</b><p>A convolutional network written from scratch in numpy and scipy, "
         "learning MNIST while you watch.</p><p>MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, CC BY-SA 3.0.</p>")

TOUR = """<p>The <b>Layer</b> picker beside the tabs (or a click on a row of the network summary)
chooses the layer the first tab shows; it starts at the first convolution.</p>
<p><b>Loss</b> (top left): every step's training loss in grey, its moving average in blue, each
epoch's mean training loss (dots) and test loss (orange squares) on a log scale; below, the test
error (100% − accuracy) on a log scale. The wheel zooms either plot; hover to read values.</p>
<p><b>Weights</b> (top right): a convolution's kernels K<sub>ij</sub> in a grid (kernel i, input
channel j), a Dense layer's weights as one template per output unit in its input's shape. Red is
positive, blue negative, white exactly zero; one symmetric scale (the colour bar). Below them the
biases. Hover a cell to read its value.</p>
<p><b>Feature maps</b> (bottom left): the chosen image X, the chosen layer's output Y and the
activation after it, and the network's outputs per class: green is the true class, red a wrong
prediction.</p>
<p><b>Gradients</b> (bottom right): for the chosen image, ∂E/∂θ of the layer's weights, ∂E/∂Y at
its output and ∂E/∂X at its input, each on its own symmetric scale.</p>
<p><b>Network strip</b> (second tab): every layer's output Y and ∂E/∂Y for the chosen image.</p>
<p><b>Health</b> (third tab): each parameter's gradient norm and update ratio ‖ΔW‖/‖W‖, and the share
of saturated sigmoids and dead ReLUs; an amber banner warns when the network stops learning.</p>
<p><b>Choosing the image</b>: the test or training set, its number, ◀ ▶, or a click on a thumbnail.
A red frame marks an image the network gets wrong; <i>Next misclassified</i> jumps to the next one
and says how many there are.</p>
<p><b>Runs</b> (Ctrl+2, the tab next to the settings): every run recorded in the runs folder, with its
epochs, best test accuracy and status. Select a run to open it (its last checkpoint and its curves);
<i>Continue</i> trains it for more epochs in its own folder; tick runs to overlay their curves in the
<i>Compare runs</i> tab; rename, delete or export a run's metrics as CSV. The row in blue is the run
shown; weights opened from a file are no run, and no row is selected.</p>
<p><b>Your digit</b> (View menu): draw a digit on the pad (Undo Ctrl+Z, Clear) or open a picture of one;
it is preprocessed as MNIST's digits were (cropped, scaled to 20 pixels, centred in 28×28) and becomes
the sample every view shows. The answer says what the network reads, and which digits it can read at
all (a network of 0 and 1 reads every drawing as 0 or 1). Pick the true digit to see whether it is
right; <i>Keep</i> adds the image to your samples. Undo or Clear back to an empty pad brings back the
sample chosen before the drawing.</p>
<p><b>Why</b> (View menu): why the network decided as it did for the chosen sample: the saliency
|∂y<sub>c</sub>/∂X|, Grad-CAM on a convolution's feature maps, and occlusion (the drop of the class's
score as a grey patch slides over the image), for the predicted class or any other.</p>
<p><b>Results</b> (View menu, Ctrl+Shift+E to evaluate): the confusion matrix of the test or training
set (rows: the true digit, columns: the prediction) with each digit's accuracy; click a cell to see
its images, double-click an image to step through it; galleries of the hardest examples and the
confident mistakes.</p>
<p><b>Architecture editor</b> (Training ▸ Edit architecture, Ctrl+Shift+A): the network as a list of
layers, from a preset; add, remove, reorder and change them number by number (Undo, Ctrl+Z). Each row
shows its output shape and parameters; an invalid row is red, with its reason. Apply starts a new run
with that network; the preset box then says "custom network".</p>
<p><b>Step through this sample</b> (Ctrl+T) pauses training and opens a window that walks the chosen
image through every layer forward and backward, with each formula beside its arrays; hover a
number to see where it comes from, edit a kernel, check the gradients, apply one SGD step.</p>
<p><b>Shortcuts</b>: Start F5 · Pause/Resume Space (also while a field has focus) · Stop Ctrl+. ·
Reset Ctrl+R · previous/next image Alt+← / Alt+→ · next misclassified Ctrl+M · step through Ctrl+T ·
open weights Ctrl+O · save weights Ctrl+S · export the views as PNG Ctrl+E · the settings
Ctrl+1 and the recorded runs Ctrl+2 (the tabs above them). The learning rate can be
typed while training and applies from the next step (Enter to take it).</p>"""



def show_tour(parent) -> QDialog:
    """The tour in a window that scrolls and fits the screen (a message box as tall as the text ran off a
    768 px screen once every panel had its paragraph)."""
    dialog = QDialog(parent)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    dialog.setWindowTitle("How to read the views")
    text = QTextBrowser()
    text.setHtml(TOUR)
    buttons = QDialogButtonBox(QDialogButtonBox.Close)
    buttons.rejected.connect(dialog.close)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text, 1)
    layout.addWidget(buttons)
    screen = dialog.screen().availableGeometry()
    dialog.resize(min(720, screen.width() - 40), min(640, screen.height() - 80))
    dialog.show()
    return dialog

"""Texts of the Help menu."""
from __future__ import annotations

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

TOUR = """<p>The studio has five <b>workspaces</b>, one tab each (Ctrl+1 to Ctrl+5, or the View menu);
the run controls above them work from every one, and training goes on while you look at another.
The status bar shows the run's progress.</p>
<p>The <b>lesson</b> in the pane at the left (Help ▸ Lesson, Ctrl+L) walks from the task to a trained network,
one idea a page: <i>Show me</i> puts the studio in the state the page speaks of, and <i>Try it</i> gives a
task the studio checks by itself and answers in words.</p>
<p><b>Train</b> (Ctrl+1): the run's settings, and below them the network they make, one row per
layer. <b>Loss</b>: every step's training loss in grey, its moving average in blue, each epoch's
mean training loss (dots) and test loss (orange squares) on a log scale; below, the test error
(100% − accuracy) on a log scale. The wheel zooms either plot; hover to read values.
<b>Health</b>: each parameter's gradient norm and update ratio ‖ΔW‖/‖W‖, and the share of
saturated sigmoids and dead ReLUs; an amber banner warns when the network stops learning.</p>
<p><b>Inspect</b> (Ctrl+2): the chosen image and layer. <i>Choosing the image</i>: the test or
training set, its number, ◀ ▶, or a click on a thumbnail. A red frame marks an image the network
gets wrong; <i>Next misclassified</i> jumps to the next one and says how many there are. The
<b>Layer</b> picker above the views, or a click on a row of the layers' list, chooses the layer.
<i>Feature maps</i>: the image X, the layer's output Y and the activation after it, and the
network's outputs per class (green the true class, red a wrong prediction). <i>Weights</i>: a
convolution's kernels K<sub>ij</sub> in a grid (kernel i, input channel j); a Dense layer's
weights as one template per output unit in its input's shape, one unit at a time with its input
channels (the Unit box, or All units and a click on one). Red is positive, blue negative, white
exactly zero; one symmetric scale (the colour bar). Below them the biases. <i>Gradients</i>: for
the chosen image, ∂E/∂θ of the layer's weights, ∂E/∂Y at its output and ∂E/∂X at its input, each
on its own symmetric scale. <b>Network strip</b>: every layer's output Y and ∂E/∂Y at once.</p>
<p><b>Your digit</b> (Ctrl+3): draw a digit on the pad (Undo Ctrl+Z, Clear) or open a picture of
one: its preprocessing step by step (cropped, scaled to 20 pixels, centred in 28×28 as MNIST's
digits were), what the network reads and which digits it can read at all (a network of 0 and 1
reads every drawing as 0 or 1), and the true digit you pick; it becomes the sample every view
shows, and Undo or Clear back to an empty pad brings back the sample chosen before. <i>Keep</i>
adds it to your samples. Beside it, <b>Why</b> the network decided: the saliency
|∂y<sub>c</sub>/∂X|, Grad-CAM on a convolution's feature maps, and occlusion (the drop of the
class's score as a grey patch slides over the image), for the predicted class or any other.</p>
<p><b>Results</b> (Ctrl+4): the confusion matrix of the test or training set (Evaluate, Ctrl+Shift+E;
rows: the true digit, columns: the prediction) with each digit's accuracy; click a cell to see
its images, double-click an image to step through it; galleries of the hardest examples and the
confident mistakes.</p>
<p><b>Runs</b> (Ctrl+5): every run recorded in the runs folder, with its settings, epochs, best
test accuracy and status (a run stopped inside an epoch says where). Select a run to open it (its
last checkpoint and its curves); <i>Continue</i> trains it on in its own folder, from the step it
stopped at; tick runs to overlay their curves; rename, delete or export a run's metrics as CSV. The
row in blue is the run shown; weights opened from a file are no run, and no row is selected.</p>
<p><b>Step through this sample</b> (Ctrl+T) pauses training and opens a window that walks the chosen
image through every layer forward and backward, with each formula beside its arrays; hover a
number to see where it comes from, edit a kernel, check the gradients, apply one SGD step.</p>
<p><b>Architecture editor</b> (Training ▸ Edit architecture, Ctrl+Shift+A): the network as a list of
layers, from a preset; add, remove, reorder and change them number by number (Undo, Ctrl+Z). Each row
shows its output shape and parameters; an invalid row is red, with its reason. Apply starts a new run
with that network; the preset box then says "custom network".</p>
<p><b>The timeline</b> under the workspaces holds the moments of the run shown: its weights at step 0,
at steps 1, 2, 4, … of the first epoch and at every epoch's end. Drag it, or press [ and ] (Home, End),
and every view shows that moment's weights for the chosen image; the loss plot marks it. Live (L) goes
back to the weights of now; training goes on meanwhile. Play animates the moments, GIF… saves the
animation; Inspect ▸ Over time draws each parameter's distribution and the image's probabilities
across the moments.</p>
<p><b>Shortcuts</b>: Start F5 · Pause/Resume Space (also while a field has focus) · Stop Ctrl+. ·
Reset Ctrl+R · previous/next image Alt+← / Alt+→ · next misclassified Ctrl+M · step through Ctrl+T ·
open weights Ctrl+O · save weights Ctrl+S · export the workspace as PNG Ctrl+E · the workspaces
Ctrl+1 … Ctrl+5 · the timeline's moments [ ] Home End, live L. The learning rate can be typed while
training and applies from the next step
(Enter to take it).</p>"""

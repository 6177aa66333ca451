"""Texts of the Help menu."""

ABOUT = ("<b>CNN Studio</b><p>A convolutional network written from scratch in numpy and scipy, learning "
         "MNIST while you watch.</p><p>MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, CC BY-SA 3.0.</p>")

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
of saturated sigmoids and dead ReLUs; an amber banner warns when the network stops learning.</p>"""

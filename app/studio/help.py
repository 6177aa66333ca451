"""Texts of the Help menu."""

ABOUT = ("<b>CNN Studio</b><p>A convolutional network written from scratch in numpy and scipy, learning "
         "MNIST while you watch.</p><p>MNIST: Y. LeCun, C. Cortes, C. J. C. Burges, CC BY-SA 3.0.</p>")

TOUR = """<p><b>Loss</b> (top left): every step's training loss in grey, its moving average in blue, each
epoch's mean training loss (dots) and test loss (orange squares) on a log scale; test accuracy in
green on the right-hand axis.</p>
<p><b>Kernels</b> (top right): the first convolution's 3×3 kernels. Red is positive, blue negative,
white exactly zero; one symmetric scale for all kernels (the colour bar). Beside them the biases:
one per output position in the original network. Hover a cell to read its value.</p>
<p><b>Feature maps</b> (bottom left): the chosen image, each kernel's output Y before the activation
(diverging colours) and after it, and the network's outputs per class: green is the true class,
red a wrong prediction.</p>
<p><b>Gradients</b> (bottom right): the norm of every parameter's gradient at each step (log scale);
for the chosen image, ∂E/∂K per kernel, ∂E/∂Y at the convolution's output and ∂E/∂X at the input,
each on its own symmetric scale.</p>"""

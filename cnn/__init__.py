"""CNN Studio's engine: a convolutional network from scratch in numpy and scipy.

Pure numpy/scipy; never imports Qt or the studio.
"""
from .activations import ReLU, Sigmoid, Softmax, Tanh, softmax
from .batchnorm import BatchNorm
from .convolution import Convolutional
from .dense import Dense
from .dropout import Dropout
from .layer import Layer
from .losses import LOSSES, get_loss
from .network import Network
from .notebook import fit
from .optim import SGD, Adam
from .pooling import AvgPool2D, GlobalAvgPool, MaxPool2D
from .reshape import Reshape
from .trace import Trace, trace

__all__ = ["Adam", "AvgPool2D", "BatchNorm", "Convolutional", "Dense", "Dropout", "fit", "GlobalAvgPool", "Layer",
           "LOSSES", "MaxPool2D", "Network", "ReLU", "Reshape", "SGD", "Sigmoid", "Softmax", "Tanh", "Trace",
           "get_loss", "softmax", "trace"]
__version__ = "0.1.0"

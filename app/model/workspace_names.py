"""The window's workspaces by name (Qt-free: the remembered settings and the command line use them too)."""
from __future__ import annotations

# (name on the command line and in the settings, title) in the order of the tabs and of Ctrl+1…Ctrl+5
WORKSPACES = (("train", "Train"), ("inspect", "Inspect"), ("your-digit", "Your digit"), ("results", "Results"),
              ("runs", "Runs"))
NAMES = tuple(name for name, _ in WORKSPACES)
TIPS = {"train": "The run's settings, the loss and the layers' health",
        "inspect": "One sample through the chosen layer: its weights, maps and gradients",
        "your-digit": "Draw a digit or open a picture: what the network reads, and why",
        "results": "The confusion matrix and its images",
        "runs": "The recorded runs: open, continue, compare their curves"}
# The workspaces whose views draw the chosen sample's snapshot (Inspect) or your image's (Your digit): in the
# others a running training makes none for its frames
SNAPSHOT_WORKSPACES = ("inspect", "your-digit")
# The splitters whose positions are remembered (app/model/remembered.py), as attributes of the window
SPLITTERS = ("train_splitter", "inspect_splitter", "views_splitter", "top_splitter",
             "digit_splitter", "runs_splitter")
# Train's sub-tabs by name, in their order (remembered as window/train_tab)
TRAIN_TABS = ("loss", "health")

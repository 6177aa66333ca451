"""Whether the training of the network shown is kept somewhere, Qt-free: what a new network in its place
(another preset, other classes…) would lose. The studio model follows it (app/model/run_folders.py) and
sends it as `kept`; the window asks before a new network replaces training kept nowhere
(app/studio/replacing.py)."""
from __future__ import annotations

from dataclasses import dataclass, replace

SETTINGS = "A new network for the changed settings"    # what replaces the network, unless told otherwise


@dataclass(frozen=True)
class Kept:
    steps: int = 0     # training steps (and step-through updates) since the network was made or opened
    run: str = ""      # the run whose last checkpoint holds these weights, by its name ('' none)
    file: str = ""     # the file they were saved to after their last step ('' none)

    def trained(self, steps: int = 1) -> "Kept":
        """After `steps` more steps: the weights are new, kept nowhere yet."""
        return Kept(self.steps + steps)

    def in_run(self, name: str) -> "Kept":
        return replace(self, run=name)

    def in_file(self, path: str) -> "Kept":
        return replace(self, file=path)

    @property
    def at_risk(self) -> bool:
        """Whether a new network in its place loses training: it trained, and neither a run nor a file holds it."""
        return self.steps > 0 and not self.run and not self.file

    def question(self, replacement: str = SETTINGS) -> str:
        """What replacing the network by `replacement` loses, for the question asked first."""
        steps = f"{self.steps:,} training step{'s' * (self.steps != 1)}"
        return (f"The network shown has taken {steps} since it was made or opened, and its weights are neither "
                f"saved nor recorded in a run. {replacement} replaces it: that training is lost.")

    def note(self, replacement: str = SETTINGS) -> str:
        """Where a network just replaced by `replacement` stays: the run holding it, or the file its training was
        saved to ('' when neither)."""
        if self.run:
            return (f"{replacement}; the run “{self.run}” stays in the Runs panel "
                    "(Ctrl+5: Open or Continue goes on with it).")
        if self.steps and self.file:
            return f"{replacement}; the trained weights stay in {self.file}."
        return ""

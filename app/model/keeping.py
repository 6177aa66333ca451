"""Whether the training of the network shown is kept somewhere, Qt-free: what a new network in its place
(another preset, other classes…) would lose. The studio model follows it (app/model/run_folders.py) and
sends it as `kept`; the window asks before a new network replaces training kept nowhere
(app/studio/replacing.py)."""
from __future__ import annotations

from dataclasses import dataclass

SETTINGS = "A new network for the changed settings"    # what replaces the network, unless told otherwise


@dataclass(frozen=True)
class Kept:
    steps: int = 0     # training steps (and step-through updates) since the weights were last kept (0: made, opened)
    run: str = ""      # the run whose checkpoint kept them last, by its name ('' none)
    file: str = ""     # the file they were last saved to ('' none)
    recording: bool = False   # a run records them as they train: its checkpoint at the stop keeps the rest

    def trained(self, steps: int = 1) -> "Kept":
        """After `steps` more steps: weights no checkpoint or file holds yet (where the last ones are stays)."""
        return Kept(self.steps + steps, self.run, self.file, self.recording)   # (at every step: replace() is slower)

    def in_run(self, name: str, recording: bool = False) -> "Kept":
        """The run `name`'s checkpoint holds the weights (`recording`: and records them as they go on)."""
        return Kept(run=name, recording=recording)

    def in_file(self, path: str) -> "Kept":
        return Kept(file=path)

    @property
    def at_risk(self) -> bool:
        """Whether a new network in its place, or quitting, loses training: steps no run or file holds."""
        return self.steps > 0 and not self.recording

    def loss(self, running: bool = False) -> str:
        """What is at risk, in words (`running`: training goes on while the user reads it)."""
        steps = f"{self.steps:,} training step{'s' * (self.steps != 1)}"
        going_on = " so far (it trains on while you choose)" if running else ""
        if self.run or self.file:
            return (f"The network shown has taken {steps}{going_on} since its weights were last saved or recorded, "
                    f"and {'that step is' if self.steps == 1 else 'those steps are'} kept nowhere.")
        return (f"The network shown has taken {steps}{going_on} since it was made or opened, and its weights are "
                "neither saved nor recorded in a run.")

    def question(self, replacement: str = SETTINGS, running: bool = False) -> str:
        """What replacing the network by `replacement` loses, for the question asked first."""
        return f"{self.loss(running)} {replacement} replaces it: that training is lost."

    def note(self, replacement: str = SETTINGS) -> str:
        """Where the weights of a network just replaced by `replacement` stay: the run holding them, or the file they
        were saved to ('' when neither)."""
        if self.run:
            return (f"{replacement}; the run “{self.run}” stays in the Runs panel "
                    "(Ctrl+5: Open or Continue goes on with it).")
        if self.file:
            return f"{replacement}; the weights saved last stay in {self.file}."
        return ""

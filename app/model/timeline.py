"""Time travel in the studio model, Qt-free: the moments of the run the network belongs to (cnn.runs.moments),
the one the views show (`studio.moment`; None: the weights as they are now, live), and the weights over
time. Every view computes what it shows from `shown()`, the session with the moment's network in place
of the live one, so the kernels, maps, gradients, the strip, Why, the results and your digit all show the
moment for the chosen sample; training goes on with the live network meanwhile.

Loaded networks and test evaluations are kept for a few moments (bounded), so that stepping back and
forth along the timeline costs one sample's pass, not a load and a test set's evaluation each time.
"""
from __future__ import annotations

import copy
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cnn import weights_file
from cnn.runs.moments import Moment, list_moments
from cnn.runs.specs import find, split_spec
from cnn.train import evaluate

from app.model.my_samples import ImageSample, as_split
from app.model.state import RunState

KEPT_NETWORKS = 8          # moments' networks kept loaded
KEPT_EVALUATIONS = 16      # moments' test evaluations kept
UNKNOWN = -1               # results_step when the views were told the test predictions are not known
PERCENTILES = (0, 6.68, 15.87, 30.85, 50, 69.15, 84.13, 93.32, 100)   # TensorBoard's distributions' band edges:
# the minimum, −1.5σ, −σ, −σ/2, the median, σ/2, σ, 1.5σ and the maximum of a normal distribution, as percentiles


@dataclass(frozen=True)
class MomentList:
    """The moments the timeline offers, by step."""
    folder: str                        # the run they are of ('' for none)
    steps: tuple[int, ...]
    positions: tuple[float, ...]       # on an axis of epochs (the loss plot's)
    accuracies: tuple[float | None, ...]
    damaged: tuple[str, ...]           # 'step-000000004.npz: reason'


@dataclass(frozen=True)
class OverTime:
    """The weights over time: each parameter tensor's distribution at every moment, and the chosen sample's
    predicted probabilities across moments."""
    steps: tuple[int, ...]
    positions: tuple[float, ...]
    bands: dict                        # parameter name → (moments, len(PERCENTILES)) percentiles
    probabilities: np.ndarray          # (moments, classes)
    classes: tuple[int, ...]
    sample: str                        # which sample ('test 0', your drawing's title)
    label: int | None                  # its true digit, if known


class Timeline:
    def __init__(self, studio):
        self.studio = studio
        self.moments: list[Moment] = []
        self.folder: Path | None = None          # the run whose moments these are
        self.browsed: Path | None = None         # the run a RUN@STEP weights file was loaded from
        self._networks: OrderedDict = OrderedDict()
        self._evaluations: OrderedDict = OrderedDict()
        self._bands: dict = {}                   # step → {name: percentiles}: a moment's never change
        self.results_step = None                 # the moment whose test results the views have (None: live)
        self.commands = {"list_moments": self.refresh, "moment": self.choose, "over_time": self.over_time,
                         "select_workspace": self.select_workspace}

    # -- which moments ---------------------------------------------------------------------
    def loaded(self, path: str) -> None:
        """A weights file was loaded: a moment's name (RUN@STEP) makes that run's moments the timeline's."""
        parts = split_spec(path)
        self.browsed = parts[0] if parts else None
        if parts is not None:      # and the timeline stands at that moment, whose results the load sent
            self.refresh()
            self.results_step = step = find(*parts).step
            self.choose(step)

    def forget(self) -> None:
        """Another network is shown: live again, nothing kept of the moments before."""
        if self.studio.moment is not None:
            self.studio.emit("moment_chosen", None, None)
        self.studio.moment, self.browsed, self.results_step = None, None, None
        self._networks.clear()
        self._evaluations.clear()
        self._bands.clear()

    def refresh(self) -> None:
        """Reads the run's moments again (new ones come while it trains) and sends them as `moments`."""
        folder = self.studio.runs.folder or self.browsed
        if folder != self.folder:
            self._bands.clear()
            self._networks.clear()
            self._evaluations.clear()
        self.folder = folder
        moments, damaged = list_moments(folder) if folder is not None else ([], [])
        self.moments = moments
        if self.studio.moment is not None and all(m.step != self.studio.moment for m in moments):
            self.choose(None)         # the moment shown is gone (a continued run took its stop's away): live
        self.studio.emit("moments", MomentList(str(folder or ""), tuple(m.step for m in self.moments),
                                               tuple(m.epoch for m in self.moments),
                                               tuple(m.test_accuracy for m in self.moments),
                                               tuple(f"{item.name}: {item.reason}" for item in damaged)))

    # -- the moment shown ------------------------------------------------------------------
    def choose(self, step: int | None) -> None:
        """Show the moment at `step` in every view, or (None) the weights as they are now."""
        studio = self.studio
        if studio.session is None:
            return
        if step is not None and studio.moment == step:
            return
        if step is None:
            studio.moment = None
            studio.emit("moment_chosen", None, None)
            studio.guarded(self._show)
            return
        moment = self._moment(step)
        if moment is None:
            return
        try:
            self.network(moment)
        except (weights_file.WeightsFileError, ValueError) as error:
            studio.emit("failed", f"The moment at step {step} cannot be shown: {error}")
            return
        studio.moment = step
        studio.emit("moment_chosen", step, moment.epoch)
        studio.guarded(self._show)

    def _moment(self, step: int) -> Moment | None:
        found = [m for m in self.moments if m.step == step]
        if not found:
            if not self.moments:
                self.studio.emit("failed", "This network has no moments to go back to: they are kept by a recorded "
                                           "run (Runs ▸ Open one, or train with a runs folder that can be written)")
                return None
            shown = ", ".join(str(m.step) for m in self.moments[:12])
            self.studio.emit("failed", f"No moment at step {step}; the moments are at steps {shown}")
            return None
        return found[0]

    def _show(self) -> None:
        """The chosen sample's views, then the test set's results, of the moment shown (or live)."""
        self.studio.inspection.emit_snapshot()
        self._results()

    def _results(self) -> None:
        """The test set's results (the confusion matrix, the galleries, the picker's marks) of the moment shown:
        now if they are kept or the Results workspace is shown; else when it is (a digits network's test set
        takes a second, which moving along the timeline does not wait for)."""
        step = self.studio.moment
        if step == self.results_step:
            return
        if step not in self._evaluations and self.studio.workspace != "results":
            if self.results_step != UNKNOWN:   # the predictions the views have are another moment's
                self.studio.emit("test_predictions", None)
                self.results_step = UNKNOWN
            return
        self.studio.inspection.emit_test_evaluation(self.evaluation())
        self.results_step = step

    def select_workspace(self, name: str) -> None:
        """The studio's own, then the results of the moment shown if the Results workspace waits for them."""
        self.studio.select_workspace(name)
        if name == "results" and self.studio.session is not None:
            self.studio.guarded(self._results)

    def network(self, moment: Moment):
        """The moment's network, loaded once (a few are kept); it must be the shown network's shape."""
        network = self._networks.pop(moment.step, None)
        if network is None:
            network = weights_file.load(moment.path)
            live = self.studio.session.network
            if {k: v.shape for k, v in network.params.items()} != {k: v.shape for k, v in live.params.items()}:
                raise ValueError(f"{moment.path}: it is of another network than the one shown")
            network.astype(live.dtype.name)
        self._networks[moment.step] = network
        while len(self._networks) > KEPT_NETWORKS:
            self._networks.popitem(last=False)
        return network

    def shown(self):
        """The session the views are computed from: the live one, or a copy holding the moment's network."""
        session, step = self.studio.session, self.studio.moment
        if step is None or session is None:
            return session
        moment = next((m for m in self.moments if m.step == step), None)
        if moment is None:
            return session
        shown = copy.copy(session)
        shown.network = self.network(moment)
        return shown

    def evaluation(self):
        """The test set's evaluation of the network shown (a moment's is kept)."""
        session = self.shown()
        step = self.studio.moment
        if step is None:
            return evaluate(session.network, session.dataset.test, session.loss)
        if step not in self._evaluations:
            self._evaluations[step] = evaluate(session.network, session.dataset.test, session.loss)
            while len(self._evaluations) > KEPT_EVALUATIONS:
                self._evaluations.popitem(last=False)
        return self._evaluations[step]

    # -- the weights over time -------------------------------------------------------------
    def over_time(self) -> None:
        """Sends `over_time`: every moment's distribution of each parameter tensor and the chosen sample's
        probabilities. Each moment's file is read once per call (its percentiles are kept)."""
        studio = self.studio
        if studio.session is not None:    # no moments: an empty one, so that no other run's stays drawn
            unread = sum(moment.step not in self._networks for moment in self.moments)   # (183 took 5 s, unsaid)
            said = unread > 1 and studio.state is not RunState.RUNNING   # (a run's progress stays in the status bar)
            studio.guarded(lambda: studio.emit("over_time", self._over_time()),
                           busy=f"Reading the run's {unread} moments…" if said else "")

    def _over_time(self) -> OverTime:
        session, sample = self.studio.session, self.studio.inspection.sample
        if isinstance(sample, ImageSample):
            x, label, name = as_split(session, sample).x, sample.label, sample.title
        else:
            split, index = sample
            data = session.dataset.train if split == "train" else session.dataset.test
            index = min(max(index, 0), len(data.x) - 1)
            x, label, name = data.x[index:index + 1], int(data.labels[index]), f"{split} {index}"
        bands, probabilities = {}, []
        for moment in self.moments:
            network = self._networks.get(moment.step) or weights_file.load(moment.path)
            network.astype(session.network.dtype.name)
            if moment.step not in self._bands:
                self._bands[moment.step] = {name: np.percentile(value, PERCENTILES)
                                            for name, value in network.params.items()}
            for key, values in self._bands[moment.step].items():
                bands.setdefault(key, []).append(values)
            probabilities.append(session.loss.probabilities(network.predict(x))[0])
        classes = len(session.dataset.classes)
        return OverTime(tuple(m.step for m in self.moments), tuple(m.epoch for m in self.moments),
                        {key: np.array(values) for key, values in bands.items()},
                        np.array(probabilities).reshape(len(self.moments), classes),
                        tuple(session.dataset.classes), name, label)

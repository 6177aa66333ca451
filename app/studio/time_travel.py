"""The window's time travel: the timeline under the workspaces, the moment marked on the loss and health
plots, and the weights-over-time view fed. The model does the rest (app/model/timeline.py): every view
draws the snapshot and the results it sends, which are of the moment chosen."""
from __future__ import annotations

from app.studio.timeline_bar import TimelineBar, moment_marker


def place_timeline(window) -> TimelineBar:
    """The timeline bar (the window puts it under the workspaces) and the moment's markers on the plots."""
    window.timeline = TimelineBar(window)
    loss, health = window.loss_view, window.health_view
    window.moment_markers = [(plot, moment_marker(plot)) for plot in (
        loss.plot, loss.error_plot, health.norms_plot, health.ratio_plot, health.activations_plot)]
    return window.timeline


def wire_timeline(window) -> None:
    """Called once the worker exists: the bar and the views follow the model's moments."""
    bar, worker, view = window.timeline, window.worker, window.over_time_view
    bar.subscribe(worker)
    view.subscribe(worker)
    bar.moment_requested.connect(lambda step: window.send("moment", step))
    worker.snapshot.connect(bar.drawn)              # after the views drew it (they subscribed first)
    for signal in (worker.current_run, worker.run_changed, worker.model_changed):
        signal.connect(bar.want_moments)            # a bound method of the GUI thread's bar: queued there
    bar.moments_wanted.connect(lambda: window.send("list_moments"))
    worker.moment_chosen.connect(bar.mark_plots)
    worker.moment_chosen.connect(window.results_view.moment_chosen)   # before the moment's results come
    worker.moment_chosen.connect(window.moment_shown)
    bar.marked.connect(lambda position: mark(window, position))
    view.wanted.connect(lambda: window.send("over_time"))
    worker.moments.connect(view.moments_arrived)
    window.sample_picker.sample_changed.connect(view.moments_arrived)


def mark(window, position) -> None:
    """The moment's line on the loss and health plots (hidden while live); a plot cleared for a new network
    gets it back."""
    for plot, line in window.moment_markers:
        if line not in plot.items:
            plot.addItem(line, ignoreBounds=True)
        line.setVisible(position is not None)
        if position is not None:
            line.setValue(position)

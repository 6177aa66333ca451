"""cnn-train's progress bar on a terminal: tqdm's, one line an epoch, with the rate in samples a second
and the time left. Each epoch's bar starts at its first step, counting that step (and the steps a
continued epoch had done) as done already: the rate is measured from the steps that follow, so the
first redraw says '?' rather than dividing a whole step by the microseconds since it ended."""
from __future__ import annotations

import os

from tqdm import tqdm

FALLBACK_SIZE = (80, 24)    # a terminal that tells no size (a pseudo-terminal nobody sized says 0×0, and
                            # tqdm would then draw nothing)


class ProgressBar:
    def __init__(self, stream, mininterval: float | None = None):
        """mininterval: seconds between redraws at least (None: tqdm's own, 0.1, or TQDM_MININTERVAL's)."""
        self.stream = stream
        self.options = {} if mininterval is None else {"mininterval": mininterval}
        self.bar: tqdm | None = None
        self.epoch: int | None = None

    def show(self, record) -> None:
        if self.bar is None or record.epoch != self.epoch:
            self.clear()
            self.epoch = record.epoch
            self.bar = tqdm(total=record.steps_per_epoch, initial=record.step, file=self.stream,
                            desc=f"epoch {record.epoch}", unit="sample",
                            unit_scale=record.batch_size if record.batch_size > 1 else False,   # steps → samples
                            leave=False, smoothing=0.1, postfix={"loss": f"{record.loss:.4f}"},
                            **self.options, **_size(self.stream))
            return
        self.bar.set_postfix(loss=f"{record.loss:.4f}", refresh=False)
        self.bar.update(record.step - self.bar.n)

    def clear(self) -> None:
        """Erase the bar (before an epoch's line is printed, or when training stops)."""
        if self.bar is not None:
            self.bar.close()
            self.bar, self.epoch = None, None


def _size(stream) -> dict:
    """tqdm's ncols and nrows: the terminal's, or FALLBACK_SIZE where it tells none."""
    try:
        columns, rows = os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        columns = rows = 0
    return {"ncols": columns or FALLBACK_SIZE[0], "nrows": rows or FALLBACK_SIZE[1]}

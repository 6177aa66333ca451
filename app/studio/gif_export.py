"""The current view's animation through a run's moments, as a GIF (Pillow): each moment is asked for, drawn,
grabbed; then the frames are written atomically (cnn.atomic) and the timeline goes back to what it showed."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtGui import QImage

from cnn.atomic import write_atomically

MAX_FRAMES = 120        # a longer run's moments are thinned evenly to this many frames
MAX_WIDTH = 900         # frames wider than this are scaled down (a GIF of the whole window is large)
FRAME_MS = 400          # a frame's time in the animation


def frame_of(widget):
    """The widget as drawn now, as a Pillow image (scaled down to MAX_WIDTH)."""
    from PIL import Image
    image = widget.grab().toImage().convertToFormat(QImage.Format_RGB888)
    if image.width() > MAX_WIDTH:
        image = image.scaledToWidth(MAX_WIDTH).convertToFormat(QImage.Format_RGB888)
    data = bytes(image.constBits())
    return Image.frombuffer("RGB", (image.width(), image.height()), data, "raw", "RGB", image.bytesPerLine(), 1)


def picked(count: int) -> list[int]:
    """The moments' indices that become frames: all of them, or MAX_FRAMES spread evenly (the first and last kept)."""
    if count <= MAX_FRAMES:
        return list(range(count))
    return sorted({round(i * (count - 1) / (MAX_FRAMES - 1)) for i in range(MAX_FRAMES)})


def save_gif(path: Path, frames: list, milliseconds: int) -> None:
    def write(file):
        frames[0].save(file, format="GIF", save_all=True, append_images=frames[1:], duration=milliseconds, loop=0)
    write_atomically(path, write)


class GifRecorder:
    def __init__(self, bar, path: Path):
        self.bar, self.path = bar, Path(path)
        self.indices = picked(len(bar.steps))
        self.frames: list = []
        self.before = bar.shown
        self.grabbing = False       # a grab is on its way: one frame a moment

    def start(self) -> None:
        self._next()

    def _next(self) -> None:
        bar = self.bar
        step = bar.steps[self.indices[len(self.frames)]]
        if bar.shown == step:
            QTimer.singleShot(0, self.frame_drawn)
        else:
            bar.go_to(self.indices[len(self.frames)])

    def frame_drawn(self) -> None:
        """The views drew a snapshot: if it is of the moment asked for (the model says which it shows before
        it sends the snapshot; training's own frames come too), it is grabbed once painted."""
        if not self.grabbing and self.bar.shown == self.bar.steps[self.indices[len(self.frames)]]:
            self.grabbing = True
            QTimer.singleShot(30, self._grab)

    def _grab(self) -> None:
        bar = self.bar
        self.grabbing = False
        if bar.gif is not self:
            return
        self.frames.append(frame_of(bar.window.workspaces.currentWidget()))
        if len(self.frames) < len(self.indices):
            self._next()
            return
        bar.gif = None
        try:
            save_gif(self.path, self.frames, FRAME_MS)
        except (OSError, ValueError) as error:
            bar.window.show_error(f"{self.path}: the animation could not be saved ({error})")
        else:
            bar.window.show_message(f"Saved the animation of {len(self.frames)} moments to {self.path}")
            bar.gif_written.emit(str(self.path))
        if self.before is None:
            bar.go_live()
        elif self.before in bar.steps:
            bar.go_to(bar.steps.index(self.before))

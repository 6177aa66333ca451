"""The lesson pane, beside the workspaces it explains: one section at a time (its page, Back and Next),
Show me (app/studio/lesson_show.py) and Try it, whose check the studio model runs (app/model/
lesson_checks.py) and answers in words. It opens on the first start, remembers the section the learner
is at, and can be closed for good (Help ▸ Lesson opens it again)."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QTextBrowser, QVBoxLayout)

from app.model.lesson import load_sections, shown_markdown
from app.model.lesson_checks import StepFacts
from app.model.state import RunState
from app.studio.lesson_show import ShowMe

CHECK_EVERY = 1000    # ms between two looks at whether the Try it is done (only when something changed)
DONE, NOT_YET = "#1b7837", "#7a4a00"


def step_facts(dialog) -> StepFacts | None:
    """What the step-through shows, for the checks (None when it is not open)."""
    if dialog is None or not dialog.isVisible() or dialog.trace is None:
        return None
    applied = dialog.applied
    applied_from = applied["loss"] if applied and not dialog.awaiting_apply and applied.get("title") == \
        dialog.sample[0] else None
    return StepFacts(dialog.sample[0], dialog.edited, float(dialog.model_loss), float(dialog.trace.loss),
                     tuple(float(v) for v in dialog.trace.output.reshape(-1)), applied_from)


class LessonPane(QFrame):
    closed_for_good = Signal()

    def __init__(self, window):
        super().__init__()
        self.setObjectName("lesson")
        self.setFrameShape(QFrame.StyledPanel)
        self.window = window
        self.sections = load_sections()
        self.index = 0
        self.done: set[int] = set()       # sections whose Try it is done, this session
        self.changes = 0                  # counts what the model showed since the last check
        self.checked = None               # (changes, facts) of the last check sent
        self.show_me = ShowMe(window)
        self._build()
        self.show_me.done.connect(self._shown)
        self.show_me.stopped.connect(self._stopped)
        window.worker.lesson_answer.connect(self._answered)
        for signal in (window.snapshot_shown, window.worker.layer_chosen, window.worker.image_snapshot,
                       window.step_window_shown, window.worker.update_applied):
            signal.connect(self._changed)
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_EVERY)
        self.timer.timeout.connect(self.check_if_changed)
        self.timer.start()

    def _build(self) -> None:
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.page = QTextBrowser()
        self.page.setOpenExternalLinks(False)
        self.page.setMinimumWidth(150)
        self.back, self.next = QPushButton("◀ Back"), QPushButton("Next ▶")
        self.show_button = QPushButton("Show me")
        self.show_button.setToolTip("Put the studio in the state this page speaks of")
        self.close_button = QPushButton("✕")
        self.close_button.setToolTip("Close the lesson (Help ▸ Lesson opens it again)")
        self.close_button.setFixedWidth(28)
        self.task = QLabel()
        self.task.setWordWrap(True)
        self.check_button = QPushButton("Check")
        self.answer, self.status = QLabel(), QLabel()
        for label in (self.answer, self.status):
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.close_button)
        buttons = QHBoxLayout()   # Show me under Back and Next: the pane stays narrow (the workspaces fit 1024 px)
        for button in (self.back, self.next):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        for row in (top, buttons):   # the buttons first: in the same place whatever the page and the answer say
            layout.addLayout(row)
        for widget, stretch in ((self.show_button, 0), (self.status, 0), (self.page, 1), (self.task, 0),
                                (self.check_button, 0), (self.answer, 0)):
            layout.addWidget(widget, stretch)
        self.answer.setMinimumHeight(5 * self.answer.fontMetrics().lineSpacing())   # room kept: the page stays put
        self.answer.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.back.clicked.connect(lambda: self.open_section(self.index))
        self.next.clicked.connect(lambda: self.open_section(self.index + 2))
        self.show_button.clicked.connect(self.apply_show_me)
        self.check_button.clicked.connect(self.check)
        self.close_button.clicked.connect(self.close_for_good)

    @property
    def section(self):
        return self.sections[self.index]

    def open_section(self, number: int) -> None:
        """Shows section `number` (1 …), remembered for the next start."""
        self.index = min(max(number, 1), len(self.sections)) - 1
        section = self.section
        self.heading.setText(f"<b>Lesson</b> · {section.number} of {len(self.sections)}")
        self.page.setMarkdown(shown_markdown(section))
        self.task.setText(f"<b>Try it:</b> {section.task}")
        self.back.setEnabled(self.index > 0)
        self.next.setEnabled(self.index < len(self.sections) - 1)
        self.status.setText("")
        self.answer.setText("")
        if section.number in self.done:
            self.answer.setText(f"<span style='color:{DONE}'>Done earlier in this session.</span>")
        self.checked = None
        self.window.settings.setValue("lesson/section", str(section.number))

    def apply_show_me(self) -> None:
        self.status.setText("Show me: putting the studio in this page's state…")
        self.show_button.setEnabled(False)    # until it is done: a second click would start it over
        if self.section.number not in self.done:
            self.answer.setText("")           # an answer about the state before would mislead
        self.show_me.run(self.section)

    def _stopped(self, text: str) -> None:
        self.show_button.setEnabled(True)
        self.status.setText(f"Show me stopped: {text}")

    def _shown(self, number: int) -> None:
        self.show_button.setEnabled(True)
        if number == self.section.number:
            self.status.setText("Shown: the studio is in this page's state.")
            if number not in self.done:
                self.check()    # now: queued after the Show me's commands, it answers for the state they made

    # -- Try it ---------------------------------------------------------------------------------
    def _changed(self, *_) -> None:
        self.changes += 1

    def check(self) -> None:
        """The studio model runs the section's check; its answer comes back as lesson_answer."""
        facts = step_facts(self.window.step_window)
        self.checked = (self.changes, facts)
        self.window.send("check_lesson", self.section.check, facts)

    def check_if_changed(self) -> None:
        """By itself, once a second, while the pane is shown, its task not done, and the model showed
        something new (or the step-through changed); not while training runs (each check is work on the
        training's thread: the original network trained 4% slower), but within a second of a pause or the
        end. Check answers at any time."""
        if not self.isVisible() or self.section.number in self.done or self.window.model is None \
                or self.window.state is RunState.RUNNING:
            return
        if self.checked != (self.changes, step_facts(self.window.step_window)):
            self.check()

    def _answered(self, name: str, done: bool, text: str) -> None:
        if name != self.section.check:
            return
        if done:
            self.done.add(self.section.number)
        self.answer.setText(f"<span style='color:{DONE if done else NOT_YET}'>{text}</span>")

    def close_for_good(self) -> None:
        self.hide()
        self.window.settings.setValue("lesson/closed", True)
        self.closed_for_good.emit()

    def reopen(self) -> None:
        self.window.settings.setValue("lesson/closed", False)
        self.show()

    def step_aside(self, aside: bool) -> None:
        """The lesson says nothing of Runs: there it steps aside for the runs' curves (their legends and
        ticks need the width at 1024×768), and comes back on the workspaces it explains."""
        self.setVisible(not aside and not remembered_closed(self.window.settings))


def remembered_section(settings, count: int) -> int:
    """The section the learner was at (1 when none, or an unusable value)."""
    value = settings.value("lesson/section", "1")
    return int(value) if isinstance(value, str) and value.isdigit() and 1 <= int(value) <= count else 1


def remembered_closed(settings) -> bool:
    value = settings.value("lesson/closed", False)
    return value is True or value == "true"

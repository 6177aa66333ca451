"""The guided lesson (Qt-free): its sections, read from the Markdown files in app/lesson/,
and what each one's Show me does and its Try it checks.

A section is a file `NN-name.md` that opens with a header between two `---` lines:

    ---
    title: Cross-correlation
    show: preset original; workspace inspect; layer 0
    try: Choose the layer whose maps are 26 × 26 …
    check: convolution_chosen
    ---
    The page, in Markdown.

`show` is a list of steps separated by `;`, each a verb and its values (VERBS: every one goes to the
studio model through one of its commands); `check` names a function of app/model/lesson_checks.py
that answers the Try it in words from the model's state.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from cnn.config import RunConfig
from cnn.presets import PRESETS

from app.model.workspace_names import NAMES

LESSON_DIR = Path(__file__).resolve().parent.parent / "lesson"
SECTIONS_DIR = LESSON_DIR   # NN-name.md beside digits.npz (a sub-folder would look like a package to setuptools)
HEADER_KEYS = ("title", "show", "try", "check")
TABS = ("loss", "health", "layer", "strip")   # the window's tabs a step can show (Train's two, Inspect's two)
PHASES = ("forward", "backward", "update")    # the step-through's steps a step can turn to, for one layer
SPLITS = ("train", "test")

# verb → (the studio model's command it goes through, how many values it takes). A step of the
# window (a tab, a step of the step-through) still goes through the model's command that makes
# the state it shows: the step-through opens on the weights send_weights sends.
VERBS = {
    "preset": ("configure", 1),         # a fresh, untrained network of this preset
    "trained": ("start", 1),            # the preset's network trained its planned epochs (trained again if not)
    "load": ("load_weights", 1),        # a weights file shipped with the lesson (app/lesson/)
    "workspace": ("select_workspace", 1),
    "tab": ("select_workspace", 1),     # loss, health (in Train), layer, strip (in Inspect)
    "layer": ("select_layer", 1),       # the layer's index
    "sample": ("select_sample", 2),     # train|test and the image's number
    "misclassified": ("select_sample", 0),   # the next test image the network gets wrong
    "step": ("send_weights", 2),        # the step-through, at this phase of this layer
    "moment": ("moment", 1),            # the timeline at the run's first moment (step 0), or live
}
MOMENTS = {"first": 0, "live": None}     # a moment step's value → the step the timeline shows


class LessonError(ValueError):
    """A section file that cannot be read as a section (one line naming the file)."""


@dataclass(frozen=True)
class Step:
    verb: str
    values: tuple[str, ...]

    @property
    def command(self) -> str:
        return VERBS[self.verb][0]


@dataclass(frozen=True)
class Section:
    number: int        # 1, 2, …: its place in the lesson
    name: str          # the file's name without its number: 'task'
    title: str
    show: tuple[Step, ...]
    task: str          # the Try it, in words
    check: str         # the name of its check (lesson_checks.CHECKS)
    body: str          # Markdown


def parse_steps(text: str, where: str) -> tuple[Step, ...]:
    steps = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        verb, *values = part.split()
        if verb not in VERBS:
            raise LessonError(f"{where}: show: unknown step {verb!r} (one of {', '.join(VERBS)})")
        if len(values) != VERBS[verb][1]:
            raise LessonError(f"{where}: show: {verb!r} takes {VERBS[verb][1]} value(s), not {len(values)}")
        steps.append(Step(verb, tuple(values)))
    return tuple(steps)


def parse_section(text: str, number: int, name: str, where: str) -> Section:
    """A section from its file's text; LessonError naming `where` and the problem."""
    match = re.match(r"---\n(.*?)\n---\n(.*)", text, re.S)
    if match is None:
        raise LessonError(f"{where}: no header (a section opens with lines between two '---' lines)")
    header = {}
    for line in match.group(1).splitlines():
        key, colon, value = line.partition(":")
        if not colon or key.strip() not in HEADER_KEYS:
            raise LessonError(f"{where}: header line {line!r} is not 'KEY: value' with KEY one of "
                              f"{', '.join(HEADER_KEYS)}")
        header[key.strip()] = value.strip()
    missing = [key for key in HEADER_KEYS if not header.get(key)]
    if missing:
        raise LessonError(f"{where}: the header has no {', '.join(missing)}")
    return Section(number, name, header["title"], parse_steps(header["show"], where), header["try"], header["check"],
                   match.group(2).strip())


def load_sections(folder: Path = SECTIONS_DIR) -> tuple[Section, ...]:
    """Every section, in the order of the numbers their files start with."""
    sections = []
    for path in sorted(folder.glob("*.md")):
        found = re.fullmatch(r"(\d+)-([\w-]+)\.md", path.name)
        if found is None:
            raise LessonError(f"{path}: a section's file is named NN-name.md")
        sections.append(parse_section(path.read_text(encoding="utf-8"), len(sections) + 1, found.group(2), str(path)))
    if not sections:
        raise LessonError(f"{folder}: no section (NN-name.md) in the lesson's folder")
    return tuple(sections)


def shown_markdown(section: Section) -> str:
    """The page as the pane shows it: its title, and each formula block (lines indented by four spaces)
    as lines of their own in the text's own font: a code block's fixed-width font wrapped the
    formulas in a narrow pane. The formulas' *, _ and [ ] are kept from Markdown's emphasis and links."""
    lines = [f"## {section.title}", ""]
    for line in section.body.splitlines():
        if line.startswith("    "):
            text = re.sub(r"([\\`*_\[\]<>#])", r"\\\1", line[4:])
            indent = len(text) - len(text.lstrip(" "))
            lines.append("\u00a0" * (2 + indent) + text.lstrip(" ") + "\\")
        else:
            if lines[-1].endswith("\\"):     # the block's end: its last line needs no break
                lines[-1] = lines[-1][:-1]
                lines.append("")
            lines.append(line)
    if lines[-1].endswith("\\"):
        lines[-1] = lines[-1][:-1]
    return "\n".join(lines)


def preset_config(name: str) -> RunConfig:
    return RunConfig.from_preset(name)


def is_trained(config, trained: tuple[int, int], preset: str) -> bool:
    """Whether a network of `config`, trained (epochs, steps), is the preset's network trained its planned
    epochs with the preset's settings (then a Show me does not train it again)."""
    wanted = preset_config(preset)
    return config is not None and trained[0] >= wanted.epochs and config.with_changes(epochs=wanted.epochs) == wanted

def shipped(name: str) -> Path:
    """A file the lesson ships (app/lesson/NAME), e.g. the trained ten-digit network."""
    return LESSON_DIR / name


def problems(step: Step) -> str | None:
    """What is wrong with the values of a step, or None."""
    verb, values = step.verb, step.values
    checks = {
        "preset": lambda: values[0] in PRESETS, "trained": lambda: values[0] in PRESETS,
        "load": lambda: shipped(values[0]).is_file(), "workspace": lambda: values[0] in NAMES,
        "tab": lambda: values[0] in TABS, "layer": lambda: values[0].isdigit(),
        "sample": lambda: values[0] in SPLITS and values[1].isdigit(),
        "step": lambda: values[0] in PHASES and values[1].isdigit(), "misclassified": lambda: True,
        "moment": lambda: values[0] in MOMENTS,
    }
    return None if checks[verb]() else f"{verb} {' '.join(values)}: not a value this step takes"

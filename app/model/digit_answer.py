"""The words of the Your digit panel's answer (Qt-free): what the network reads, whether you say it
is right, and what this network can read at all (a 0-vs-1 network reads every drawing as 0 or 1,
and an untrained one only guesses)."""
from __future__ import annotations

PROMPT = "Draw a digit, or open a picture of one."


def digits_text(classes) -> str:
    """'0 from 1', '0, 1 and 2 apart': what the network tells apart, in words."""
    digits = [str(digit) for digit in classes]
    if len(digits) == 2:
        return f"{digits[0]} from {digits[1]}"
    return f"{', '.join(digits[:-1])} and {digits[-1]} apart"


def network_note(classes, untrained: bool) -> str:
    """What this network can read: '' for a trained network of all ten digits."""
    parts = []
    if list(classes) != list(range(10)):
        parts.append(f"tells {digits_text(classes)} only")
    if untrained:
        parts.append("is untrained: its answer is a guess until Start trains it")
    return f"This network {' and '.join(parts)}." if parts else ""


def prompt(classes, untrained: bool, shown: str | None = None) -> str:
    """The panel before anything is drawn; `shown`: the sample the views show instead ('test image #0')."""
    note = network_note(classes, untrained) if classes else ""
    text = f"The views show {shown} again, the sample chosen before your drawing.<br>{PROMPT}" if shown else PROMPT
    return f"{text}<br>{note}" if note else text


def answer(snapshot, picked: int | None, untrained: bool) -> str:
    """The network's reading of your image (its snapshot), against the digit you picked (None: not yet)."""
    s = snapshot
    p = s.probabilities[list(s.classes).index(s.predicted)]
    kind = "p" if s.outputs_are_probabilities else "output"
    text = f"The network reads <b style='font-size:20pt'>{s.predicted}</b> ({kind} = {p:.2f})"
    if picked is not None:
        text += " ✓" if picked == s.predicted else f" · you say <b>{picked}</b> ✗"
    else:
        text += (" · pick the true digit below to see whether it is right (until then the loss and the "
                 "gradients are against the predicted class)")
    note = network_note(s.classes, untrained)
    return f"{text}<br>{note}" if note else text

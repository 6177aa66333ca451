"""The window's workspaces and the studio model agree: a turn by the user is told to the model, a
turn the model asks for is followed, and the model's answers to the user's own turns never turn the
window back (a quick Train → Inspect → Results stays on Results)."""
from PySide6.QtWidgets import QLabel

from app.model.workspace_names import NAMES
from app.studio.workspaces import Workspaces


def workspaces(qtbot) -> tuple[Workspaces, list]:
    pages = Workspaces()
    qtbot.addWidget(pages)
    for name in NAMES:
        pages.add(name, QLabel(name))
    told = []
    pages.turned.connect(told.append)
    return pages, told


def test_the_users_turns_are_told_and_their_answers_do_not_turn_back(qtbot):
    pages, told = workspaces(qtbot)
    assert pages.current == "train" and told == []                # the first page is no turn
    pages.show_workspace("inspect")
    pages.show_workspace("results")
    assert told == ["inspect", "results"]
    pages.follow("inspect")                                        # the model's answer to the first turn
    assert pages.current == "results"
    pages.follow("results")
    assert pages.current == "results" and pages.said == []


def test_a_turn_the_model_asks_for_is_followed_and_not_told_back(qtbot):
    pages, told = workspaces(qtbot)
    pages.follow("runs")
    assert pages.current == "runs" and told == []
    pages.show_workspace("train")
    pages.follow("your-digit")                                     # asked while the user's turn is on its way
    assert pages.current == "train"
    pages.follow("train")
    pages.follow("your-digit")
    assert pages.current == "your-digit" and told == ["train"]

"""The reason PySide6 is held below 6.12 (pyproject.toml): 6.12.0 drops a reference to None on
signal emissions, and on Python 3.11 the process aborts ("none_dealloc") once None's count runs
out. This watches None's reference count across emissions with the installed PySide6."""
import sys

import pytest
from PySide6.QtCore import QObject, Signal


class Emitter(QObject):
    plain = Signal()
    carrying = Signal(object)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12: its count cannot run out")
def test_signal_emissions_keep_the_reference_count_of_none(qapp):
    emitter, received = Emitter(), [0]

    def count(*_):
        received[0] += 1   # keeps no reference to what it receives
    emitter.plain.connect(count)
    emitter.carrying.connect(count)
    before = sys.getrefcount(None)
    for _ in range(5000):
        emitter.plain.emit()
        emitter.carrying.emit(None)
    after = sys.getrefcount(None)
    assert received[0] == 10000
    assert abs(after - before) < 100, f"None's reference count moved by {after - before} over 10,000 emissions"

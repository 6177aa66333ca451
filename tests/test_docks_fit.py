"""The right-hand docks are usable at 1280×720: their panels scroll down, never cut sideways, and
their tab titles are whole."""
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QTabBar


def test_the_docks_fit_1280_by_720(window, qtbot):
    window.resize(1280, 690)
    docks = (window.your_digit_dock, window.attribution_dock, window.results_dock)
    for dock in docks:
        dock.show()
    for dock in docks:
        dock.raise_()
        QApplication.processEvents()
        area = dock.widget()
        assert area.horizontalScrollBarPolicy() == Qt.ScrollBarAlwaysOff
        qtbot.waitUntil(lambda area=area: area.viewport().width() >= area.widget().minimumSizeHint().width())
    bar = next(bar for bar in window.findChildren(QTabBar) if bar.count() == 3 and bar.tabText(2) == "Results")
    for i in range(bar.count()):
        assert bar.tabRect(i).width() >= bar.fontMetrics().horizontalAdvance(bar.tabText(i)), bar.tabText(i)
    assert [bar.tabText(i) for i in range(3)] == ["Your digit", "Why", "Results"]
    assert window.attribution_dock.toggleViewAction().text() == "Why it decided"
    main = window.tabs.tabBar()     # beside the docks, the main tabs keep their names (not scroll arrows)
    assert main.tabRect(main.count() - 1).right() <= main.width(), (main.width(), window.layer_combo.width())
    for i in range(main.count()):
        assert main.tabRect(i).width() >= main.fontMetrics().horizontalAdvance(main.tabText(i)), main.tabText(i)

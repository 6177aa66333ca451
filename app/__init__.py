"""CNN Studio's window: PySide6 + pyqtgraph views over the `cnn` engine."""

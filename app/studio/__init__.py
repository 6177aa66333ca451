"""The main window, its panels and its views."""

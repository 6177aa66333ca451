"""The studio model, Qt-free: what the studio shows and does (app/model/studio.py). The window and
its views are Qt; the worker thread runs this model through a thin adapter (app/training/worker.py)."""

"""Training on a worker thread: the worker, the snapshots it sends, and the Qt-free bookkeeping."""

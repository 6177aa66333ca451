"""A run's epoch-end files written on a thread of their own, in the order they were handed over.

The training thread copies what a file holds (the weights, the optimizer's state, run.json's text) and
goes on; the writer makes the files. Most of a checkpoint's cost is the kernel's (page allocation,
copying into the page cache, the CRC), which runs without the GIL: on a second core it overlaps with
training. A write that fails ends the writing: later jobs are dropped, and the error is raised to the
calls of submit(), wait() and close() from then on, so the run's files on disk stay those of the last job that
succeeded (each file is replaced atomically, in the order the kill-safety argument of cnn.runs.recorder
needs). At most MOST_PENDING jobs wait: a slow disk holds training back instead of filling memory.
"""
from __future__ import annotations

import queue
import threading
from typing import Callable

MOST_PENDING = 2


class Writes:
    def __init__(self, most_pending: int = MOST_PENDING):
        self._jobs: queue.Queue = queue.Queue(maxsize=most_pending)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable[[], object]) -> None:
        """Run `job` on the writer thread after the jobs before it; raises an earlier job's error first."""
        self.check()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="run files", daemon=True)
            self._thread.start()
        self._jobs.put(job)

    @property
    def pending(self) -> bool:
        """Whether some job handed over has not finished yet."""
        return self._jobs.unfinished_tasks > 0

    def wait(self) -> None:
        """Until every job handed over has finished; raises the error of one that failed."""
        self._jobs.join()
        self.check()

    def close(self) -> None:
        """wait(), and end the thread (submit() starts another)."""
        try:
            self.wait()
        finally:
            if self._thread is not None:
                self._jobs.put(None)
                self._thread.join()
                self._thread = None

    def check(self) -> None:
        """Raises the error of a job that failed."""
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                if self._error is None:
                    job()
            except Exception as error:   # (raised to the training thread, which ends the recording)
                self._error = error
            finally:
                self._jobs.task_done()

"""A background thread that writes the run folder's pictures and curves while training goes on.

Jobs run one at a time, in the order they were submitted. A job that raises is not swallowed: the first error
is re-raised in the training thread by the next :meth:`BackgroundWriter.submit`, :meth:`~BackgroundWriter.join`
or :meth:`~BackgroundWriter.check`. :meth:`~BackgroundWriter.join` waits for every submitted job, so what is
joined at the end of a fit is on disk. No JAX here.

Example:
    >>> writer = BackgroundWriter()
    >>> done = []
    >>> writer.submit(lambda: done.append(1))
    >>> writer.join()
    >>> done
    [1]
    >>> writer.submit(lambda: 1 / 0)
    >>> try:
    ...     writer.join()
    ... except ZeroDivisionError:
    ...     print("raised in the training thread")
    raised in the training thread
    >>> writer.close()
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

__all__ = ["BackgroundWriter"]


class BackgroundWriter:
    """One worker thread (started on the first job) running jobs in order; errors re-raised on the caller's side.

    Args:
        name: The worker thread's name.
    """

    def __init__(self, name: str = "artifex-writer") -> None:
        self.name = name
        self._jobs: queue.Queue[Callable[[], object] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], object]) -> None:
        """Queue ``job`` for the worker (after raising a failure of an earlier job, if any).

        Raises:
            BaseException: The first error of an earlier job, not raised yet.
        """
        self.check()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name=self.name, daemon=True)
            self._thread.start()
        self._jobs.put(job)

    def join(self) -> None:
        """Wait until every submitted job has finished.

        Raises:
            BaseException: The first error of a job, not raised yet.
        """
        self._jobs.join()
        self.check()

    def check(self) -> None:
        """Raise the first error of a finished job (once), if there is one."""
        with self._lock:
            error, self._error = self._error, None
        if error is not None:
            raise error

    def close(self, *, raise_errors: bool = True) -> None:
        """Finish the queued jobs and stop the worker; a later :meth:`submit` starts a new one.

        Args:
            raise_errors: Raise a job's error (False on the way out of a failed run: the first error wins).
        """
        thread = self._thread
        if thread is not None and thread.is_alive():
            self._jobs.put(None)
            thread.join()
        self._thread = None
        if raise_errors:
            self.check()
        else:
            with self._lock:
                self._error = None

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                if job is None:
                    return
                job()
            except BaseException as exc:  # noqa: BLE001 - handed to the training thread
                with self._lock:
                    if self._error is None:
                        self._error = exc
            finally:
                self._jobs.task_done()

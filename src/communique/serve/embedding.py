"""Background embedding for the server: ingest over HTTP answers as soon as the text is stored.

Stored text is searchable by keyword at once; its vectors follow from this worker thread, one chunk per
call: the embedder serves one call at a time and lets a waiting query go before the next passage (embed/e5.py),
so a reader waits for at most one chunk's embedding, and batching buys no throughput with this engine (6.35
chunks/s at batch 1, 4 or 16). Measured on a 28k-chunk store embedding in the background: search p50
280 ms, against 1,480 ms with batches of 8 and no priority for queries. On start it also embeds whatever an
interrupted run left without a vector, so a crash mid-embedding loses nothing.
"""

from __future__ import annotations

import logging
import threading

from communique.service import Communique

log = logging.getLogger("communique.serve")

BATCH = 1  # see the module docstring


class _Stopped(Exception):
    """Raised between two batches to end a run: the server is shutting down and its store will close."""


class EmbedWorker:
    def __init__(self, service: Communique, batch: int = BATCH) -> None:
        self.service, self.batch = service, batch
        self.error: str | None = None
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Embed what is pending, now or right after the current run."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._idle.clear()
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="communique-embed", daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once nothing is left to embed (or the last attempt failed: see `error`)."""
        return self._idle.wait(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """End the worker after the chunk it is embedding, before the store is closed under it (closing a
        SQLite connection that another thread is writing through can crash the process)."""
        with self._lock:
            self._stopping.set()
            self._wake.set()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _check_stop(self, _done: int) -> None:
        if self._stopping.is_set():
            raise _Stopped

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                done = self.service.embed(on_batch=self._check_stop, batch=self.batch)
                self.error = None
                if done:
                    log.info("embedded %d chunks in the background", done)
            except _Stopped:
                break
            except Exception as exc:  # kept for /health; the next ingest tries again
                log.exception("background embedding failed")
                self.error = f"embedding failed: {exc}"
            with self._lock:
                if not self._wake.is_set():
                    self._idle.set()
        self._idle.set()

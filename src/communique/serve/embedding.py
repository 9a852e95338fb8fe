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


class EmbedWorker:
    def __init__(self, service: Communique, batch: int = BATCH) -> None:
        self.service, self.batch = service, batch
        self.error: str | None = None
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Embed what is pending, now or right after the current run."""
        with self._lock:
            self._idle.clear()
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="communique-embed", daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """True once nothing is left to embed (or the last attempt failed: see `error`)."""
        return self._idle.wait(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                done = self.service.embed(batch=self.batch)
                self.error = None
                if done:
                    log.info("embedded %d chunks in the background", done)
            except Exception as exc:  # kept for /health; the next ingest tries again
                log.exception("background embedding failed")
                self.error = f"embedding failed: {exc}"
            with self._lock:
                if not self._wake.is_set():
                    self._idle.set()

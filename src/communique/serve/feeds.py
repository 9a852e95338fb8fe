"""Feed watching for the server: the feeds of `watch_feeds` are polled from one thread while it serves.

Stopping ends a poll in progress after the entry being stored (ingest/watch.py), so the store never closes under
a write; what that poll had left is read again after the restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from communique.ingest.watch import FeedWatcher, PollResult
from communique.service import Communique

log = logging.getLogger("communique.serve")


class FeedPoller:
    def __init__(self, service: Communique, on_change: Callable[[], None] | None = None) -> None:
        """`on_change` runs after a poll that stored something (the server kicks its embedding worker)."""
        self.service, self.on_change = service, on_change
        self.error: str | None = None
        self._watcher: FeedWatcher | None = None
        self._stopping = False
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        with self._lock:
            if self._thread is None and not self._stopping:
                self._thread = threading.Thread(target=self._run, name="communique-feeds", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Stop polling and wait for the thread, before whoever owns the service closes its store."""
        with self._lock:
            self._stopping = True
            watcher, thread = self._watcher, self._thread
        if watcher is not None:
            watcher.stop()
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                log.warning("feed polling did not stop within %.0f s", timeout)

    def _polled(self, result: PollResult) -> None:
        if result.changed and self.on_change:
            self.on_change()

    def _run(self) -> None:
        try:
            watcher = self.service.watcher(embed=False, on_poll=self._polled)
        except Exception as exc:
            log.exception("feed polling cannot start")
            self.error = f"feed polling cannot start: {exc}"
            return
        with self._lock:
            if self._stopping:
                watcher.close()
                return
            self._watcher = watcher
        log.info("polling %d feeds every %s", len(watcher.feeds), self.service.settings.watch_every)
        try:
            watcher.run()
        except Exception as exc:  # poll() turns a feed's failure into a result: this is a bug
            log.exception("feed polling stopped")
            self.error = f"feed polling stopped: {exc}"
        finally:
            watcher.close()

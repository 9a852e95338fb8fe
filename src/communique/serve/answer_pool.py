"""Answers made in worker processes, so that a server uses every core.

One Python process answers on about one core, whatever the machine has: the answer engine is Python and numpy
under one interpreter lock (measured: the server sat at 109% CPU on two cores under 50 clients). Extractive
answers are therefore made by `answer_processes` worker processes, each with its own `Communique` over the same
database: SQLite lets them read while the server writes, and each store tops its vector index up from what
other connections committed. The server process keeps HTTP, search, browsing, ingest and embedding.

A question is checked in the server first (bad input gets its 4xx at once), then sent to the pool; its events
come back together, since an extractive answer is made whole before its first piece is streamed. Answers that a
model writes token by token (the `llama` and `openai` generators) stay in the server process, where they stream,
and so do all answers over the Milvus store.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date

from communique.answer.events import AnswerEvent
from communique.config import Settings
from communique.models import Filters
from communique.service import Communique

log = logging.getLogger("communique.serve")

_WORKER: Communique | None = None  # this worker process's own service


def _start_worker(settings: Settings) -> None:
    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the server stops its workers
    _WORKER = Communique(settings)
    try:
        _WORKER.warm_up()
    except Exception:  # the first question will load what it needs; the server's own warm-up reports errors
        log.exception("answer worker warm-up failed")


def _answer(question: str, history: list[dict], as_of: date | None, filters: Filters | None,
            answerer: str | None) -> list[AnswerEvent]:
    assert _WORKER is not None, "answer worker not started"
    return list(_WORKER.ask_events(question, history, as_of, filters, answerer))


def processes_for(settings: Settings) -> int:
    """How many answer processes a server starts: the setting, or one per core (none on a single core). None
    with the Milvus store: Milvus Lite serves its file to one process only."""
    if settings.store != "sqlite":
        return 0
    if settings.answer_processes is not None:
        return settings.answer_processes
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores > 1 else 0


class AnswerPool:
    """Where a server's answers are made: worker processes for extractive answers, else the server itself."""

    def __init__(self, service: Communique) -> None:
        self.service = service
        self.size = processes_for(service.settings) if service.settings.generator == "extractive" else 0
        self._pool: ProcessPoolExecutor | None = None

    def start(self, timeout_s: float = 300.0) -> None:
        """Start the workers and wait until each has loaded its models (the server's /health waits for this)."""
        if not self.size or self._pool is not None:
            return
        pool = ProcessPoolExecutor(self.size, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_start_worker, initargs=(self.service.settings,))
        ready: set[int] = set()  # a worker takes its first task only once started, so every pid seen is ready
        deadline = time.monotonic() + timeout_s
        try:
            while len(ready) < self.size and time.monotonic() < deadline:
                ready.update(f.result() for f in [pool.submit(os.getpid) for _ in range(self.size)])
                time.sleep(0.05)
        except BrokenProcessPool:  # a worker could not start: the server answers in its own process
            log.exception("answer workers could not start; answering in the server process")
            pool.shutdown(wait=False, cancel_futures=True)
            return
        self._pool = pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def events(self, question: str, history: list[dict] | None, as_of: date | None, filters: Filters | None,
               answerer: str | None = None) -> Iterator[AnswerEvent]:
        """The answer's events, as `Communique.ask_events` gives them; made in a worker where there are any."""
        pool = self._pool
        if pool is None:
            yield from self.service.ask_events(question, history, as_of, filters, answerer)
            return
        self.service.check_ask(question, history, as_of, filters)
        try:
            events = pool.submit(_answer, question, history or [], as_of, filters, answerer).result()
        except BrokenProcessPool:  # a worker died (killed, out of memory): answer here, and start afresh
            log.error("an answer worker died; starting new ones")
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
                threading.Thread(target=self.start, name="communique-answer-pool", daemon=True).start()
            events = list(self.service.ask_events(question, history, as_of, filters, answerer))
        yield from events

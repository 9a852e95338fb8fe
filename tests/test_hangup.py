"""A non-streamed answer whose client hangs up stops being made: the work does not run on for nobody."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass

from communique.serve.streaming import last_answer


@dataclass
class Event:
    kind: str
    data: object = None


class GoneAfter:
    """A stand-in for Starlette's Request (only `is_disconnected` is used): the client is there for the first
    `checks` checks, then gone, as when a reader closes the tab while a model is still writing."""

    def __init__(self, checks: int) -> None:
        self.left = checks

    async def is_disconnected(self) -> bool:
        self.left -= 1
        return self.left < 0


def slow_answer(made: list[int], closed: threading.Event, tokens: int = 200):
    """An answer as a model writes it: a delta per token, then the answer event."""
    try:
        yield Event("sources", [])
        for i in range(tokens):
            time.sleep(0.005)
            made.append(i)
            yield Event("delta", f"t{i} ")
        yield Event("answer", "done")
    finally:
        closed.set()


def test_the_work_stops_when_the_client_hangs_up() -> None:
    made: list[int] = []
    closed = threading.Event()
    answer = asyncio.run(last_answer(slow_answer(made, closed), GoneAfter(checks=5)))
    assert answer is None
    assert closed.wait(2), "the answer's generator was not closed"
    assert len(made) < 20, f"{len(made)} tokens were made after the client left"


def test_a_client_that_stays_gets_the_answer_after_every_event() -> None:
    made: list[int] = []
    closed = threading.Event()
    answer = asyncio.run(last_answer(slow_answer(made, closed, tokens=30), GoneAfter(checks=10_000)))
    assert answer == "done" and len(made) == 30 and closed.is_set()

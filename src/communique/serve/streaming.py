"""Streaming an answer: the library's sync event generator runs in a thread of its own, never on the
event loop, and its events are framed as Server-Sent Events.

SSE frame: `event: <kind>\\ndata: <one line of JSON>\\n\\n`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from communique.errors import CommuniqueError

log = logging.getLogger("communique.serve")

T = TypeVar("T")
_ITEM, _ERROR, _END = "item", "error", "end"

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
STREAM_WORKERS = 32
CLIENT_GONE = 499  # the status logged for an answer whose client hung up before it was done (as nginx does)

_pool: ThreadPoolExecutor | None = None


def _workers() -> ThreadPoolExecutor:
    """Reused threads: the store keeps one SQLite connection per thread, so threads must not be endless."""
    global _pool
    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=STREAM_WORKERS, thread_name_prefix="communique-stream")
    return _pool


async def in_thread(events: Iterator[T]) -> AsyncIterator[T]:
    """Drive a sync generator from one worker thread; yield its items on the event loop.

    One thread for the whole generator (not one hop per item), so thread-bound resources such as
    SQLite connections stay on the thread that opened them. Closing this iterator (the client went
    away) stops the generator after the item it is working on.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stop = threading.Event()

    def put(kind: str, value: Any) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
        except RuntimeError:  # the loop is closed: nobody is listening any more
            stop.set()

    def produce() -> None:
        try:
            for item in events:
                put(_ITEM, item)
                if stop.is_set():
                    break
        except BaseException as exc:  # handed to the consumer, which raises it on the loop
            put(_ERROR, exc)
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    log.exception("closing an event generator failed")
            put(_END, None)

    loop.run_in_executor(_workers(), produce)
    try:
        while True:
            kind, value = await queue.get()
            if kind == _END:
                return
            if kind == _ERROR:
                raise value
            yield value
    finally:
        stop.set()


async def last_answer(events: Iterator[Any], request: Any) -> Any | None:
    """A non-streamed answer, made from its events in a worker thread. Between events it checks that the client
    is still there, and stops the work when it has gone: a model's generation stops at its next token instead of
    running on for nobody. None when the client went away."""
    answer = None
    stream = in_thread(events)
    try:
        async for event in stream:
            if event.kind == "answer":
                answer = event.data
            elif await request.is_disconnected():
                return None
    finally:
        await stream.aclose()
    return answer


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


def error_payload(exc: BaseException) -> dict:
    """The error body for an exception met after the response started (status already sent)."""
    if isinstance(exc, CommuniqueError):
        return {"error": {"code": exc.code, "message": str(exc)}}
    log.error("error while streaming an answer", exc_info=exc)
    return {"error": {"code": "internal_error", "message": "internal server error"}}

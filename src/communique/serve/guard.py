"""What keeps one client, or a crowd, from taking the service down, and the headers every response carries.

- Answers in flight: beyond `max_answers_in_flight` questions being answered at once, a new one waits for a
  slot, first come first served, at most `answer_queue_wait_s`; then (or when `answer_queue_max` already wait)
  503 with `Retry-After`, rather than queueing without end behind work that would make every answer late. A
  short wait turns a burst into a little latency instead of refusals; the bound keeps a crowd from piling up.
- Lighter answers under load: while `lighter_when_waiting` questions or more wait in line, a question is marked
  (`scope[LIGHTER]`, a key of the request's own scope) to be answered by the cheaper first design alone, so a
  crowd drains at about twice the rate instead of waiting out, or being refused, the dearer answer.
- Per-client rate: each client address may ask or search `rate_limit_per_minute` times a minute (a token
  bucket, so short bursts pass); beyond, 429 with `Retry-After`. Loopback is exempt unless
  `rate_limit_loopback` (a reverse proxy on the same machine makes every client loopback: turn it on there).
- Reader keys: when `reader_keys` are set, asking and searching need `Authorization: Bearer <one of them>`
  (the admin key also opens them; an OpenAI client sends its api_key this way); else 401.
- Headers: `X-Content-Type-Options: nosniff` on every response, and `X-Frame-Options: DENY` on every response
  that sets no `Content-Security-Policy` of its own (pages set `frame-ancestors` themselves; the widget's page
  allows the sites that embed it).
"""

from __future__ import annotations

import asyncio
import hmac
import threading
import time
from collections import deque
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from communique.serve.middleware import error_response

ANSWER_PATHS = ("/api/ask", "/v1/chat/completions")
READER_PATHS = (*ANSWER_PATHS, "/api/search")
_LOOPBACK = ("127.", "::1", "localhost")
LIGHTER = "communique.lighter"  # set in a request's scope: answer it by the rules alone


def answerer_for(scope: Scope) -> str | None:
    """The answerer a request marked by the guard is to use (the rules alone), else None: the configured one."""
    return "rules" if scope.get(LIGHTER) else None


@dataclass(eq=False)
class Ticket:
    """A question waiting for a slot: set when a finishing answer hands its slot over."""

    loop: asyncio.AbstractEventLoop
    event: asyncio.Event


@dataclass
class Bucket:
    tokens: float
    at: float


class Guard:
    def __init__(self, app: ASGIApp, max_in_flight: int, per_minute: int, loopback: bool,
                 keys: tuple[str, ...] = (), queue_wait_s: float = 0.0, queue_max: int = 0,
                 lighter_when_waiting: int = 0) -> None:
        self.app = app
        self.lighter_when_waiting = lighter_when_waiting
        self.queue_wait_s = queue_wait_s
        self.queue_max = queue_max
        self.waiting: deque[Ticket] = deque()
        self.keys = tuple(k.encode() for k in keys if k)
        self.max_in_flight = max_in_flight
        self.per_minute = per_minute
        self.loopback = loopback
        self.in_flight = 0
        self.buckets: dict[str, Bucket] = {}
        self.lock = threading.Lock()

    def _allowed(self, client: str) -> float:
        """0 when the client may go on, else the seconds until it may."""
        if self.per_minute <= 0 or (not self.loopback and client.startswith(_LOOPBACK)):
            return 0.0
        now = time.monotonic()
        with self.lock:
            if len(self.buckets) > 100_000:  # forget idle clients rather than grow without end
                self.buckets = {k: b for k, b in self.buckets.items() if now - b.at < 60}
            b = self.buckets.setdefault(client, Bucket(float(self.per_minute), now))
            b.tokens = min(float(self.per_minute), b.tokens + (now - b.at) * self.per_minute / 60)
            b.at = now
            if b.tokens >= 1:
                b.tokens -= 1
                return 0.0
            return (1 - b.tokens) * 60 / self.per_minute

    def _keyed(self, scope: Scope) -> bool:
        header = dict(scope.get("headers", [])).get(b"authorization", b"")
        scheme, _, token = header.partition(b" ")
        return scheme.lower() == b"bearer" and any(hmac.compare_digest(token.strip(), k) for k in self.keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"content-security-policy" not in names and b"x-frame-options" not in names:
                    headers.append((b"x-frame-options", b"DENY"))
                message = {**message, "headers": headers}
            await send(message)

        path, method = scope.get("path", ""), scope.get("method", "")
        if path not in READER_PATHS or (method != "POST" and path != "/api/search"):
            await self.app(scope, receive, send_with_headers)
            return
        if self.keys and not self._keyed(scope):
            response = error_response(401, "unauthorized", "a valid reader key is required: Authorization: Bearer "
                                      "<key>", headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send_with_headers)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self._allowed(client)
        if wait:
            response = error_response(429, "rate_limited", "too many requests: slow down",
                                      headers={"Retry-After": str(max(1, round(wait)))})
            await response(scope, receive, send_with_headers)
            return
        if path not in ANSWER_PATHS:
            await self.app(scope, receive, send_with_headers)
            return
        if not await self._admitted():
            response = error_response(503, "busy", "too many questions are being answered: try again shortly",
                                      headers={"Retry-After": "1"})
            await response(scope, receive, send_with_headers)
            return
        if self.lighter_when_waiting and len(self.waiting) >= self.lighter_when_waiting:
            scope[LIGHTER] = True
        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            self._release()

    async def _admitted(self) -> bool:
        """Take a slot now, or wait in line for one at most `queue_wait_s`; False when none came."""
        with self.lock:
            if self.in_flight < self.max_in_flight:
                self.in_flight += 1
                return True
            if self.max_in_flight <= 0 or self.queue_wait_s <= 0 or len(self.waiting) >= self.queue_max:
                return False
            ticket = Ticket(asyncio.get_running_loop(), asyncio.Event())
            self.waiting.append(ticket)
        try:
            await asyncio.wait_for(ticket.event.wait(), self.queue_wait_s)
        except TimeoutError:
            return self._handed_over(ticket)  # a slot that arrived as the wait ended is this request's
        except BaseException:  # the client left, or the server stops, while waiting
            if self._handed_over(ticket):
                self._release()
            raise
        return True

    def _handed_over(self, ticket: Ticket) -> bool:
        """Leave the line; True when a finishing answer had already handed this ticket its slot."""
        with self.lock:
            if ticket in self.waiting:
                self.waiting.remove(ticket)
                return False
            return True

    def _release(self) -> None:
        """A finished answer hands its slot to the longest waiting question, else frees it."""
        with self.lock:
            if self.waiting:
                ticket = self.waiting.popleft()
                ticket.loop.call_soon_threadsafe(ticket.event.set)
                return
            self.in_flight -= 1

"""Watching feeds: each feed is polled on an interval with a conditional GET and only entries not seen before are
ingested; a feed that fails is polled less and less often until it answers again.

One poll of one feed:

    GET with If-None-Match / If-Modified-Since from its last full fetch
    ├── 304             unchanged: nothing is parsed or stored but the feed's state
    ├── 200, a feed     entries whose (key, version) were seen are skipped; the rest are ingested and remembered
    └── an error        network, HTTP ≥ 400, not a feed: one more failure in a row, and the next poll waits
                        every·2^failures, capped (or what Retry-After asks, if longer); a success resets it

Articles are written before the state that says they were seen: a crash between the two makes the next poll read
those entries again, and the store's de-duplication finds them unchanged. An entry that failed is not remembered
and the feed's validators are dropped, so the next poll fetches the feed in full and tries that entry again. An
entry the feed edits gets a new version and is ingested again: the store updates the article in place.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from communique.durations import format_duration
from communique.errors import BadInput
from communique.ingest import ingest_items
from communique.ingest.feed import parse_feed
from communique.ingest.fetch import Fetcher, FetchError
from communique.ingest.items import FeedEntry, Item
from communique.ingest.notes_cache import NotesCache
from communique.store.base import Store
from communique.store.feeds import FeedState, FeedStates

log = logging.getLogger("communique.watch")

MAX_BACKOFF_S = 6 * 3600.0  # a failing feed is still tried four times a day
MAX_SLEEP_S = 60.0  # `run` wakes at least this often, so a changed clock cannot stall it

Outcome = Literal["fetched", "not-modified", "error"]


def backoff_delay(every_s: float, failures: int, cap_s: float = MAX_BACKOFF_S) -> float:
    """Seconds to the next poll after `failures` failed polls in a row: the interval, doubled per failure, capped
    (a cap below the interval leaves the interval)."""
    return min(every_s * 2 ** min(max(failures, 0), 32), max(cap_s, every_s))


def conditional_headers(state: FeedState) -> dict[str, str]:
    """What makes the server answer 304 when the feed has not changed since its last full fetch."""
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


@dataclass
class PollResult:
    url: str
    outcome: Outcome
    polled_at: float
    next_poll_at: float
    added: int = 0
    updated: int = 0
    unchanged: int = 0  # entries seen before: skipped, or found unchanged by the store
    failed: list[tuple[str, str]] = field(default_factory=list)  # (entry, why) of entries not stored
    error: str | None = None  # why the poll failed
    failures: int = 0  # failed polls in a row, this one included
    embedded: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)

    def summary(self) -> str:
        """One line: what the poll found and when the next one is."""
        wait = f"next poll in {format_duration(self.next_poll_at - self.polled_at)}"
        if self.outcome == "error":
            return f"{self.url}: error: {self.error} ({self.failures} in a row; {wait})"
        if self.outcome == "not-modified":
            return f"{self.url}: not modified; {wait}"
        embedded = f", {self.embedded} chunks embedded" if self.embedded else ""
        return (f"{self.url}: {self.added} new, {self.updated} updated, {self.unchanged} unchanged, "
                f"{len(self.failed)} failed{embedded}; {wait}")


class _Stopped(Exception):
    """Raised between two entries to end a poll: the watcher was stopped and its store may close."""


class FeedWatcher:
    """Polls feeds into a store: `poll_all` polls each once; `run` polls each when due until `stop`.

    It owns `states` and `fetcher` and closes them in `close`. `on_poll` sees every poll's result.
    """

    def __init__(
        self,
        feeds: list[str],
        store: Store,
        states: FeedStates,
        fetcher: Fetcher,
        every_s: float,
        *,
        chunk_tokens: int = 180,
        concurrency: int = 8,
        max_backoff_s: float = MAX_BACKOFF_S,
        clock: Callable[[], float] = time.time,
        on_poll: Callable[[PollResult], None] | None = None,
        notes: NotesCache | None = None,
    ) -> None:
        if not feeds:
            raise BadInput("name at least one feed URL to watch")
        for url in feeds:
            if not url.startswith(("http://", "https://")):
                raise BadInput(f"a watched feed is an http(s) URL, not {url!r}")
        if every_s <= 0:
            raise BadInput("the interval between polls must be positive")
        self.feeds = list(dict.fromkeys(feeds))
        self.store, self.states, self.fetcher = store, states, fetcher
        self.every_s, self.max_backoff_s = every_s, max_backoff_s
        self.chunk_tokens, self.concurrency = chunk_tokens, concurrency
        self.clock, self.on_poll, self.notes = clock, on_poll, notes
        self._stop = threading.Event()
        now = clock()
        self._states: dict[str, FeedState] = {}
        for url in self.feeds:
            state = states.load(url)
            # A schedule stored under a longer interval gives way to this one at once.
            state.next_poll_at = min(state.next_poll_at, now + backoff_delay(every_s, state.failures, max_backoff_s))
            self._states[url] = state

    # -- scheduling ------------------------------------------------------------------------------------
    def state(self, url: str) -> FeedState:
        return self._states[url]

    def due(self) -> list[str]:
        """The feeds whose next poll time has come, the longest overdue first."""
        now = self.clock()
        return sorted((u for u, s in self._states.items() if s.next_poll_at <= now),
                      key=lambda u: self._states[u].next_poll_at)

    def poll_all(self) -> list[PollResult]:
        """Poll every feed once, due or not (`communique watch --once`, for cron)."""
        return [self.poll(url) for url in self.feeds]

    def run(self) -> None:
        """Poll each feed when it is due until `stop` is called (from another thread, or a signal handler)."""
        while not self._stop.is_set():
            for url in self.due():
                if self._stop.is_set():
                    return
                try:
                    self.poll(url)
                except _Stopped:
                    return
            next_at = min(s.next_poll_at for s in self._states.values())
            self._stop.wait(min(max(0.0, next_at - self.clock()), MAX_SLEEP_S))

    def stop(self) -> None:
        """End `run` after the entry being stored; the rest of that poll is done again next time."""
        self._stop.set()

    def close(self) -> None:
        self.fetcher.close()
        self.states.close()

    # -- one poll --------------------------------------------------------------------------------------
    def poll(self, url: str) -> PollResult:
        """Poll one feed now, store what is new, save its state; a failure is a result, never an exception."""
        state = self._states[url]
        now = self.clock()
        try:
            result = self._poll(state, now)
        except _Stopped:
            raise
        except FetchError as exc:
            result = self._failed(state, now, str(exc), exc.retry_after_s)
        except Exception as exc:  # a bug or a full disk must not end the watching of the other feeds
            log.exception("polling %s failed", url)
            result = self._failed(state, now, f"{exc.__class__.__name__}: {exc}")
        for origin, error in result.failed:
            log.warning("%s: entry not stored: %s", origin, error)
        log.log(logging.WARNING if result.outcome == "error" else logging.INFO, "%s", result.summary())
        if self.on_poll:
            self.on_poll(result)
        return result

    def _poll(self, state: FeedState, now: float) -> PollResult:
        page = self.fetcher.get(state.url, conditional_headers(state))
        if page.status == 304:
            self._succeeded(state, now)
            self.states.save(state)
            return PollResult(state.url, "not-modified", now, state.next_poll_at)
        seen = self.states.seen(state.url)
        listed: dict[str, str] = {}  # every entry the feed lists now
        ingested: dict[str, str] = {}
        skipped = 0

        def fresh(entry: FeedEntry) -> bool:
            nonlocal skipped
            listed[entry.key] = entry.version
            if seen.get(entry.key) == entry.version:
                skipped += 1
                return False
            return True

        def stored(item: Item, outcome: str) -> None:
            if outcome != "failed" and item.entry is not None:
                ingested[item.entry.key] = item.entry.version
            if self._stop.is_set():
                raise _Stopped

        items = parse_feed(page.content, state.url, self.fetcher, self.concurrency, fresh=fresh)
        report = ingest_items(items, self.store, self.chunk_tokens, on_item=stored, notes=self.notes)
        unreadable = [error for origin, error in report.failed if origin == state.url]
        if unreadable:  # not a feed at all
            return self._failed(state, now, unreadable[0])
        self._succeeded(state, now)
        if report.failed:  # no 304 next time: the entries that failed are tried again
            state.etag = state.last_modified = None
        else:
            state.etag, state.last_modified = page.etag, page.last_modified
        remembered = {key: seen[key] for key in listed if key in seen} | ingested  # entries gone from the feed go
        self.states.save(state, remembered)
        return PollResult(state.url, "fetched", now, state.next_poll_at, added=len(report.added),
                          updated=len(report.updated), unchanged=skipped + len(report.unchanged),
                          failed=report.failed)

    def _succeeded(self, state: FeedState, now: float) -> None:
        state.failures, state.last_error = 0, None
        state.last_success_at, state.next_poll_at = now, now + self.every_s

    def _failed(self, state: FeedState, now: float, error: str, retry_after_s: float | None = None) -> PollResult:
        state.failures += 1
        state.last_error = error
        delay = backoff_delay(self.every_s, state.failures, self.max_backoff_s)
        if retry_after_s:
            delay = max(delay, min(retry_after_s, self.max_backoff_s))
        state.next_poll_at = now + delay
        self.states.save(state)
        return PollResult(state.url, "error", now, state.next_poll_at, error=error, failures=state.failures)

"""Watching feeds: conditional GET, only new entries ingested, backoff on errors, state that survives restarts.

Feeds are served by a real HTTP server on 127.0.0.1 whose answers change between polls; it records every request,
so a test can see what the watcher sent. Ingest is keyword-only (no embedding), as in the other reader tests.
"""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

import communique
from builders import STORIES, article_page, html_paragraphs, rss
from communique.config import Settings
from communique.durations import format_duration, parse_duration
from communique.errors import BadInput
from communique.ingest.fetch import Fetcher
from communique.ingest.watch import MAX_BACKOFF_S, FeedWatcher, backoff_delay
from communique.serve import create_app
from communique.service import Communique
from communique.store.feeds import FeedState, FeedStates

ROOT = Path(__file__).resolve().parents[1]


# -- a feed server whose answers the test changes ------------------------------------------------------------
@dataclass
class Resource:
    body: bytes
    content_type: str = "application/rss+xml"
    status: int = 200  # anything else: an error page with this status
    etag: bool = True  # send an ETag and honour If-None-Match
    last_modified: str | None = None  # send it and honour If-Modified-Since
    requests: list[dict[str, str]] = field(default_factory=list)  # the headers of every GET, lower-cased names

    @property
    def etag_value(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:12] + '"'


class FeedServer:
    def __init__(self, base: str) -> None:
        self.base = base
        self.resources: dict[str, Resource] = {}

    def publish(self, path: str, body: str, **options) -> str:
        """Serve `body` at `path` from now on (keeping the request log); returns its URL."""
        old = self.resources.get(path)
        self.resources[path] = Resource(body.encode("utf-8"), **options)
        if old is not None:
            self.resources[path].requests = old.requests
        return f"{self.base}{path}"

    def requests(self, path: str) -> list[dict[str, str]]:
        return self.resources[path].requests


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            res = server.resources.get(self.path)
            if res is None:
                self._send(404, b"not found", {})
                return
            res.requests.append({k.lower(): v for k, v in self.headers.items()})
            if res.status != 200:
                self._send(res.status, b"the feed is down", {})
                return
            headers = {"Content-Type": res.content_type}
            if res.etag:
                headers["ETag"] = res.etag_value
            if res.last_modified:
                headers["Last-Modified"] = res.last_modified
            if (res.etag and self.headers.get("If-None-Match") == res.etag_value) or (
                res.last_modified and self.headers.get("If-Modified-Since") == res.last_modified
            ):
                self._send(304, b"", headers)
            else:
                self._send(200, res.body, headers)

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:
            pass

    return Handler


@pytest.fixture
def feeds() -> Iterator[FeedServer]:
    state = FeedServer("")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, name="test-feeds", daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def entry(n: int, edition: int = 1) -> dict:
    """Feed entry number n, with its full text (no page to fetch); another edition has other text."""
    story = STORIES[n % len(STORIES)]
    text = html_paragraphs(story).replace("<p>", f"<p>Report {n}, edition {edition}. ", 1)
    return {"title": f"{story.title} ({n})", "link": f"https://wire.example/{n}",
            "pubDate": f"Mon, 0{1 + n % 9} Nov 2026 08:00:00 GMT", "content": text}


def feed(*entries: dict) -> str:
    return rss("Test Wire", list(entries))


@pytest.fixture
def watch(make_service) -> Iterator[Callable[..., FeedWatcher]]:
    """watch(*urls, every="30m", service=None) -> a keyword-only watcher on a fresh (or the given) service."""
    made: list[FeedWatcher] = []

    def make(*urls: str, every: str = "30m", service: Communique | None = None) -> FeedWatcher:
        watcher = (service or make_service()).watcher(list(urls), every, embed=False)
        made.append(watcher)
        return watcher

    yield make
    for watcher in made:
        watcher.close()


def articles(watcher: FeedWatcher) -> int:
    return watcher.store.stats().articles


# -- pure parts ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "seconds"), [("30s", 30), ("5m", 300), ("30m", 1800), ("2h", 7200),
                                               ("1d", 86400), (" 2H ", 7200), ("0.5s", 0.5)])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["30", "5x", "m", "", "-5m", "0s", "1h30"])
def test_parse_duration_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(BadInput, match="like 30s, 5m"):
        parse_duration(text)


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (0.25, "0.2s"), (45, "45s"), (90, "1m30s"), (1800, "30m"),
                                               (5400, "1h30m"), (7200, "2h"), (90061, "1d1h")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_backoff_doubles_per_failure_up_to_the_cap() -> None:
    delays = [backoff_delay(60, n, cap_s=900) for n in range(7)]
    assert delays == [60, 120, 240, 480, 900, 900, 900]
    assert backoff_delay(3600, 1000) == MAX_BACKOFF_S  # no overflow however long a feed has been failing
    assert backoff_delay(7200, 3, cap_s=600) == 7200  # a cap below the interval never polls more often


# -- polling ---------------------------------------------------------------------------------------------------
def test_first_poll_ingests_every_entry(feeds: FeedServer, watch) -> None:
    url = feeds.publish("/feed.xml", feed(entry(1), entry(2), entry(3)))
    watcher = watch(url)
    result = watcher.poll(url)
    assert (result.outcome, result.added, result.updated, result.unchanged, result.failed) == ("fetched", 3, 0, 0, [])
    assert articles(watcher) == 3
    first = feeds.requests("/feed.xml")[0]
    assert "if-none-match" not in first and "if-modified-since" not in first
    assert watcher.state(url).etag == feeds.resources["/feed.xml"].etag_value
    assert result.next_poll_at - result.polled_at == 1800
    assert "3 new, 0 updated, 0 unchanged, 0 failed" in result.summary()


def test_an_unchanged_feed_answers_304_and_nothing_is_ingested(feeds: FeedServer, watch) -> None:
    url = feeds.publish("/feed.xml", feed(entry(1), entry(2), entry(3)))
    watcher = watch(url)
    watcher.poll(url)
    result = watcher.poll(url)
    sent = feeds.requests("/feed.xml")[1]
    assert sent["if-none-match"] == feeds.resources["/feed.xml"].etag_value
    assert (result.outcome, result.added, result.updated) == ("not-modified", 0, 0)
    assert articles(watcher) == 3
    assert "not modified" in result.summary()


def test_last_modified_is_sent_back_as_if_modified_since(feeds: FeedServer, watch) -> None:
    stamp = "Mon, 02 Nov 2026 08:00:00 GMT"
    url = feeds.publish("/feed.xml", feed(entry(1)), etag=False, last_modified=stamp)
    watcher = watch(url)
    assert watcher.poll(url).added == 1
    result = watcher.poll(url)
    sent = feeds.requests("/feed.xml")[1]
    assert sent["if-modified-since"] == stamp and "if-none-match" not in sent
    assert result.outcome == "not-modified"


def test_a_changed_feed_with_one_new_entry_ingests_exactly_one(feeds: FeedServer, watch) -> None:
    url = feeds.publish("/feed.xml", feed(entry(1), entry(2), entry(3)))
    watcher = watch(url)
    watcher.poll(url)
    feeds.publish("/feed.xml", feed(entry(4), entry(1), entry(2), entry(3)))
    result = watcher.poll(url)
    assert (result.outcome, result.added, result.updated, result.unchanged) == ("fetched", 1, 0, 3)
    assert articles(watcher) == 4
    assert feeds.requests("/feed.xml")[1]["if-none-match"]  # it asked conditionally; the feed had changed


def test_an_edited_entry_updates_its_article_in_place(feeds: FeedServer, watch) -> None:
    url = feeds.publish("/feed.xml", feed(entry(1), entry(2), entry(3)))
    watcher = watch(url)
    watcher.poll(url)
    feeds.publish("/feed.xml", feed(entry(1), entry(2, edition=2), entry(3)))
    result = watcher.poll(url)
    assert (result.added, result.updated, result.unchanged) == (0, 1, 2)
    assert articles(watcher) == 3
    texts = [a.text for a in watcher.store.list_articles(query="Report 2", page_size=10).articles]
    assert len(texts) == 1 and "edition 2" in texts[0]


def test_a_server_without_validators_gets_entries_skipped_not_fetched_again(feeds: FeedServer, watch) -> None:
    """No ETag, no Last-Modified: every poll is a full 200, and a seen entry is neither fetched nor stored again."""
    pages = [feeds.publish(f"/story/{i}.html", article_page(s), content_type="text/html", etag=False)
             for i, s in enumerate(STORIES)]
    summaries = [{"title": s.title, "link": page, "description": s.paragraphs[0][:120]}
                 for s, page in zip(STORIES, pages, strict=True)]
    url = feeds.publish("/summaries.xml", feed(*summaries), etag=False)
    watcher = watch(url)
    assert watcher.poll(url).added == 3
    result = watcher.poll(url)
    assert (result.outcome, result.added, result.updated, result.unchanged) == ("fetched", 0, 0, 3)
    assert articles(watcher) == 3
    assert [len(feeds.requests(f"/story/{i}.html")) for i in range(3)] == [1, 1, 1]
    assert len(feeds.requests("/summaries.xml")) == 2


def test_an_entry_that_failed_is_tried_again_and_the_feed_is_not_asked_for_a_304(feeds: FeedServer, watch) -> None:
    missing = f"{feeds.base}/story/late.html"
    url = feeds.publish("/feed.xml", feed(entry(1), {"title": STORIES[1].title, "link": missing}))
    watcher = watch(url)
    first = watcher.poll(url)
    assert (first.added, len(first.failed)) == (1, 1) and "404" in first.failed[0][1]
    assert watcher.state(url).etag is None  # a 304 next time would hide the entry that failed
    feeds.publish("/story/late.html", article_page(STORIES[1]), content_type="text/html")
    second = watcher.poll(url)
    assert "if-none-match" not in feeds.requests("/feed.xml")[1]
    assert (second.added, second.unchanged, second.failed) == (1, 1, [])
    third = watcher.poll(url)
    assert third.outcome == "not-modified" and articles(watcher) == 2


def test_a_failing_server_backs_the_watcher_off_and_it_recovers(feeds: FeedServer, make_service, tmp_path) -> None:
    now = [1_000_000.0]
    svc = make_service()
    url = feeds.publish("/feed.xml", feed(entry(1), entry(2)), status=500)
    watcher = FeedWatcher([url], svc.store, FeedStates(svc.settings.db), Fetcher(5.0), 60.0, max_backoff_s=400,
                          clock=lambda: now[0])
    try:
        waits = []
        for _ in range(4):
            result = watcher.poll(url)
            assert result.outcome == "error" and "HTTP 500" in result.error
            waits.append(result.next_poll_at - now[0])
        assert waits == [120, 240, 400, 400]  # doubled per failure, then capped
        assert watcher.state(url).failures == 4 and "HTTP 500" in watcher.state(url).last_error
        now[0] += 399
        assert watcher.due() == []  # backing off: not polled before its time
        now[0] += 1
        assert watcher.due() == [url]
        feeds.publish("/feed.xml", feed(entry(1), entry(2)))  # the server is back
        result = watcher.poll(url)
        assert (result.outcome, result.added) == ("fetched", 2)
        assert result.next_poll_at - now[0] == 60  # the interval again
        assert (watcher.state(url).failures, watcher.state(url).last_error) == (0, None)
        assert watcher.state(url).last_success_at == now[0]
    finally:
        watcher.close()


def test_retry_after_is_honoured_up_to_the_cap(feeds: FeedServer, make_service) -> None:
    class Throttled(Fetcher):
        def get(self, url, headers=None):
            from communique.ingest.fetch import FetchError

            raise FetchError(f"HTTP 429 for {url}", retry_after_s=3000)

    svc = make_service()
    watcher = FeedWatcher([f"{feeds.base}/x.xml"], svc.store, FeedStates(svc.settings.db), Throttled(), 60.0,
                          max_backoff_s=1000)
    try:
        result = watcher.poll(f"{feeds.base}/x.xml")
        assert result.next_poll_at - result.polled_at == 1000
    finally:
        watcher.close()


def test_a_page_that_is_not_a_feed_is_an_error(feeds: FeedServer, watch) -> None:
    url = feeds.publish("/page.html", "<html><body><p>Sign in</p></body></html>", content_type="text/html")
    watcher = watch(url)
    result = watcher.poll(url)
    assert result.outcome == "error" and "not a readable feed" in result.error
    assert watcher.state(url).failures == 1 and articles(watcher) == 0


def test_an_empty_feed_is_no_error_when_watching(feeds: FeedServer, watch) -> None:
    url = feeds.publish("/feed.xml", feed())
    watcher = watch(url)
    result = watcher.poll(url)
    assert (result.outcome, result.added, result.failed, watcher.state(url).failures) == ("fetched", 0, [], 0)


# -- state that survives ---------------------------------------------------------------------------------------
def test_state_survives_reopening_the_database(feeds: FeedServer, make_service, watch) -> None:
    url = feeds.publish("/feed.xml", feed(entry(1), entry(2)))
    down = feeds.publish("/down.xml", feed(entry(3)), status=503)
    first = make_service("news")
    watcher = watch(url, down, service=first)
    watcher.poll_all()
    down_state = watcher.state(down)
    watcher.close()
    first.close()

    again = watch(url, down, service=make_service("news"))  # the same file, a new service and watcher
    assert again.state(url).etag == feeds.resources["/feed.xml"].etag_value
    assert (again.state(down).failures, again.state(down).next_poll_at) == (1, down_state.next_poll_at)
    assert again.due() == []  # nothing is due after a restart that the first watcher had not made due
    result = again.poll(url)
    assert feeds.requests("/feed.xml")[1]["if-none-match"] == feeds.resources["/feed.xml"].etag_value
    assert result.outcome == "not-modified" and articles(again) == 2


def test_a_shorter_interval_takes_effect_after_a_restart(feeds: FeedServer, make_service, watch) -> None:
    url = feeds.publish("/feed.xml", feed(entry(1)))
    watcher = watch(url, every="2h", service=make_service("news"))
    watcher.poll(url)
    watcher.close()
    again = watch(url, every="5m", service=make_service("news"))
    assert again.state(url).next_poll_at - time.time() <= 300


def test_feed_state_is_written_in_one_transaction(tmp_path: Path) -> None:
    states = FeedStates(tmp_path / "state.db")
    try:
        states.save(FeedState("https://wire.example/feed", etag='"a"', failures=0), {"k1": "v1", "k2": "v2"})
        with pytest.raises(sqlite3.Error):  # the second entry cannot be stored: nothing of this save is kept
            states.save(FeedState("https://wire.example/feed", etag='"b"', failures=3), {"k3": "v3", "k4": object()})
        assert states.load("https://wire.example/feed").etag == '"a"'
        assert states.load("https://wire.example/feed").failures == 0
        assert states.seen("https://wire.example/feed") == {"k1": "v1", "k2": "v2"}
        assert states.load("https://other.example/feed") == FeedState("https://other.example/feed")
    finally:
        states.close()


# -- running ---------------------------------------------------------------------------------------------------
def test_run_polls_when_due_and_stops_promptly(feeds: FeedServer, watch) -> None:
    url = feeds.publish("/feed.xml", feed(entry(1)))
    seen: list[str] = []
    watcher = watch(url, every="0.3s")
    watcher.on_poll = lambda result: seen.append(result.outcome)
    thread = threading.Thread(target=watcher.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while len(seen) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    watcher.stop()
    thread.join(5)
    assert not thread.is_alive()
    assert seen[:3] == ["fetched", "not-modified", "not-modified"]
    assert articles(watcher) == 1


def test_the_server_polls_its_configured_feeds_and_stops_on_shutdown(feeds: FeedServer, make_service) -> None:
    url = feeds.publish("/feed.xml", feed(entry(1), entry(2)))
    svc = make_service(watch_feeds=[url], watch_every="1h")
    app = create_app(svc, warm_up=False)
    with TestClient(app):
        deadline = time.monotonic() + 30
        while svc.stats().articles < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert svc.stats().articles == 2
        assert app.state.feed_poller.running
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 5 and not app.state.feed_poller.running
    assert len(feeds.requests("/feed.xml")) == 1  # polled once: the next poll is an hour away


def test_a_server_without_feeds_starts_no_poller(make_service) -> None:
    app = create_app(make_service(), warm_up=False)
    with TestClient(app):
        assert not app.state.feed_poller.running


# -- settings and the command line -----------------------------------------------------------------------------
def test_watch_settings_are_checked_and_documented(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="like 30s, 5m"):
        Settings(watch_every="soon")
    with pytest.raises(ValidationError, match="http"):
        Settings(watch_feeds=["ftp://wire.example/feed"])
    monkeypatch.setenv("COMMUNIQUE_WATCH_FEEDS", '["https://wire.example/feed.xml"]')
    monkeypatch.setenv("COMMUNIQUE_WATCH_EVERY", "2h")
    settings = Settings()
    assert (settings.watch_feeds, settings.watch_every) == (["https://wire.example/feed.xml"], "2h")
    reference = (ROOT / "docs" / "configuration.md").read_text("utf-8")
    for name in ("watch_feeds", "watch_every"):
        assert f"`COMMUNIQUE_{name.upper()}`" in reference


def test_a_watcher_needs_feed_urls(make_service) -> None:
    with pytest.raises(BadInput, match="watch_feeds"):
        make_service().watcher([], "5m")
    with pytest.raises(BadInput, match="http"):
        make_service().watcher(["feed.xml"], "5m")


def _cli_command(*args: str | Path) -> tuple[list[str], dict[str, str]]:
    src = str(Path(communique.__file__).resolve().parents[1])  # this tree's package, not an installed one
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""), "COLUMNS": "200",
           "PYTHONUNBUFFERED": "1"}
    return [sys.executable, "-m", "communique.cli", *map(str, args)], env


def _cli(*args: str | Path) -> subprocess.CompletedProcess:
    command, env = _cli_command(*args)
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)


def test_cli_watch_once_end_to_end(feeds: FeedServer, tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    url = feeds.publish("/feed.xml", feed(entry(1), entry(2), entry(3)))
    down = feeds.publish("/down.xml", feed(entry(4)), status=500)

    first = _cli("--db", db, "watch", url, "--once", "--no-embed")
    assert first.returncode == 0, first.stderr
    assert f"{url}: 3 new, 0 updated, 0 unchanged, 0 failed; next poll in 30m" in first.stdout

    second = _cli("--db", db, "watch", url, down, "--once", "--no-embed", "--every", "5m")  # a new process
    assert second.returncode == 1, second.stderr  # one of the feeds failed
    lines = second.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(f"{url}: not modified; next poll in 5m")
    assert f"{down}: error: HTTP 500 for {down} (1 in a row; next poll in 10m)" in lines[1]
    assert feeds.requests("/feed.xml")[1]["if-none-match"] == feeds.resources["/feed.xml"].etag_value
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] == 3


def test_cli_watch_refuses_a_bad_interval(tmp_path: Path) -> None:
    run = _cli("--db", tmp_path / "cli.db", "watch", "https://wire.example/feed.xml", "--every", "soon", "--once")
    assert run.returncode == 2
    assert "like 30s, 5m, 30m or 2h" in run.stderr and "Traceback" not in run.stderr


def test_cli_watch_polls_until_interrupted(feeds: FeedServer, tmp_path: Path) -> None:
    url = feeds.publish("/feed.xml", feed(entry(1)))
    command, env = _cli_command("--db", tmp_path / "cli.db", "watch", url, "--every", "0.3s", "--no-embed")
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    try:
        while len(lines) < 3:  # the banner, the first poll, then a conditional one
            line = proc.stdout.readline()
            assert line, f"the watcher ended early: {proc.stderr.read()}"
            lines.append(line.strip())
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert lines[0] == "watching 1 feed, every 0.3s; Ctrl-C stops"
    assert lines[1].endswith(f"{url}: 1 new, 0 updated, 0 unchanged, 0 failed; next poll in 0.3s")
    assert lines[2].endswith(f"{url}: not modified; next poll in 0.3s")
    assert proc.returncode == 130 and "Traceback" not in err

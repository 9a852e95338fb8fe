"""End to end: `communique --db ... serve --port N` as a real process on 127.0.0.1, spoken to over real
sockets by httpx and by the official `openai` client."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator

import httpx
import pytest
from openai import OpenAI

from conftest_serve import ServerProcess, copy_sample_db, sample_questions

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(_sample_build, tmp_path_factory) -> Iterator[ServerProcess]:
    db = copy_sample_db(_sample_build, tmp_path_factory, "e2e")
    # as a server runs by default: its extractive answers made by a worker process (one, to spare CI's cores)
    proc = ServerProcess(db, db.with_name("server.log"), {"COMMUNIQUE_ANSWER_PROCESSES": "1"}).start()
    yield proc
    code = proc.stop()
    # uvicorn shuts down gracefully on SIGTERM, then re-raises the signal: -15 (or 0 on older versions)
    assert code in (0, -signal.SIGTERM), f"server exited with {code}:\n{proc.log()}"
    assert "Application shutdown complete" in proc.log()


@pytest.fixture(scope="module")
def fact() -> dict:
    return next(q for q in sample_questions("fact") if q["id"] == "s01")  # the Valletta Accord threshold


@pytest.fixture(scope="module")
def openai_client(server: ServerProcess) -> Iterator[OpenAI]:
    client = OpenAI(base_url=f"{server.base}/v1", api_key="x", max_retries=0, timeout=60)
    yield client
    client.close()


def test_health_over_the_wire(server: ServerProcess) -> None:
    r = httpx.get(f"{server.base}/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["articles"] == 30


def test_ask_json(server: ServerProcess, fact: dict) -> None:
    r = httpx.post(f"{server.base}/api/ask", json={"question": fact["question"]}, timeout=60)
    assert r.status_code == 200, r.text
    body = r.json()
    assert not body["refused"] and body["citations"]
    assert any(alt in body["answer"] for alt in fact["expect"][0])


def test_ask_streams_events_over_the_socket(server: ServerProcess, fact: dict) -> None:
    kinds, final = [], None
    with httpx.stream("POST", f"{server.base}/api/ask", json={"question": fact["question"]},
                      headers={"Accept": "text/event-stream"}, timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
                kinds.append(event)
            elif line.startswith("data: ") and event == "answer":
                final = json.loads(line.removeprefix("data: "))
    assert kinds[0] == "sources" and kinds[-1] == "answer" and "delta" in kinds
    assert final and final["citations"]


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid`, from /proc."""
    from pathlib import Path

    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _cpu_ticks(pid: int) -> int:
    from pathlib import Path

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_answers_are_made_by_a_worker_process_and_match_the_library(server: ServerProcess, _sample_build) -> None:
    """The server's answers come from its answer process (a child of the server, working on a core of its own)
    and are word for word the library's answers in this process, for every kind of sample question."""
    from pathlib import Path

    from communique.config import Settings
    from communique.service import Communique

    workers = [p for p in _children(server.proc.pid)
               if b"spawn_main" in Path(f"/proc/{p}/cmdline").read_bytes()]  # not its resource tracker
    assert len(workers) == 1
    before = _cpu_ticks(workers[0])
    kinds = ("fact", "list", "unanswerable", "multilingual", "conflict")
    questions = [q for kind in kinds for q in sample_questions(kind)[:3] if not q.get("history")]
    assert len(questions) >= 8
    library = Communique(Settings(db=_sample_build[0], answer_processes=0))
    try:
        for q in questions:
            r = httpx.post(f"{server.base}/api/ask", json={"question": q["question"]}, timeout=60)
            assert r.status_code == 200, r.text
            assert r.json()["answer"] == library.ask(q["question"]).answer, q["id"]
    finally:
        library.close()
    assert _cpu_ticks(workers[0]) > before  # the worker did the answering


def test_errors_over_the_wire(server: ServerProcess) -> None:
    r = httpx.get(f"{server.base}/no/such/route")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = httpx.post(f"{server.base}/api/ask", content=b"{", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_input"
    r = httpx.post(f"{server.base}/api/ingest", json={"articles": []})
    assert r.status_code == 403  # no admin key configured for this server


def test_openai_client_models(openai_client: OpenAI) -> None:
    assert [m.id for m in openai_client.models.list()] == ["communique"]


def test_openai_client_non_stream(openai_client: OpenAI, fact: dict) -> None:
    completion = openai_client.chat.completions.create(
        model="communique", messages=[{"role": "user", "content": fact["question"]}])
    content = completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert "\n\nSources:\n[1] " in content
    extra = completion.model_extra["communique"]
    assert extra["refused"] is False and extra["citations"]
    assert content.startswith(extra["answer"])


def test_openai_client_stream(openai_client: OpenAI, fact: dict) -> None:
    stream = openai_client.chat.completions.create(
        model="communique", stream=True, messages=[{"role": "user", "content": fact["question"]}])
    pieces, finish, extra = [], None, None
    for chunk in stream:
        choice = chunk.choices[0]
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish, extra = choice.finish_reason, (chunk.model_extra or {}).get("communique")
    text = "".join(pieces)
    assert finish == "stop" and extra and extra["citations"]
    assert "\n\nSources:\n[1] " in text
    assert any(alt in text for alt in fact["expect"][0])


def test_openai_client_follow_up(openai_client: OpenAI, fact: dict) -> None:
    first = openai_client.chat.completions.create(
        model="communique", messages=[{"role": "user", "content": fact["question"]}])
    follow = openai_client.chat.completions.create(model="communique", messages=[
        {"role": "user", "content": fact["question"]},
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "Which countries ratified it first?"}])
    assert follow.choices[0].message.content


def test_metrics_count_the_requests(server: ServerProcess) -> None:
    text = httpx.get(f"{server.base}/metrics").text
    assert 'communique_http_requests_total{method="POST",route="/v1/chat/completions",status="200"}' in text
    assert "communique_answers_total" in text and "communique_index_chunks" in text


def test_openai_client_usage_and_max_tokens(openai_client: OpenAI, fact: dict) -> None:
    full = openai_client.chat.completions.create(model="communique",
                                                 messages=[{"role": "user", "content": fact["question"]}])
    assert full.usage.prompt_tokens > 0 and full.usage.completion_tokens > 0
    assert full.usage.total_tokens == full.usage.prompt_tokens + full.usage.completion_tokens
    short = openai_client.chat.completions.create(model="communique", max_tokens=5,
                                                  messages=[{"role": "user", "content": fact["question"]}])
    assert short.choices[0].finish_reason == "length"
    assert len(short.choices[0].message.content.split()) <= 5 and short.usage.completion_tokens <= 5
    chunks = list(openai_client.chat.completions.create(
        model="communique", stream=True, stream_options={"include_usage": True}, max_tokens=5,
        messages=[{"role": "user", "content": fact["question"]}]))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text.split()) <= 5
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens <= 5


def test_openai_client_refusals_are_protocol_errors(openai_client: OpenAI) -> None:
    import openai

    with pytest.raises(openai.BadRequestError) as bad:
        openai_client.chat.completions.create(model="communique", n=2, messages=[{"role": "user", "content": "Hi?"}])
    assert bad.value.body["param"] == "n" and bad.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError) as missing:
        openai_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi?"}])
    assert missing.value.body["param"] == "model" and missing.value.body["code"] == "not_found"

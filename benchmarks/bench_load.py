"""Mixed load on a real `communique serve`: many clients asking, streaming, searching, browsing and talking to
/v1 at once while articles are ingested through the API.

Starts the server on 127.0.0.1 over the in-repo sample digests, runs `--clients` threads for `--seconds`, and
prints per endpoint: requests, p50/p95/p99 latency, and responses by status (503s are the in-flight cap at
work once a question has waited its turn, 429s the rate limit; by default a client told to wait by Retry-After
waits and tries again, up to 3 times, as the chat page and the openai client do, and its latency counts the
wait; `--no-honour` sends the next request at once instead); then throughput; the server's RSS and open file
handles at start, after the warm-up (`--warmup` seconds into the load) and at the end; how many answers the server
gave by the rules alone because others were waiting (`lighter_answers_when_waiting`); and how long the chunks
ingested under load take to be embedded once the load stops (polling /health's `pending`, at most 3 minutes).
Usage: python benchmarks/bench_load.py [--clients 50] [--seconds 60] [--warmup 15]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

from benchlib import serve_corpus

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-admin-key"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p * len(ordered))) - 1))] if ordered else float("nan")


def process_tree(pid: int) -> list[int]:
    """The process and its descendants (a server's answer workers), from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError):  # gone meanwhile
            continue
    tree = [pid]
    for p in tree:
        tree.extend(c for c, parent in parents.items() if parent == p)
    return tree


def process_state(pid: int) -> tuple[float, int]:
    """(RSS in MB, open file handles) of a process with its descendants, from /proc."""
    rss, handles = 0.0, 0
    for p in process_tree(pid):
        try:
            rss += next(int(line.split()[1]) for line in Path(f"/proc/{p}/status").read_text().splitlines()
                        if line.startswith("VmRSS:")) / 1024
            handles += len(list(Path(f"/proc/{p}/fd").iterdir()))
        except (OSError, StopIteration):  # gone meanwhile
            continue
    return rss, handles


RETRIES = 3  # as the chat page does: a 503 or 429 is tried again after its Retry-After, this many times


def one_request(c: httpx.Client, kind: str, q: str, rng: random.Random) -> tuple[int, float | None]:
    """One reader request: (status, the Retry-After it was told, in seconds)."""
    if kind == "ask":
        r = c.post("/api/ask", json={"question": q})
    elif kind == "stream":
        with c.stream("POST", "/api/ask", json={"question": q}, headers={"Accept": "text/event-stream"}) as r:
            for _ in r.iter_lines():
                pass
    elif kind == "search":
        r = c.get("/api/search", params={"q": q})
    elif kind == "articles":
        r = c.get("/api/articles", params={"page": rng.randint(1, 3)})
    else:
        r = c.post("/v1/chat/completions", json={"model": "communique", "messages": [{"role": "user", "content": q}]})
    after = r.headers.get("retry-after")
    return r.status_code, float(after) if after and after.isdigit() else None


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--warmup", type=float, default=15, help="seconds of load before the warm state is taken")
    ap.add_argument("--honour", action=argparse.BooleanOptionalAction, default=True,
                    help="clients wait as Retry-After says and try again (up to 3 times), as the chat page and "
                         "the openai client do; --no-honour: they send the next request at once")
    args = ap.parse_args()
    questions = [json.loads(line)["question"] for line in
                 (ROOT / "src/communique/evalsets/sample.jsonl").read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        server, base = serve_corpus(str(Path(tmp) / "load.db"), ROOT / "src/communique/sample",
                                    {"COMMUNIQUE_ADMIN_KEY": KEY})
        try:
            start_state = process_state(server.pid)
            latencies: dict[str, list[float]] = defaultdict(list)
            statuses: dict[str, Counter] = defaultdict(Counter)
            told_to_wait: Counter = Counter()
            lock = threading.Lock()
            stop = time.monotonic() + args.seconds

            def record(name: str, t0: float, status: int | str) -> None:
                with lock:
                    latencies[name].append((time.perf_counter() - t0) * 1000)
                    statuses[name][status] += 1

            def reader(seed: int) -> None:
                rng = random.Random(seed)
                with httpx.Client(base_url=base, timeout=60) as c:
                    while time.monotonic() < stop:
                        q = rng.choice(questions)
                        kind = rng.choices(["ask", "stream", "search", "articles", "v1"], [30, 15, 25, 15, 15])[0]
                        t0 = time.perf_counter()
                        for attempt in range(RETRIES + 1):
                            try:
                                status, wait = one_request(c, kind, q, rng)
                            except httpx.HTTPError as exc:
                                status, wait = type(exc).__name__, None
                            if status not in (429, 503) or not wait or attempt == RETRIES or not args.honour:
                                break
                            with lock:
                                told_to_wait[kind] += 1
                            time.sleep(wait)
                        record(kind, t0, status)

            def ingester() -> None:
                with httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {KEY}"}) as c:
                    i = 0
                    while time.monotonic() < stop:
                        article = {"title": f"Load test report {i}", "published": "2026-11-20",
                                   "text": f"Regulators in city {i} fined a data broker {i + 3} million euros on "
                                           "Friday for selling location data without consent."}
                        t0 = time.perf_counter()
                        try:
                            status = c.post("/api/ingest", json={"articles": [article]}).status_code
                        except httpx.HTTPError as exc:
                            status = type(exc).__name__
                        record("ingest", t0, status)
                        i += 1
                        time.sleep(1.0)

            warm_state: list[tuple[float, int]] = []

            def sampler() -> None:
                time.sleep(min(args.warmup, args.seconds))
                warm_state.append(process_state(server.pid))

            threads = [threading.Thread(target=reader, args=(i,)) for i in range(args.clients)]
            threads += [threading.Thread(target=ingester), threading.Thread(target=sampler)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - t0
            end_state = process_state(server.pid)
            drained_at, pending = None, -1
            with httpx.Client(base_url=base, timeout=30) as c:
                t_end = time.perf_counter()
                while time.perf_counter() - t_end < 180:
                    pending = c.get("/health").json().get("pending", -1)
                    if pending == 0:
                        drained_at = time.perf_counter() - t_end
                        break
                    time.sleep(1)
                counts = {m.group(1): float(m.group(2)) for m in re.finditer(
                    r"^communique_answers(_lighter)?_total (\S+)", c.get("/metrics").text, re.M)}
        finally:
            server.terminate()
            server.wait(timeout=30)
    total = sum(len(v) for v in latencies.values())
    print(f"{args.clients} clients for {args.seconds:.0f} s, with an ingest a second: {total} requests, "
          f"{total / wall:.1f}/s\n")
    print("| endpoint | requests | p50 ms | p95 ms | p99 ms | responses |\n|---|---|---|---|---|---|")
    for name in sorted(latencies):
        v = latencies[name]
        shown = ", ".join(f"{k}: {n}" for k, n in sorted(statuses[name].items(), key=lambda kv: str(kv[0])))
        print(f"| {name} | {len(v)} | {statistics.median(v):.0f} | {percentile(v, 0.95):.0f} | "
              f"{percentile(v, 0.99):.0f} | {shown} |")
    warm = warm_state[0] if warm_state else start_state
    if told_to_wait:
        print("\ntold to wait and tried again (Retry-After): " + ", ".join(f"{k}: {n}" for k, n in
                                                                        sorted(told_to_wait.items())))
    print(f"\nserver RSS, with its answer workers: {start_state[0]:.0f} MB at start, {warm[0]:.0f} MB after "
          f"{args.warmup:.0f} s of load "
          f"(warm), {end_state[0]:.0f} MB at the end ({(end_state[0] / warm[0] - 1) * 100:+.0f}% after warm-up); "
          f"open file handles {start_state[1]} → {warm[1]} → {end_state[1]}")
    answered = counts.get(None, 0)
    print(f"answers by the rules alone while others waited in line: {counts.get('_lighter', 0):.0f} of "
          f"{answered:.0f}" + (f" ({counts.get('_lighter', 0) / answered:.0%})" if answered else ""))
    print("pending chunks drained " + (f"{drained_at:.0f} s after the load ended" if drained_at is not None
                                       else f"not within 3 minutes ({pending} left)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

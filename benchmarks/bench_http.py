"""HTTP latency of `/api/ask` with 1 and 8 concurrent clients, and time to the first streamed byte.

Starts a real `communique serve` on 127.0.0.1 over a freshly ingested corpus (the seed digests when
../shared exists, else the in-repo sample), asks the question file's questions round-robin, and prints
a markdown table. Usage: python benchmarks/bench_http.py [--requests 96] [--clients 1,8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from benchlib import serve_corpus

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def corpus_and_questions() -> tuple[Path, Path]:
    if (SHARED / "seeds").is_dir() and (SHARED / "eval" / "seeds_dev.jsonl").is_file():
        return SHARED / "seeds", SHARED / "eval" / "seeds_dev.jsonl"
    return ROOT / "src/communique/sample", ROOT / "src/communique/evalsets/sample.jsonl"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(p * len(ordered))) - 1)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=96)
    ap.add_argument("--clients", default="1,8")
    ap.add_argument("--cold", action="store_true",
                    help="make every question unique (suffix ' #i') so the query-embedding cache never hits")
    args = ap.parse_args()
    corpus, qfile = corpus_and_questions()
    questions = [json.loads(line) for line in qfile.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        server, base = serve_corpus(str(Path(tmp) / "bench.db"), corpus)
        try:
            rows = []
            with httpx.Client(timeout=60) as client:
                def ask(i: int) -> tuple[float, bool]:
                    q = questions[i % len(questions)]
                    t0 = time.perf_counter()
                    text = f"{q['question']} #{n_run}-{i}" if args.cold else q["question"]
                    body = {"question": text, "history": q.get("history", [])}
                    r = client.post(f"{base}/api/ask", json=body)
                    return (time.perf_counter() - t0) * 1000, r.status_code == 200 and "answer" in r.json()

                n_run = 0
                for n_run, n in enumerate((int(c) for c in args.clients.split(",")), start=1):  # noqa: B007
                    ask(0)  # warm
                    with ThreadPoolExecutor(n) as pool:
                        t0 = time.perf_counter()
                        results = list(pool.map(ask, range(args.requests)))
                        wall = time.perf_counter() - t0
                    times = [t for t, _ in results]
                    errors = sum(not ok for _, ok in results)
                    rows.append((f"/api/ask, {n} client(s)", statistics.median(times), percentile(times, 0.95),
                                 args.requests / wall, errors))
                firsts = []
                for i in range(min(args.requests, 48)):
                    q = questions[i % len(questions)]
                    t0 = time.perf_counter()
                    with client.stream("POST", f"{base}/api/ask", headers={"Accept": "text/event-stream"},
                                       json={"question": q["question"], "history": q.get("history", [])}) as r:
                        first = None
                        for line in r.iter_lines():
                            if first is None and line.startswith("event: delta"):
                                first = (time.perf_counter() - t0) * 1000
                        firsts.append(first if first is not None else float("nan"))
                rows.append(("first answer byte (SSE delta), 1 client", statistics.median(firsts),
                             percentile(firsts, 0.95), float("nan"), 0))
        finally:
            server.terminate()
            server.wait(timeout=30)
    print(f"corpus: {corpus}  questions: {qfile.name}  requests per run: {args.requests}  "
          f"cache: {'never hits (--cold)' if args.cold else 'repeated questions hit it'}\n")
    print("| measure | p50 ms | p95 ms | requests/s | errors |\n|---|---|---|---|---|")
    for name, p50, p95, rps, errors in rows:
        print(f"| {name} | {p50:.0f} | {p95:.0f} | {rps:.1f} | {errors} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

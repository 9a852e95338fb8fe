"""Helpers shared by the benchmark scripts: default data paths, percentiles, markdown tables, results files.

Not a benchmark itself. The scripts import it as `benchlib` (they run as `python benchmarks/NAME.py`,
which puts this folder first on `sys.path`).
"""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SHARED = REPO.parent / "shared"
SAMPLE_DIR = REPO / "src" / "communique" / "sample"
SAMPLE_QUESTIONS = REPO / "src" / "communique" / "evalsets" / "sample.jsonl"
RESULTS_DIR = BENCH_DIR / "results"


def shared_or(shared_path: Path, fallback: Path | None) -> Path | None:
    """The shared data set when it exists, else the in-repo sample (or None)."""
    return shared_path if shared_path.exists() else fallback


def digest_files(folder: Path, pattern: str = "digest-*.txt") -> list[Path]:
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def missing(what: str, path: Path | None) -> None:
    """Say which data set is missing and exit 0: a missing data set is not a failed benchmark."""
    print(f"SKIP: {what} not found{f' at {path}' if path else ''}; nothing to measure.")
    sys.exit(0)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5 - 1e-9)))
    return ordered[rank - 1]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def file_size_mb(path: Path) -> float:
    """Size of an SQLite database with its -wal and -shm files, in MiB."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file()) / 2**20


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub markdown table; floats are printed as given, so format them before."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(cells[0], widths, strict=True)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells[1:]]
    return "\n".join(lines)


def machine_line() -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{time.strftime('%Y-%m-%d %H:%M')} · {platform.machine()} · {os.cpu_count()} cores · "
            f"load avg {load} · Python {platform.python_version()}")


class Report:
    """Collects markdown sections, prints each as it comes and writes them all to results/NAME.md."""

    def __init__(self, name: str, title: str, argv: Sequence[str] | None = None) -> None:
        self.name = name
        command = " ".join([f"python benchmarks/{name}.py", *(sys.argv[1:] if argv is None else argv)])
        self.parts = [f"# {title}", "", f"_{machine_line()}_", "", f"`{command}`", ""]
        print("\n".join(self.parts))

    def section(self, heading: str, body: str) -> None:
        block = f"## {heading}\n\n{body}\n"
        print(block, flush=True)
        self.parts.append(block)

    def note(self, text: str) -> None:
        print(text + "\n", flush=True)
        self.parts.append(text + "\n")

    def save(self) -> Path:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"{self.name}.md"
        path.write_text("\n".join(self.parts).rstrip() + "\n", encoding="utf-8")
        print(f"(written to {path.relative_to(REPO)})")
        return path


def yes(flag: bool) -> str:
    return "yes" if flag else "**no**"


def serve_corpus(db: str, corpus: Path, env: dict[str, str] | None = None):
    """Ingest `corpus` into `db`, start `communique serve` on a free 127.0.0.1 port and wait until /health is
    200; returns (the server process, its base URL). The caller terminates the process."""
    import socket
    import subprocess

    import httpx

    exe = str(Path(sys.executable).with_name("communique"))
    subprocess.run([exe, "--db", db, "ingest", str(corpus)], check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([exe, "--db", db, "serve", "--port", str(port)], env={**os.environ, **(env or {})},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return server, base

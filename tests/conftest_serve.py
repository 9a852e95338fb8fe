"""Helpers shared by the serve tests (test_api, test_server_e2e, test_browser): a private copy of the
session's embedded sample corpus, and a real `communique serve` process on 127.0.0.1.

Plain functions, imported by the test modules (as test_cli imports `builders`).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ADMIN_KEY = "test-admin-key-0123456789"


def sample_questions(kind: str = "fact") -> list[dict]:
    """The sample corpus's evaluation questions of one type (fact, followup, unanswerable, ...)."""
    import communique

    package = Path(communique.__file__).parent
    path = next(p for p in (package / "evalsets" / "sample.jsonl", package / "sample" / "questions.jsonl")
                if p.is_file())
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if r.get("type") == kind]


def copy_sample_db(sample_build: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A private copy of the pristine sample database (30 articles, embedded once per session)."""
    path = tmp_path_factory.mktemp(name) / "communique.db"
    shutil.copyfile(sample_build[1], path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, timeout: float = 5.0) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:  # noqa: S310 - 127.0.0.1 only
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


class ServerProcess:
    """`communique --db DB serve --port N` in a subprocess; ready once GET /health answers 200."""

    def __init__(self, db: Path, log_path: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        script = Path(sys.executable).with_name("communique")
        command = [str(script)] if script.exists() else [sys.executable, "-m", "communique.cli"]
        self.command = [*command, "--db", str(db), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self.env = {**os.environ, "COMMUNIQUE_EMBED_THREADS": "2", **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.startup_s = 0.0

    def start(self, timeout: float = 180.0) -> ServerProcess:
        t0 = time.perf_counter()
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(self.command, stdout=self._log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                status, _ = get_json(self.base + "/health", timeout=2)
            except OSError:
                status = 0
            if status == 200:
                self.startup_s = time.perf_counter() - t0
                return self
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not healthy after {timeout}s:\n{self.log()}")

    def stop(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""

"""Shared fixtures: the sample corpus built once per session, services on throwaway databases, and a
real HTTP server on 127.0.0.1 for feeds and pages fetched by URL.

Tests that use the embedded sample corpus (`sample_db`, `sample_copy`, `sample_db_file`) or embed passages
with the real model are marked `slow`: the first of them pays for embedding the corpus (about 10 s on two
cores), so `-m "not slow"` runs the rest in a few seconds.
"""

from __future__ import annotations

import os
import random
import shutil
import string
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import communique
from communique.config import Settings
from communique.embed import default_embedder
from communique.service import Communique

SAMPLE_FILES = ["digest-2026-10-26.txt", "digest-2026-11-02.txt", "digest-2026-11-09.txt"]
# The session corpus gives the middle digest its own source, so source filters have something to select.
SAMPLE_SOURCES = {
    "digest-2026-10-26.txt": "Diplo Weekly",
    "digest-2026-11-02.txt": "Geneva Wire",
    "digest-2026-11-09.txt": "Diplo Weekly",
}


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No COMMUNIQUE_* variable or home data directory of the developer leaks into a test."""
    mp = pytest.MonkeyPatch()
    for name in list(os.environ):
        if name.startswith("COMMUNIQUE_"):
            mp.delenv(name)
    mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    # Answers are made in the test's own process, where tests can watch and stub them; the worker processes
    # a server starts by default are tested in test_server_e2e.py (a real server with one answer process).
    mp.setenv("COMMUNIQUE_ANSWER_PROCESSES", "0")
    mp.setenv("NO_PROXY", "127.0.0.1,localhost")
    mp.setenv("no_proxy", "127.0.0.1,localhost")
    # The process-wide embedder with one thread (the model itself loads on first use): on a shared
    # two-core machine OpenMP's second thread mostly spins, doubling the suite's CPU time for no gain.
    default_embedder(1)
    yield
    mp.undo()


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    path = Path(communique.__file__).parent / "sample"
    assert all((path / name).is_file() for name in SAMPLE_FILES), f"sample corpus missing in {path}"
    return path


def _new_service(db: Path, **overrides) -> Communique:
    return Communique(Settings(db=db, fetch_timeout_s=5.0, **overrides))


@pytest.fixture(scope="session")
def _sample_build(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(live db, pristine copy): the 30 sample articles ingested and embedded, once per session."""
    root = tmp_path_factory.mktemp("sample-db")
    live = root / "sample.db"
    svc = _new_service(live)
    for name, source in SAMPLE_SOURCES.items():
        report = svc.ingest([str(sample_dir / name)], source=source, embed=False)
        assert report.ok and len(report.added) == 10, report.to_dict()
    assert svc.embed() == svc.stats().chunks
    svc.close()  # the last connection checkpoints the WAL: the main file alone is the whole database
    pristine = root / "pristine.db"
    shutil.copyfile(live, pristine)
    return live, pristine


@pytest.fixture(scope="session")
def sample_db(_sample_build: tuple[Path, Path]) -> Iterator[Communique]:
    """A service over the embedded sample corpus. Read-only: a test that writes uses `sample_copy`."""
    svc = _new_service(_sample_build[0])
    yield svc
    svc.close()


@pytest.fixture
def sample_db_file(_sample_build: tuple[Path, Path], tmp_path: Path) -> Path:
    """A private copy of the embedded sample database file, free to modify."""
    path = tmp_path / "sample-copy.db"
    shutil.copyfile(_sample_build[1], path)
    return path


@pytest.fixture
def sample_copy(sample_db_file: Path) -> Iterator[Communique]:
    svc = _new_service(sample_db_file)
    yield svc
    svc.close()


@pytest.fixture
def make_service(tmp_path: Path) -> Iterator[Callable[..., Communique]]:
    """make_service(name="x", **settings) -> a Communique on a fresh SQLite file in tmp_path."""
    made: list[Communique] = []

    def make(name: str = "communique", **overrides) -> Communique:
        svc = _new_service(tmp_path / f"{name}.db", **overrides)
        made.append(svc)
        return svc

    yield make
    for svc in made:
        svc.close()


# -- a local web server ----------------------------------------------------------------------------------
class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".html": "text/html; charset=utf-8",
        ".xml": "application/xml",
        ".rss": "application/rss+xml",
        ".atom": "application/atom+xml",
        ".txt": "text/plain; charset=utf-8",
        ".jsonl": "application/x-ndjson",
    }

    def log_message(self, format: str, *args) -> None:  # keep test output clean
        pass


@dataclass
class Site:
    """Files under `root` are served at `base`; `publish` puts one there and returns its URL."""

    root: Path
    base: str

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def publish(self, path: str, content: str | bytes) -> str:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)
        return self.url(path)


@pytest.fixture(scope="session")
def _http_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("www")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def site(_http_server: tuple[Path, str]) -> Site:
    """A fresh folder of the session's web server for this test (nothing else is published there)."""
    root, base = _http_server
    name = "".join(random.choices(string.ascii_lowercase, k=12))  # no digits: nothing date-like in URLs
    (root / name).mkdir()
    return Site(root / name, f"{base}/{name}")


@pytest.fixture
def cli() -> Iterator[Callable]:
    """cli(*args) runs one `communique` command in-process, with the CLI's per-process state (its service, kept
    for the process) reset and closed around it."""
    from typer.testing import CliRunner

    from communique import cli as cli_module

    runner = CliRunner()

    def reset() -> None:
        if cli_module.state.service is not None:
            cli_module.state.service.close()
        cli_module.state.service = None
        cli_module.state.db = None

    def run(*args: str | Path):
        reset()
        try:
            return runner.invoke(cli_module.app, [str(a) for a in args])
        finally:
            reset()

    yield run

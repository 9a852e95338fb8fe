"""Text embedders behind one small interface; the bundled multilingual E5 is the default."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    dim: int

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """(dim,) float32, L2-normalised."""
        ...


_DEFAULT: Embedder | None = None


def default_embedder(threads: int | None = None) -> Embedder:
    """The process-wide E5 embedder, loaded on first use."""
    global _DEFAULT
    if _DEFAULT is None:
        from communique.embed.e5 import E5Embedder

        _DEFAULT = E5Embedder(threads=threads)
    return _DEFAULT

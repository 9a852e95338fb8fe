"""Text embedders behind one small interface; the bundled multilingual E5 is the default, OpenAI-compatible
embedding servers (`embed_url`) the scale-out path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from communique.config import Settings


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


def default_embedder(threads: int | None = None, **engine: object) -> Embedder:
    """The process-wide E5 embedder, loaded on first use; `engine`: E5Embedder's engine, cc and build_dir."""
    global _DEFAULT
    if _DEFAULT is None:
        from communique.embed.e5 import E5Embedder

        _DEFAULT = E5Embedder(threads=threads, **engine)
    return _DEFAULT


def open_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name: the servers of `embed_url` when set, else the local model."""
    if settings.embed_url:
        from communique.embed.remote import RemoteEmbedder

        return RemoteEmbedder.from_settings(settings)
    return default_embedder(settings.embed_threads, engine=settings.embed_engine, cc=settings.embed_cc,
                            build_dir=settings.embed_build_dir)

"""The store interface every backend implements, so the CLI, API and tests never see which one runs.

A store keeps articles, their chunks, a keyword (BM25) index over chunks and one dense vector per
chunk. Text and vectors are written separately: keyword search works as soon as text is stored and
embedding catches up in batches (`pending_vectors` → `write_vectors`), so an interrupted ingest resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from communique.models import Article, Chunk, Filters, Hit

WriteOutcome = Literal["added", "updated", "unchanged"]


@dataclass
class WriteResult:
    outcome: WriteOutcome
    article_id: str
    syndicated: bool = False  # the text was stored already under another URL: linked to it as a copy


@dataclass
class ArticlePage:
    articles: list[Article]
    total: int
    page: int
    page_size: int


@dataclass
class StoreStats:
    articles: int
    chunks: int
    embedded: int
    sources: dict[str, int] = field(default_factory=dict)
    first_published: str | None = None
    last_published: str | None = None
    size_bytes: int = 0
    backend: str = ""

    @property
    def pending(self) -> int:
        return self.chunks - self.embedded


@runtime_checkable
class Store(Protocol):
    """What retrieval and ingest need from a backend; see tests/store_contract.py for the contract."""

    def write(self, article: Article, chunks: list[Chunk]) -> WriteResult:
        """Insert or update one article with its chunks, atomically; dedups on id, URL and text."""
        ...

    def pending_vectors(self, limit: int) -> list[tuple[int, str]]:
        """Up to `limit` (chunk id, text to embed) pairs that have no vector yet."""
        ...

    def write_vectors(self, chunk_ids: list[int], vectors: np.ndarray) -> None: ...

    def sync(self) -> None:
        """Bring the search indexes up to date after a batch of writes, so no reader's search pays for it."""
        ...

    def search_text(self, query: str, k: int, filters: Filters | None = None) -> list[Hit]: ...

    def search_vector(self, vector: np.ndarray, k: int, filters: Filters | None = None) -> list[Hit]: ...

    def get(self, article_id: str) -> Article | None: ...

    def chunks(self, article_id: str) -> list[Chunk]: ...

    def delete(self, article_id: str) -> bool: ...

    def list_articles(
        self, query: str | None = None, filters: Filters | None = None, page: int = 1, page_size: int = 20
    ) -> ArticlePage: ...

    def stats(self) -> StoreStats: ...

    def close(self) -> None: ...


def embedding_text(title: str, chunk_text: str) -> str:
    """What a chunk's vector is computed from: the title gives short chunks their topic."""
    return f"{title}. {chunk_text}" if title else chunk_text

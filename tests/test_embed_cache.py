"""The vector cache: a text embedded once, for any database beside it, is never embedded again."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from builders import SHORT_STORIES, digest
from communique.embed.cache import CachedEmbedder

pytestmark = pytest.mark.slow


def _vectors(svc) -> dict[str, np.ndarray]:
    conn = svc.store._conn()
    return {text: np.frombuffer(vec, dtype=np.float32) for text, vec in
            conn.execute("SELECT text, vec FROM chunks WHERE vec IS NOT NULL")}


def test_a_second_database_reuses_every_vector(tmp_path: Path, make_service) -> None:
    source = tmp_path / "digest-2026-11-16.txt"
    source.write_text(digest(SHORT_STORIES), encoding="utf-8")
    first = make_service("first")
    report = first.ingest([str(source)])
    assert isinstance(first.embedder, CachedEmbedder) and report.embedded > 0
    assert first.embedder.misses == report.embedded and first.embedder.hits == 0
    second = make_service("second")  # beside the first: the same cache file
    again = second.ingest([str(source)])
    assert again.embedded == report.embedded
    assert second.embedder.misses == 0 and second.embedder.hits == report.embedded
    ours, theirs = _vectors(first), _vectors(second)
    assert ours.keys() == theirs.keys()
    assert all(np.array_equal(ours[t], theirs[t]) for t in ours)


def test_the_cache_can_be_turned_off(tmp_path: Path, make_service) -> None:
    svc = make_service("plain", embed_cache=False)
    assert not isinstance(svc.embedder, CachedEmbedder)

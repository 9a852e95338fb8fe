"""Every store backend runs the same contract (tests/store_contract.py) on a fresh, empty store."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

from communique.store.sqlite import SQLiteStore
from store_contract import StoreContract

HAVE_MILVUS = all(importlib.util.find_spec(name) for name in ("pymilvus", "milvus_lite"))
needs_milvus = pytest.mark.skipif(
    not HAVE_MILVUS, reason="pymilvus and milvus-lite are not installed: pip install -e '.[milvus]'"
)


class TestSQLiteStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SQLiteStore]:
        store = SQLiteStore(tmp_path / "contract.db")
        yield store
        store.close()


@pytest.mark.milvus
@needs_milvus
class TestMilvusLiteStore(StoreContract):
    """Milvus Lite embedded in this process: a local `.db` path, as `COMMUNIQUE_MILVUS_URI=./x.db` gives."""

    @pytest.fixture
    def store(self, tmp_path: Path):
        from communique.store.milvus import MilvusStore

        store = MilvusStore(str(tmp_path / "contract.milvus.db"))
        yield store
        store.close()

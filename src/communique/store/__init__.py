"""Store backends, picked by name from settings; third-party backends register the same way."""

from __future__ import annotations

from collections.abc import Callable

from communique.config import Settings
from communique.errors import BadInput
from communique.store.base import ArticlePage, Store, StoreStats, WriteResult

__all__ = ["ArticlePage", "Store", "StoreStats", "WriteResult", "open_store", "register_backend"]

_BACKENDS: dict[str, Callable[[Settings], Store]] = {}


def register_backend(name: str, factory: Callable[[Settings], Store]) -> None:
    _BACKENDS[name] = factory


def _sqlite(settings: Settings) -> Store:
    from communique.store.sqlite import SQLiteStore

    return SQLiteStore(settings.db, ann_threshold=settings.ann_threshold)


def _milvus(settings: Settings) -> Store:
    from communique.store.milvus import MilvusStore

    return MilvusStore.from_settings(settings)


register_backend("sqlite", _sqlite)
register_backend("milvus", _milvus)


def open_store(settings: Settings) -> Store:
    try:
        factory = _BACKENDS[settings.store]
    except KeyError:
        raise BadInput(f"unknown store backend {settings.store!r}; known: {', '.join(sorted(_BACKENDS))}") from None
    return factory(settings)

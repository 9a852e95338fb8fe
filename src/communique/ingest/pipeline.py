"""Bulk ingest as a pipeline: text is read, annotated, chunked and stored in the calling thread while a worker
thread embeds what has been stored, batch by batch.

Embedding once all text was stored left the embedder idle for the whole text stage (spaCy's NER costs about half
as much as embedding with the native engine), and the text stage idle for the whole embedding. Here the store is
the queue between the two: the text stage commits each article with its chunks as before, and tells the worker
how many chunks it stored; the worker takes whatever chunks lack a vector, up to a batch, as soon as there are any
(when embedding is the slower stage they pile up, so batches are full; the native engine's throughput hardly
depends on the batch size), and writes their vectors. So an interruption anywhere — Ctrl-C, a kill — leaves what it
always left: whole articles, some with vectors, and the next `ingest` or `embed` takes up the rest, with no
duplicates. The store keeps every chunk until it is embedded, so the queue needs no bound of its own, and its
length is what the progress bar shows as left to embed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from communique.embed import Embedder
from communique.ingest import IngestReport, ingest_items
from communique.ingest.items import Item
from communique.ingest.notes_cache import NotesCache
from communique.store.base import Store


class EmbedStage(threading.Thread):
    """The worker: embeds stored chunks that have no vector, up to `batch` at a time, as soon as there are any."""

    def __init__(self, store: Store, embedder: Embedder, batch: int,
                 on_batch: Callable[[int], None] | None = None) -> None:
        super().__init__(name="communique-ingest-embed", daemon=True)
        self.store, self.embedder, self.batch, self.on_batch = store, embedder, max(1, batch), on_batch
        self.done = 0
        self.seconds = 0.0  # from start to the last vector written
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._stored = 0  # chunks the text stage has stored so far
        self._text_done = self._stopping = False

    def stored(self, chunks: int) -> None:
        """The text stage committed `chunks` more chunks."""
        with self._changed:
            self._stored += chunks
            self._changed.notify()

    def text_done(self) -> None:
        with self._changed:
            self._text_done = True
            self._changed.notify()

    def stop(self) -> None:
        """End after the batch being embedded (its vectors are still written): the rest waits for the next run."""
        with self._changed:
            self._stopping = True
            self._changed.notify()

    def run(self) -> None:
        start = time.perf_counter()
        try:
            while True:
                with self._changed:
                    seen = self._stored
                pending = self.store.pending_vectors(self.batch)
                if not pending and self._waited(seen):
                    continue
                if self._stopping or not pending:
                    return
                ids = [cid for cid, _ in pending]
                self.store.write_vectors(ids, self.embedder.embed_passages([text for _, text in pending]))
                self.done += len(ids)
                self.seconds = time.perf_counter() - start
                if self.on_batch:
                    self.on_batch(len(ids))
        except BaseException as exc:  # handed to the caller once the text stage has stored everything
            self.error = exc

    def _waited(self, seen: int) -> bool:
        """With nothing to embed while text still comes, wait until more is stored than `seen` (counted before
        the store was asked); False when no more will come."""
        with self._changed:
            if self._text_done or self._stopping:
                return False
            self._changed.wait_for(lambda: self._stopping or self._text_done or self._stored > seen)
            return True


def ingest_pipelined(
    items: Iterable[Item],
    store: Store,
    embedder: Embedder,
    chunk_tokens: int = 180,
    batch: int = 64,
    on_item: Callable[[Item, str], None] | None = None,
    on_stored: Callable[[int], None] | None = None,
    on_embedded: Callable[[int], None] | None = None,
    notes: NotesCache | None = None,
) -> IngestReport:
    """Store every readable article and embed every chunk without a vector (those of earlier runs too), the two
    at once. `on_stored(n)`: n more chunks are waiting for vectors. A failure to embed does not stop the text
    stage; it is raised once all text is stored."""
    worker = EmbedStage(store, embedder, batch, on_embedded)
    worker.start()

    def stored(chunks: int) -> None:
        worker.stored(chunks)
        if on_stored:
            on_stored(chunks)

    try:
        report = ingest_items(items, store, chunk_tokens, on_item=on_item, on_stored=stored, notes=notes)
        worker.text_done()
        worker.join()
    except BaseException:  # Ctrl-C: the worker finishes its batch; what is stored stays, whole
        worker.stop()
        worker.join()
        raise
    if worker.error is not None:
        raise worker.error
    if worker.done:
        store.sync()
    report.embedded, report.embed_seconds = worker.done, worker.seconds
    return report

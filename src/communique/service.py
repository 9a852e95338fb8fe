"""The library's front door: one object that the CLI, the HTTP API and the tests all call.

It owns the settings, opens the store and loads models lazily (nothing heavy happens in the
constructor), and exposes one method per user-facing action.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from communique.answer.events import AnswerEvent
from communique.config import Settings
from communique.conversations import ConversationLog, log_path
from communique.embed import Embedder, open_embedder
from communique.errors import BadInput, NotFound, Unprocessable
from communique.ingest import IngestReport, ReadOptions, embed_pending, ingest_items, read_sources
from communique.ingest.fetch import Fetcher
from communique.ingest.items import Item
from communique.ingest.notes_cache import NotesCache
from communique.models import Answer, Article, Filters, Hit
from communique.retrieve import hybrid_search
from communique.store import ArticlePage, Store, StoreStats, open_store

if TYPE_CHECKING:
    from communique.embed.transfer import ImportReport
    from communique.ingest.watch import FeedWatcher, PollResult
    from communique.news.brief import Brief
    from communique.news.timeline import Timeline
    from communique.store.entities import Entity, EntityDetail, EntityIndex, EntityPage
    from communique.store.stories import StoryDetail, StoryIndex, StoryPage

EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # days a reader may ask about: date arithmetic stays in range
MAX_PAGE = 1_000_000  # SQLite's OFFSET is a 64-bit integer: a larger page overflows it
MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id cannot be bound, let alone exist
CONTEXT_TURNS, CONTEXT_CHARS = 4, 300  # what of a conversation an answer reads: its cost stays bounded


def check_page(page: int) -> None:
    if not 1 <= page <= MAX_PAGE:
        raise BadInput(f"page must lie between 1 and {MAX_PAGE}", param="page")


def check_day(day: date | None) -> None:
    if day is not None and not EARLIEST <= day <= LATEST:
        raise BadInput(f"dates must lie between {EARLIEST} and {LATEST}")


def _check_text(text: str, what: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadInput(f"{what} is not valid Unicode text (a lone surrogate)") from None


def recent_turns(history: list[dict]) -> list[dict]:
    """The last turns of a conversation, each cut short: a follow-up needs what was just said, not a novel."""
    return [{**turn, "content": turn.get("content", "")[-CONTEXT_CHARS:]} for turn in history[-CONTEXT_TURNS:]]


class Communique:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings()
        self._store: Store | None = None
        self._embedder = embedder
        self._conversations: ConversationLog | None = None
        self._notes: NotesCache | None = None
        self._reader = None
        self._lock = threading.Lock()

    # -- components, created on first use -------------------------------------------------------------
    @property
    def store(self) -> Store:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._store = open_store(self.settings)
        return self._store

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            inner = open_embedder(self.settings)
            if self.settings.embed_cache:
                from communique.embed.cache import CachedEmbedder

                inner = CachedEmbedder(inner, self._cache_path)
            self._embedder = inner
        return self._embedder

    @property
    def _cache_path(self) -> Path:
        return self.settings.embed_cache_path or self.settings.db.parent / "embedding-cache.db"

    @property
    def notes_cache(self) -> NotesCache | None:
        """Annotations of texts ingested before, beside the vector cache (None when the cache is off)."""
        if self._notes is None and self.settings.embed_cache:
            with self._lock:
                if self._notes is None:
                    self._notes = NotesCache(self._cache_path)
        return self._notes

    @property
    def reader(self):
        """The model that rereads the learned ranker's best sentences (None unless `reader` is set)."""
        if self._reader is None and self.settings.reader != "off":
            from communique.answer.reader import make_reader

            with self._lock:
                if self._reader is None:
                    self._reader = make_reader(self.settings)
        return self._reader

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        if self._conversations is not None:
            self._conversations.close()
            self._conversations = None
        if self._notes is not None:
            self._notes.close()
            self._notes = None
        if hasattr(self._embedder, "close"):  # the vector cache's, a remote one's connections; the model is shared
            self._embedder.close()
            self._embedder = None

    # -- ingest -------------------------------------------------------------------------------------
    def ingest(
        self,
        targets: list[str],
        published: date | None = None,
        source: str | None = None,
        embed: bool = True,
        on_item: Callable[[Item, str], None] | None = None,
        on_embedded: Callable[[int], None] | None = None,
        before_embed: Callable[[int], None] | None = None,
        on_stored: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Read and store `targets`; with `embed`, embed their chunks (and any an earlier run left) while the text
        is still being read (ingest/pipeline.py). `before_embed(pending)` first, then `on_stored(n)` as n more
        chunks wait for vectors, `on_embedded(n)` as n got theirs."""
        opts = ReadOptions(published=published, source=source, max_item_bytes=self.settings.max_item_bytes,
                           fetch_concurrency=self.settings.fetch_concurrency)
        fetcher = Fetcher(self.settings.fetch_timeout_s, self.settings.max_item_bytes)
        items = read_sources(targets, opts, fetcher)
        try:
            if not embed:
                return ingest_items(items, self.store, self.settings.chunk_tokens, on_item=on_item,
                                    notes=self.notes_cache)
            from communique.embed.remote import workers_of
            from communique.ingest.pipeline import ingest_pipelined

            if before_embed:
                before_embed(self.stats().pending)
            return ingest_pipelined(items, self.store, self.embedder, self.settings.chunk_tokens,
                                    self.settings.embed_batch * workers_of(self.settings), on_item=on_item,
                                    on_stored=on_stored, on_embedded=on_embedded, notes=self.notes_cache)
        finally:
            fetcher.close()

    def ingest_items(self, items: list[Item], embed: bool = True) -> IngestReport:
        report = ingest_items(items, self.store, self.settings.chunk_tokens, notes=self.notes_cache)
        if embed:
            report.embedded = self.embed()
        return report

    def watcher(
        self,
        feeds: list[str] | None = None,
        every: str | None = None,
        embed: bool = True,
        on_poll: Callable[[PollResult], None] | None = None,
    ) -> FeedWatcher:
        """A watcher of `feeds` (default: `watch_feeds`) polled every `every` (default: `watch_every`), whose state
        lives in the store's SQLite file; with `embed`, a poll that stored something embeds it before `on_poll`
        sees it. The caller closes the watcher."""
        from communique.durations import parse_duration
        from communique.ingest.watch import FeedWatcher
        from communique.store.feeds import FeedStates

        feeds = feeds or self.settings.watch_feeds
        if not feeds:
            raise BadInput("name a feed URL to watch, or set watch_feeds")
        every_s = parse_duration(every or self.settings.watch_every)

        def polled(result: PollResult) -> None:
            if embed and result.changed:
                result.embedded = self.embed()
            if on_poll:
                on_poll(result)

        meta = getattr(self.store, "meta", None)  # a Milvus store keeps its articles in a side SQLite store
        states = FeedStates(meta.path if meta is not None else self.settings.db)
        fetcher = Fetcher(self.settings.fetch_timeout_s, self.settings.max_item_bytes)
        try:
            return FeedWatcher(feeds, self.store, states, fetcher, every_s, chunk_tokens=self.settings.chunk_tokens,
                               concurrency=self.settings.fetch_concurrency, on_poll=polled,
                               notes=self.notes_cache)
        except BaseException:
            fetcher.close()
            states.close()
            raise

    def embed(self, on_batch: Callable[[int], None] | None = None, batch: int | None = None) -> int:
        """Embed every chunk still without a vector (resumes an interrupted ingest), `batch` chunks per call
        (default: the `embed_batch` setting); remote embedders get a batch for each of their workers at once."""
        from communique.embed.remote import workers_of

        window = (batch or self.settings.embed_batch) * workers_of(self.settings)
        return embed_pending(self.store, self.embedder, window, on_batch)

    def embedding_engine(self) -> str:
        """Which engine embeds, loaded now (the native one is built on first use): for install scripts and doubts.
        Opens no vector cache and no store, so it creates no file beside the database."""
        if self.settings.embed_url:
            return f"remote: {', '.join(self.settings.embed_url)} ({self.settings.embed_model})"
        return open_embedder(self.settings).load()

    def export_vectors(self, path: Path) -> int:
        """Write every stored vector, keyed by model and text, to a Parquet file for `import_vectors` elsewhere;
        returns how many."""
        from communique.embed.cache import model_id
        from communique.embed.transfer import export_vectors

        return export_vectors(self.store, model_id(self.embedder), path)

    def import_vectors(self, path: Path) -> ImportReport:
        """Fill the vector cache from an export, so that embedding here computes nothing the file holds."""
        from communique.embed.cache import CachedEmbedder
        from communique.embed.transfer import import_vectors

        if not isinstance(self.embedder, CachedEmbedder):
            raise BadInput("importing vectors needs the vector cache, and embed_cache is off")
        return import_vectors(self.embedder, path)

    def warm_up(self) -> None:
        """Load what the first question and the first ingest would otherwise wait for: the index, the embedder,
        the spaCy pipeline and the answer models, by one search and one unlogged answer."""
        from communique import nlp
        from communique.answer import answer_events

        self.search("warm up", k=1)
        nlp.pipeline("en")
        for _ in answer_events(self, "Who is warming up?", [], None, None):
            pass

    # -- search and browse ----------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, filters: Filters | None = None) -> list[Hit]:
        if not query or not query.strip():
            raise BadInput("the query is empty")
        if len(query) > self.settings.max_question_chars:
            raise BadInput(f"the query is longer than {self.settings.max_question_chars} characters")
        _check_text(query, "the query")
        for day in (filters.since, filters.until) if filters else ():
            check_day(day)
        return hybrid_search(self.store, self.embedder, query, k or self.settings.search_k, filters,
                             per_article=self.settings.per_article)

    def article(self, article_id: str) -> Article:
        article = self.store.get(article_id)
        if article is None:
            raise NotFound(f"no article with id {article_id!r}")
        return article

    def articles(self, query: str | None = None, filters: Filters | None = None, page: int = 1,
                 page_size: int = 20) -> ArticlePage:
        if query and len(query) > self.settings.max_question_chars:
            raise BadInput(f"the query is longer than {self.settings.max_question_chars} characters")
        check_page(page)
        for day in (filters.since, filters.until) if filters else ():
            check_day(day)
        return self.store.list_articles(query, filters, page, page_size)

    def delete(self, article_id: str) -> None:
        if not self.store.delete(article_id):
            raise NotFound(f"no article with id {article_id!r}")

    def stats(self) -> StoreStats:
        return self.store.stats()

    # -- entities -----------------------------------------------------------------------------------
    @property
    def entity_index(self) -> EntityIndex:
        """The entity index of the SQLite file that holds the articles (a Milvus store's side store)."""
        store = getattr(self.store, "meta", self.store)
        index = getattr(store, "entities", None)
        if index is None:
            raise BadInput(f"the {self.settings.store} store keeps no entity index")
        return index

    def entities(self, query: str | None = None, kind: str | None = None, page: int = 1,
                 page_size: int = 20) -> EntityPage:
        """Countries, places, organisations and people the articles name: those whose name or a spelling
        contains `query` (any case, any accents), of one `kind` (see `communique.entities.TYPES`)."""
        from communique.entities import TYPES
        from communique.entities.names import fold

        if kind is not None and kind not in TYPES:
            raise BadInput(f"type must be one of {', '.join(TYPES)}, not {kind!r}", param="type")
        check_page(page)
        folded = None
        if query and query.strip():
            if len(query) > self.settings.max_question_chars:
                raise BadInput(f"the query is longer than {self.settings.max_question_chars} characters", param="q")
            _check_text(query, "the query")
            folded = fold(query)
            if not folded:
                raise BadInput("the query has no letter or digit to look for", param="q")
        return self.entity_index.search(folded, kind, page, max(1, min(page_size, 100)))

    def entity(self, entity_id: int, page: int = 1, page_size: int = 50, newest_first: bool = False) -> EntityDetail:
        """One entity: its spellings, a page of its articles in date order, mentions per week, co-named entities."""
        check_page(page)
        detail = (self.entity_index.detail(entity_id, page, max(1, min(page_size, 200)), newest_first)
                  if 1 <= entity_id <= MAX_ID else None)
        if detail is None:
            raise NotFound(f"no entity with id {entity_id}")
        return detail

    def article_entities(self, article_id: str) -> list[Entity]:
        """The entities an article names, most named first."""
        return self.entity_index.of_article(article_id)

    # -- timelines and briefings --------------------------------------------------------------------
    def _check_window(self, since: date | None, until: date | None, as_of: date | None) -> None:
        for day in (since, until, as_of):
            check_day(day)
        if since and until and since > until:
            raise BadInput(f"since ({since}) is after until ({until})", param="since")
        if since and as_of and since > as_of:
            raise BadInput(f"since ({since}) is after as_of ({as_of})", param="since")

    def timeline(self, query: str, since: date | None = None, until: date | None = None,
                 as_of: date | None = None) -> Timeline:
        """The events of the articles about `query`, in date order, each a cited sentence, grouped by story."""
        from communique.news.timeline import build

        if not isinstance(query, str) or not query.strip():
            raise BadInput("the query is empty", param="q")
        if len(query) > self.settings.max_question_chars:
            raise BadInput(f"the query is longer than {self.settings.max_question_chars} characters", param="q")
        _check_text(query, "the query")
        self._check_window(since, until, as_of)
        return build(self.store, self.embedder, query, since, until, as_of)

    def brief(self, topic: str | None = None, since: date | None = None, until: date | None = None,
              as_of: date | None = None) -> Brief:
        """Every story of a period (a week up to `as_of`, else today, by default), newest first, cited."""
        from communique.news.brief import build
        from communique.timewords import today

        if topic is not None and not topic.strip():
            topic = None
        if topic and len(topic) > self.settings.max_question_chars:
            raise BadInput(f"the topic is longer than {self.settings.max_question_chars} characters", param="topic")
        if topic:
            _check_text(topic, "the topic")
        self._check_window(since, until, as_of)
        ref = as_of or today()
        if until and as_of and until > as_of:
            until = as_of  # nothing after the day the briefing is written
        return build(self.store, self.embedder if topic else None, topic, since, until, ref)

    # -- stories ------------------------------------------------------------------------------------
    @property
    def story_index(self) -> StoryIndex:
        """The stories of the SQLite file that holds the articles (a Milvus store's side store)."""
        store = getattr(self.store, "meta", self.store)
        index = getattr(store, "stories", None)
        if index is None:
            raise BadInput(f"the {self.settings.store} store keeps no stories")
        return index

    def stories(self, page: int = 1, page_size: int = 20, min_articles: int = 2) -> StoryPage:
        """Stories told more than once (by default), the one reported last first: what an archive followed."""
        check_page(page)
        if not 1 <= page_size <= 200:
            raise BadInput("page_size must lie between 1 and 200", param="page_size")
        if not 1 <= min_articles <= 10_000:
            raise BadInput("min_articles must lie between 1 and 10000", param="min_articles")
        return self.story_index.listed(page, page_size, min_articles)

    def story(self, story_id: int) -> StoryDetail:
        """One story: its reports in date order (with their syndicated copies) and the figures revised between them."""
        detail = self.story_index.detail(story_id) if 1 <= story_id <= MAX_ID else None
        if detail is None:
            raise NotFound(f"no story with id {story_id}")
        return detail

    def _with_stories(self, answer: Answer) -> Answer:
        """Each citation's story and how many sources reported it: a reader weighs a claim by its reach."""
        try:
            refs = self.story_index.of_articles(c.article_id for c in answer.citations)
        except BadInput:
            return answer
        for c in answer.citations:
            c.story_id, c.reported_by = refs.get(c.article_id, (None, 1))
        return answer

    # -- backups ------------------------------------------------------------------------------------
    def backup(self, dest: Path) -> int:
        """A consistent copy of the SQLite store at `dest`, made while it serves; returns its size in bytes."""
        if self.settings.store != "sqlite":
            raise BadInput("backup copies the SQLite store; back a Milvus collection up with Milvus' own tools")
        return self.store.backup(dest)

    def restore(self, source: Path) -> int:
        """Replace the store by a backup (closing it first); returns the number of articles restored."""
        from communique.store.backup import restore

        if self.settings.store != "sqlite":
            raise BadInput("restore replaces the SQLite store; restore a Milvus collection with Milvus' own tools")
        self.close()
        return restore(source, self.settings.db)

    # -- answering ----------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: list[dict] | None = None,
        as_of: date | None = None,
        filters: Filters | None = None,
    ) -> Answer:
        """A grounded answer with citations, or a refusal when the articles do not say."""
        events = list(self.ask_events(question, history, as_of, filters))
        return events[-1].data

    def ask_events(
        self,
        question: str,
        history: list[dict] | None = None,
        as_of: date | None = None,
        filters: Filters | None = None,
        answerer: str | None = None,
    ) -> Iterator[AnswerEvent]:
        """The answer as it is made: `sources` (retrieval done), `delta` (text pieces), then `answer`.
        `answerer` overrides the configured one for this question (the server's lighter answers under load)."""
        from communique.answer import answer_events

        self.check_ask(question, history, as_of, filters)
        for event in answer_events(self, question, recent_turns(history or []), as_of, filters, answerer):
            if event.kind == "answer":
                self._with_stories(event.data)
            if event.kind == "answer" and self.settings.log_conversations:
                self.conversations.record(question, event.data.answer, event.data.refused,
                                          [c.title for c in event.data.citations])
            yield event

    @property
    def conversations(self) -> ConversationLog:
        """The conversation log (made on first use; only written when `log_conversations` is on)."""
        if self._conversations is None:
            with self._lock:
                if self._conversations is None:
                    self._conversations = ConversationLog(log_path(self.settings.db),
                                                          self.settings.conversation_retention_days)
        return self._conversations

    def purge(self, before: date) -> int:
        """Delete logged conversations from before a day; returns how many went."""
        check_day(before)
        if not log_path(self.settings.db).exists():
            return 0
        return self.conversations.purge(before)

    def check_ask(self, question: str, history: list[dict] | None, as_of: date | None,
                  filters: Filters | None) -> None:
        """Raise the 4xx error a question deserves (empty, too long, bad history or day) before any work."""
        self._check_question(question, history)
        for day in (as_of, filters.since if filters else None, filters.until if filters else None):
            check_day(day)

    def _check_question(self, question: str, history: list[dict] | None) -> None:
        if not isinstance(question, str) or not question.strip():
            raise BadInput("the question is empty")
        if len(question) > self.settings.max_question_chars:
            raise Unprocessable(f"the question is longer than {self.settings.max_question_chars} characters")
        _check_text(question, "the question")
        if len(history or []) > self.settings.max_history_turns:
            raise Unprocessable(f"the history has more than {self.settings.max_history_turns} turns")
        for turn in history or []:
            if not isinstance(turn, dict) or not isinstance(turn.get("content", ""), str):
                raise BadInput('history must be a list of {"role", "content"} objects')
            if len(turn.get("content", "")) > self.settings.max_turn_chars:
                raise Unprocessable(f"a turn of the history is longer than {self.settings.max_turn_chars} characters")
            _check_text(turn.get("content", ""), "the history")

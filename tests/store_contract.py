"""The contract every store backend passes (haystack's DocumentStoreBaseTests, in small).

A backend's test class subclasses `StoreContract` and provides a `store` fixture yielding an empty store;
see test_store_contract.py (SQLite, Milvus Lite) and test_milvus.py (Milvus over gRPC). Most vectors here are
hand-made unit vectors, so expected scores are exact; the tests named `..._real_embeddings` use the bundled
E5 embedder on the same small articles.
"""

from __future__ import annotations

import dataclasses
from datetime import date

import numpy as np
import pytest

from communique.embed import Embedder, default_embedder
from communique.errors import BadInput
from communique.ingest import embed_pending, prepare
from communique.ingest.chunker import chunk_article
from communique.models import Article, Filters
from communique.store.base import Store, WriteResult

DIM = 384


def unit(*axes: int) -> np.ndarray:
    """A normalised vector along the given axes."""
    v = np.zeros(DIM, dtype=np.float32)
    v[list(axes)] = 1.0
    return v / np.linalg.norm(v)


def put(store: Store, article: Article, chunk_tokens: int = 180) -> WriteResult:
    article = prepare(dataclasses.replace(article))
    return store.write(article, chunk_article(article, chunk_tokens))


def embed_all(store: Store, vector: np.ndarray | None = None) -> int:
    """Give every pending chunk a vector (the same one unless told otherwise); returns how many."""
    pending = store.pending_vectors(10_000)
    if pending:
        vectors = np.stack([vector if vector is not None else unit(0)] * len(pending))
        store.write_vectors([cid for cid, _ in pending], vectors)
    return len(pending)


GENEVA = Article(
    title="Tech envoys meet in Geneva",
    text="Tech envoys from 70 countries met in Geneva on Monday to discuss submarine cable protection.\n\n"
    "The meeting agreed to set up a contact group on cable repairs. It will report in March.",
    url="https://wire.example/geneva",
    published=date(2026, 11, 2),
    source="Geneva Wire",
    language="en",
)
NAIROBI = Article(
    title="Kenya suspends Lumaro pending audit",
    text="Kenya's data commissioner suspended the Lumaro companion app on Friday pending an audit of how it "
    "stores the voice recordings of users.\n\nHeptagon Labs said it would cooperate with the audit.",
    url="https://wire.example/nairobi",
    published=date(2026, 11, 6),
    source="Diplo Weekly",
)
UNDATED = Article(
    title="Ondarra Quantum unveils machine",
    text="Ondarra Quantum unveiled a 156-qubit superconducting processor in Bilbao.\n\n"
    "The start-up raised 85 million euros in a round led by Mar Cantabrico Capital.",
    source="Geneva Wire",
)
ALL = [GENEVA, NAIROBI, UNDATED]


class StoreContract:
    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError("a backend's test class provides an empty store")

    @pytest.fixture(scope="class")
    def embedder(self) -> Embedder:
        return default_embedder(1)

    @pytest.fixture
    def filled(self, store: Store) -> dict[str, str]:
        """The three articles stored and embedded; returns title -> article id."""
        ids = {a.title: put(store, a).article_id for a in ALL}
        embed_all(store)
        return ids

    # -- write / read / delete --------------------------------------------------------------------------
    def test_is_a_store(self, store: Store) -> None:
        assert isinstance(store, Store)

    def test_write_and_get(self, store: Store) -> None:
        result = put(store, GENEVA)
        assert result.outcome == "added" and result.article_id
        got = store.get(result.article_id)
        assert (got.id, got.title, got.text, got.url) == (result.article_id, GENEVA.title, GENEVA.text, GENEVA.url)
        assert (got.published, got.source, got.language) == (date(2026, 11, 2), "Geneva Wire", "en")
        assert store.get("no-such-id") is None
        assert store.chunks("no-such-id") == []

    def test_chunks_point_into_the_article(self, store: Store) -> None:
        long = dataclasses.replace(GENEVA, text="\n\n".join([GENEVA.text] * 12))
        aid = put(store, long, chunk_tokens=60).article_id
        chunks = store.chunks(aid)
        assert len(chunks) > 3
        assert [c.seq for c in chunks] == list(range(len(chunks)))
        assert len({c.id for c in chunks}) == len(chunks) and None not in {c.id for c in chunks}
        text = store.get(aid).text
        for c in chunks:
            assert c.article_id == aid
            assert text[c.start:c.end] == c.text

    def test_delete(self, store: Store, filled: dict[str, str]) -> None:
        gid = filled[GENEVA.title]
        assert store.delete(gid) is True
        assert store.get(gid) is None and store.chunks(gid) == []
        assert store.search_text("submarine cable envoys", 10) == []
        assert gid not in {h.article_id for h in store.search_vector(unit(0), 10)}
        assert store.delete(gid) is False
        stats = store.stats()
        assert stats.articles == 2 and stats.chunks == stats.embedded
        assert store.get(filled[NAIROBI.title]) is not None

    def test_list_articles(self, store: Store, filled: dict[str, str]) -> None:
        page = store.list_articles()
        assert [a.title for a in page.articles] == [NAIROBI.title, GENEVA.title, UNDATED.title]  # newest first
        assert (page.total, page.page) == (3, 1)
        page2 = store.list_articles(page=2, page_size=2)
        assert [a.title for a in page2.articles] == [UNDATED.title] and page2.total == 3
        assert [a.title for a in store.list_articles("qubit").articles] == [UNDATED.title]
        assert [a.title for a in store.list_articles("kenya").articles] == [NAIROBI.title]
        only = store.list_articles(filters=Filters(sources=["Geneva Wire"]))
        assert {a.title for a in only.articles} == {GENEVA.title, UNDATED.title}
        assert store.list_articles(filters=Filters(since=date(2026, 11, 3))).total == 1

    def test_stats(self, store: Store) -> None:
        for a in ALL:
            put(store, a)
        s = store.stats()
        assert s.articles == 3 and s.chunks >= 3 and s.embedded == 0 and s.pending == s.chunks
        assert s.sources == {"Geneva Wire": 2, "Diplo Weekly": 1}
        assert (s.first_published, s.last_published) == ("2026-11-02", "2026-11-06")
        embed_all(store)
        s = store.stats()
        assert s.embedded == s.chunks and s.pending == 0

    # -- deduplication ----------------------------------------------------------------------------------
    def test_same_article_again_is_unchanged(self, store: Store, filled: dict[str, str]) -> None:
        before = {a.title: [c.id for c in store.chunks(filled[a.title])] for a in ALL}
        results = [put(store, a) for a in ALL]
        assert [r.outcome for r in results] == ["unchanged"] * 3
        assert [r.article_id for r in results] == [filled[a.title] for a in ALL]
        assert {a.title: [c.id for c in store.chunks(filled[a.title])] for a in ALL} == before
        s = store.stats()
        assert s.articles == 3 and s.pending == 0  # vectors kept

    def test_same_url_with_edited_text_updates_in_place(self, store: Store, filled: dict[str, str]) -> None:
        gid = filled[GENEVA.title]
        old_chunks = {c.id for c in store.chunks(gid)}
        edited = dataclasses.replace(
            GENEVA, text="Tech envoys from 72 countries met in Geneva on Tuesday to discuss satellite spectrum.",
        )
        result = put(store, edited)
        assert (result.outcome, result.article_id) == ("updated", gid)
        assert store.get(gid).text == edited.text
        new_chunks = store.chunks(gid)
        assert [c.text for c in new_chunks] == [edited.text]
        assert not old_chunks & {c.id for c in new_chunks}
        assert store.search_text("submarine", 10) == []  # the old text is gone from the keyword index
        assert [h.article_id for h in store.search_text("satellite spectrum", 10)] == [gid]
        assert store.stats().articles == 3
        assert [cid for cid, _ in store.pending_vectors(10)] == [c.id for c in new_chunks]

    def test_no_stale_vectors_after_update_or_delete(self, store: Store) -> None:
        gid = put(store, GENEVA).article_id
        embed_all(store, unit(0))
        nid = put(store, NAIROBI).article_id
        embed_all(store, unit(1))
        uid = put(store, UNDATED).article_id
        embed_all(store, unit(2))
        put(store, dataclasses.replace(GENEVA, text="Tech envoys met again in Geneva on Tuesday."))
        # The old Geneva chunks, nearest to axis 0, must not take the only slot and vanish from the result.
        assert [h.article_id for h in store.search_vector(unit(0), 1)] in ([nid], [uid])
        assert store.delete(nid) and store.delete(uid)
        assert store.search_vector(unit(1), 1) == []  # only Geneva's new chunk is left, and it has no vector
        embed_all(store, unit(3))
        assert [h.article_id for h in store.search_vector(unit(1), 1)] == [gid]

    def test_same_text_under_another_url_is_deduplicated(self, store: Store, filled: dict[str, str]) -> None:
        copy = dataclasses.replace(GENEVA, url="https://mirror.example/geneva-copy", id="")
        result = put(store, copy)
        assert (result.outcome, result.article_id) == ("unchanged", filled[GENEVA.title])
        copy_with_id = dataclasses.replace(NAIROBI, url=None, id="feed-guid-77", title="  " + NAIROBI.title)
        result = put(store, copy_with_id)
        assert (result.outcome, result.article_id) == ("unchanged", filled[NAIROBI.title])
        assert store.get("feed-guid-77") is None
        assert store.stats().articles == 3

    def test_unchanged_write_fills_missing_metadata(self, store: Store) -> None:
        aid = put(store, dataclasses.replace(UNDATED, source=None)).article_id
        result = put(store, dataclasses.replace(UNDATED, published=date(2026, 11, 4), source="Ondarra PR"))
        assert result == WriteResult("unchanged", aid)
        got = store.get(aid)
        assert (got.published, got.source) == (date(2026, 11, 4), "Ondarra PR")

    # -- vectors ----------------------------------------------------------------------------------------
    def test_pending_and_write_vectors(self, store: Store) -> None:
        aid = put(store, GENEVA).article_id
        pending = store.pending_vectors(100)
        chunks = store.chunks(aid)
        assert [cid for cid, _ in pending] == [c.id for c in chunks]
        assert [text for _, text in pending] == [f"{GENEVA.title}. {c.text}" for c in chunks]
        assert len(store.pending_vectors(1)) == 1
        with pytest.raises(BadInput):
            store.write_vectors([pending[0][0]], np.stack([unit(1), unit(2)]))
        store.write_vectors([pending[0][0]], unit(1)[None, :])
        assert [cid for cid, _ in store.pending_vectors(100)] == [cid for cid, _ in pending[1:]]
        [hit] = store.search_vector(unit(1), 1)
        assert hit.chunk_id == pending[0][0] and hit.score == pytest.approx(1.0, abs=1e-6)
        assert (hit.article_id, hit.title, hit.published) == (aid, GENEVA.title, date(2026, 11, 2))

    def test_sync_makes_written_vectors_searchable(self, store: Store) -> None:
        store.sync()  # nothing written yet: harmless
        aid = put(store, GENEVA).article_id
        cids = [c.id for c in store.chunks(aid)]
        store.write_vectors(cids, np.stack([unit(3)] * len(cids)))
        store.sync()
        assert {h.chunk_id for h in store.search_vector(unit(3), 10)} == set(cids)

    def test_search_vector_ranks_by_cosine(self, store: Store) -> None:
        ids = [put(store, a).article_id for a in ALL]
        for n, aid in enumerate(ids):
            cids = [c.id for c in store.chunks(aid)]
            store.write_vectors(cids, np.stack([unit(0, n + 1)] * len(cids)))
        hits = store.search_vector(unit(2), 10)  # closest: NAIROBI (axis 2), then the others equally
        assert hits[0].article_id == ids[1]
        assert hits[0].score == pytest.approx(float(unit(0, 2) @ unit(2)), abs=1e-6)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        assert len(store.search_vector(unit(2), 2)) == 2
        assert store.search_vector(unit(2), 0) == []

    # -- filters ----------------------------------------------------------------------------------------
    FILTERS = [
        (Filters(since=date(2026, 11, 3)), {NAIROBI.title}),
        (Filters(until=date(2026, 11, 5)), {GENEVA.title}),
        (Filters(since=date(2026, 11, 2), until=date(2026, 11, 2)), {GENEVA.title}),
        (Filters(sources=["Geneva Wire"]), {GENEVA.title, UNDATED.title}),
        (Filters(sources=["Diplo Weekly", "Geneva Wire"]), {GENEVA.title, NAIROBI.title, UNDATED.title}),
        (Filters(sources=["Nobody"]), set()),
        (Filters(since=date(2026, 12, 1)), set()),
        (Filters(), {GENEVA.title, NAIROBI.title, UNDATED.title}),
    ]

    @pytest.mark.parametrize(("filters", "titles"), FILTERS)
    def test_filters_on_text_and_vector_search(self, store: Store, filled, filters: Filters, titles) -> None:
        query = "Geneva envoys Kenya Lumaro audit Ondarra qubit"
        assert {h.title for h in store.search_text(query, 50, filters)} == titles
        assert {h.title for h in store.search_vector(unit(0), 50, filters)} == titles

    def test_article_ids_filter(self, store: Store, filled: dict[str, str]) -> None:
        wanted = [filled[NAIROBI.title], filled[UNDATED.title]]
        f = Filters(article_ids=wanted)
        assert {h.article_id for h in store.search_text("Kenya Ondarra Geneva", 50, f)} == set(wanted)
        assert {h.article_id for h in store.search_vector(unit(0), 50, f)} == set(wanted)
        both = Filters(article_ids=wanted, sources=["Geneva Wire"])
        assert {h.article_id for h in store.search_vector(unit(0), 50, both)} == {filled[UNDATED.title]}

    def test_search_text_ranks_and_ignores_syntax(self, store: Store, filled: dict[str, str]) -> None:
        hits = store.search_text("Which app did Kenya suspend?", 10)
        assert hits and hits[0].article_id == filled[NAIROBI.title]
        assert hits[0].score > 0
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        # FTS5 operators and quotes in a question are words, not syntax errors.
        assert store.search_text('"Kenya" AND (NEAR OR -audit*) title:', 10)
        assert store.search_text("what is the", 10) == []  # stop words only
        assert store.search_text("", 10) == []

    def test_search_text_finds_chunks_before_and_after_their_vectors(self, store: Store) -> None:
        aid = put(store, GENEVA).article_id
        before = store.search_text("submarine cable", 10)
        assert [h.article_id for h in before] == [aid] and before[0].title == GENEVA.title
        assert all(h.pending for h in before)  # hybrid search must know dense search cannot find them yet
        embed_all(store)
        after = store.search_text("submarine cable", 10)
        assert [(h.chunk_id, h.article_id) for h in after] == [(h.chunk_id, h.article_id) for h in before]
        assert not any(h.pending for h in after)

    def test_unchanged_write_updates_filters_of_embedded_chunks(self, store: Store) -> None:
        aid = put(store, dataclasses.replace(UNDATED, source=None)).article_id
        embed_all(store)
        assert store.search_vector(unit(0), 10, Filters(sources=["Ondarra PR"])) == []
        put(store, dataclasses.replace(UNDATED, published=date(2026, 11, 4), source="Ondarra PR"))
        only = Filters(sources=["Ondarra PR"], since=date(2026, 11, 4), until=date(2026, 11, 4))
        assert {h.article_id for h in store.search_vector(unit(0), 10, only)} == {aid}
        assert {h.article_id for h in store.search_text("Ondarra qubit", 10, only)} == {aid}

    def test_filter_values_with_quotes_and_backslashes(self, store: Store) -> None:
        odd = 'Le "Monde" \\ d\'Afrique'
        tricky = dataclasses.replace(NAIROBI, id='guid "7" \\ x', source=odd)
        aid = put(store, tricky).article_id
        put(store, GENEVA)
        embed_all(store)
        assert aid == 'guid "7" \\ x'
        for f in (Filters(sources=[odd]), Filters(article_ids=[aid]), Filters(sources=[odd, '"'])):
            assert {h.article_id for h in store.search_vector(unit(0), 10, f)} == {aid}
            assert {h.article_id for h in store.search_text("Kenya Geneva", 10, f)} == {aid}
        assert store.search_vector(unit(0), 10, Filters(sources=['" or source != "'])) == []

    def test_write_without_id_is_refused(self, store: Store) -> None:
        with pytest.raises(BadInput):
            store.write(dataclasses.replace(GENEVA, id=""), [])

    # -- real embeddings --------------------------------------------------------------------------------
    def test_semantic_search_with_real_embeddings(self, store: Store, embedder: Embedder) -> None:
        ids = {a.title: put(store, a).article_id for a in ALL}
        assert embed_pending(store, embedder, batch=4) == store.stats().chunks
        assert store.pending_vectors(10) == []
        for question, title in [
            ("Which country stopped a chatbot app over how it keeps voice data?", NAIROBI.title),
            ("new quantum computer chip in Spain", UNDATED.title),
            ("diplomats discuss undersea internet cables", GENEVA.title),
        ]:
            hits = store.search_vector(embedder.embed_query(question), 3)
            assert hits[0].article_id == ids[title], question
            assert 0.5 < hits[0].score <= 1.0 + 1e-6
        week = Filters(since=date(2026, 11, 1), until=date(2026, 11, 3))
        hits = store.search_vector(embedder.embed_query("voice recordings audit"), 3, week)
        assert [h.article_id for h in hits] == [ids[GENEVA.title]]

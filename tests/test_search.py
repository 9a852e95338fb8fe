"""Hybrid search over the embedded sample corpus: English and cross-lingual questions, filters, caps."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

import communique
from communique.errors import BadInput
from communique.ingest.items import Item
from communique.models import Article, Filters
from communique.retrieve import hybrid_search
from communique.service import Communique
from communique.text import detect_language

PACKAGE = Path(communique.__file__).parent
# The sample corpus's question set (it moved from sample/questions.jsonl to evalsets/sample.jsonl).
pytestmark = pytest.mark.slow  # the first test here pays for embedding the sample corpus

SAMPLE_QUESTIONS = next(
    (p for p in (PACKAGE / "evalsets" / "sample.jsonl", PACKAGE / "sample" / "questions.jsonl") if p.exists()),
    PACKAGE / "evalsets" / "sample.jsonl",
)


def questions(*types: str) -> list:
    rows = [json.loads(line) for line in SAMPLE_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [pytest.param(q, id=q["id"]) for q in rows if q["type"] in types and q["sources"]]


def top_titles(hits, n: int = 3) -> list[str]:
    return [h.title for h in hits[:n]]


ENGLISH = [
    ("How much money did Ghana raise in its first 5G spectrum auction?",
     "Ghana’s 5G auction raises 318 million dollars"),
    ("Which Canadian minister defended the licensing amendment to Bill C-41?",
     "Developers protest amendments to Canada’s AI bill"),
    ("deadline for quantum-safe cryptography at Singapore banks",
     "Singapore sets 2030 deadline for quantum-safe banking"),
    ("ransomware at a Lithuanian port", "Ransomware attack halts cargo operations at Port of Klaipėda"),
]


@pytest.mark.parametrize(("question", "title"), ENGLISH)
def test_english_question_finds_its_article(sample_db: Communique, question: str, title: str) -> None:
    assert title in top_titles(sample_db.search(question))


@pytest.mark.parametrize("q", questions("fact", "list", "followup"))
def test_sample_questions_find_a_source_in_the_top_3(sample_db: Communique, q: dict) -> None:
    assert set(top_titles(sample_db.search(q["question"]))) & set(q["sources"]), q["question"]


@pytest.mark.parametrize("q", questions("multilingual"))
def test_cross_lingual_question_finds_the_english_article(sample_db: Communique, q: dict) -> None:
    assert detect_language(q["question"]) in {"fr", "es", "de"}
    [source] = q["sources"]
    assert source in top_titles(sample_db.search(q["question"]))
    # The dense side alone gets there too: the match is by meaning, not by shared names.
    vector = sample_db.embedder.embed_query(q["question"])
    assert source in top_titles(sample_db.store.search_vector(vector, 10))


def test_multilingual_questions_cover_french_spanish_german() -> None:
    langs = {detect_language(p.values[0]["question"]) for p in questions("multilingual")}
    assert {"fr", "es", "de"} <= langs


def test_hits_are_well_formed(sample_db: Communique) -> None:
    hits = sample_db.search("Valletta Accord ratification and signatures", k=8)
    assert len(hits) == 8
    for story in {h.story_id for h in hits}:  # best first within a story; stories interleave (demote_repeats)
        scores = [h.score for h in hits if h.story_id == story]
        assert scores == sorted(scores, reverse=True)
    assert all(h.story_id is not None for h in hits)
    assert all(0 < h.score <= 2 / 61 + 1e-12 for h in hits)  # fused RRF scores
    per_article: dict[str, int] = {}
    for h in hits:
        per_article[h.article_id] = per_article.get(h.article_id, 0) + 1
        article = sample_db.article(h.article_id)
        assert article.text[h.start:h.end] == h.text
        assert (h.title, h.published, h.source) == (article.title, article.published, article.source)
    assert max(per_article.values()) <= sample_db.settings.per_article
    assert len({h.chunk_id for h in hits}) == len(hits)
    assert "Valletta" in hits[0].title


def test_k_limits_results(sample_db: Communique) -> None:
    assert len(sample_db.search("Lumaro app", k=1)) == 1
    assert len(sample_db.search("Lumaro app", k=3)) == 3
    assert len(sample_db.search("Lumaro app")) == sample_db.settings.search_k


@pytest.mark.parametrize(
    ("filters", "allowed"),
    [
        (Filters(since=date(2026, 11, 9)), {date(2026, 11, 9)}),
        (Filters(until=date(2026, 10, 26)), {date(2026, 10, 26)}),
        (Filters(since=date(2026, 11, 1), until=date(2026, 11, 5)), {date(2026, 11, 2)}),
        (Filters(sources=["Geneva Wire"]), {date(2026, 11, 2)}),
        (Filters(sources=["Diplo Weekly"], since=date(2026, 11, 3)), {date(2026, 11, 9)}),
    ],
)
def test_filters_restrict_results(sample_db: Communique, filters: Filters, allowed: set[date]) -> None:
    unfiltered = sample_db.search("Valletta Accord", k=20)
    assert {h.published for h in unfiltered} - allowed  # the filter has something to remove
    hits = sample_db.search("Valletta Accord", k=20, filters=filters)
    assert hits
    assert {h.published for h in hits} <= allowed
    if filters.sources:
        assert {h.source for h in hits} <= set(filters.sources)
    assert any("Valletta" in h.title for h in hits)


def test_filter_with_no_match_returns_nothing(sample_db: Communique) -> None:
    assert sample_db.search("Valletta Accord", filters=Filters(since=date(2027, 1, 1))) == []
    assert sample_db.search("Valletta Accord", filters=Filters(sources=["Nobody"])) == []


def test_article_ids_filter(sample_db: Communique) -> None:
    ghana = sample_db.search("Ghana 5G auction")[0].article_id
    hits = sample_db.search("Valletta Accord", filters=Filters(article_ids=[ghana]))
    assert hits and {h.article_id for h in hits} == {ghana}


def test_keyword_only_search_without_embedder(sample_db: Communique) -> None:
    hits = hybrid_search(sample_db.store, None, "Graywater ransomware gang", k=5)
    assert hits and ("Graywater" in hits[0].text or "Graywater" in hits[0].title)
    # Its second chunk is of the same story, so it steps behind the next best of another story (demote_repeats).
    assert sum("Graywater" in h.text or "Graywater" in h.title for h in hits) >= 2


@pytest.mark.parametrize("query", ["", "   \n"])
def test_empty_query_is_bad_input(sample_db: Communique, query: str) -> None:
    with pytest.raises(BadInput):
        sample_db.search(query)


def test_overlong_query_is_bad_input(sample_db: Communique) -> None:
    with pytest.raises(BadInput) as exc:
        sample_db.search("x" * (sample_db.settings.max_question_chars + 1))
    assert exc.value.status == 400


def test_deleted_article_is_not_found(sample_copy: Communique) -> None:
    question = "How much money did Ghana raise in its first 5G spectrum auction?"
    ghana = sample_copy.search(question)[0]
    assert ghana.title.startswith("Ghana")
    sample_copy.delete(ghana.article_id)
    assert ghana.article_id not in {h.article_id for h in sample_copy.search(question, k=20)}
    vector = sample_copy.embedder.embed_query(question)
    assert ghana.article_id not in {h.article_id for h in sample_copy.store.search_vector(vector, 100)}
    assert sample_copy.stats().articles == 29


def test_an_article_waiting_for_its_vector_is_not_outranked_for_lack_of_it(sample_copy: Communique) -> None:
    question = "Ghana 5G spectrum auction"
    report = sample_copy.ingest_items([Item("wire", Article(
        title="Ghana 5G spectrum auction: a second round", published=date(2026, 11, 20),
        text="Ghana will hold a second 5G spectrum auction round in March for the unsold spectrum lots."))],
        embed=False)
    new_id = report.added[0]
    keyword = sample_copy.store.search_text(question, 5)
    assert keyword[0].article_id == new_id and keyword[0].pending
    assert not any(h.pending for h in keyword if h.article_id != new_id)
    # The old Ghana article is found by both searches; the new one only by keywords, where it ranks first.
    assert sample_copy.search(question, k=1)[0].article_id == new_id
    sample_copy.embed()
    assert not sample_copy.store.search_text(question, 5)[0].pending


def test_search_on_an_empty_store(make_service) -> None:
    svc = make_service()
    assert svc.search("Valletta Accord") == []
    assert svc.stats().articles == 0


def test_a_waiting_query_goes_before_the_next_passage_batch() -> None:
    """Background embedding must not hold readers up: passages wait while a query waits for the engine."""
    import threading

    from communique.embed.e5 import E5Embedder

    embedder = E5Embedder(threads=1)
    embedder.embed_query("warm up")
    done = threading.Event()
    embedder._queries_waiting = 1  # as if a reader were queued for the engine
    worker = threading.Thread(target=lambda: (embedder.embed_passages(["A chunk of news."]), done.set()))
    worker.start()
    assert not done.wait(0.3)  # the batch holds back
    embedder._queries_waiting = 0
    assert done.wait(30)
    worker.join()
    assert embedder._queries_waiting == 0 and embedder.embed_query("still works").shape == (384,)

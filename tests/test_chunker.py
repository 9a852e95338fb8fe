"""Chunking: whole sentences, exact offsets, bounded sizes, one article per chunk."""

from __future__ import annotations

from pathlib import Path

import pytest

from builders import STORIES
from communique.ingest import prepare
from communique.ingest.chunker import chunk_article
from communique.ingest.digest import parse_digest
from communique.models import Article
from communique.text import approx_tokens, sentence_spans


def sample_articles(sample_dir: Path) -> list[Article]:
    out = []
    for path in sorted(sample_dir.glob("digest-2026-*.txt")):
        out += [prepare(i.article) for i in parse_digest(path.read_text(encoding="utf-8"), str(path), path.stem)]
    return out


def check_chunks(article: Article, chunks, target: int) -> None:
    text = article.text
    assert chunks, "an article with text has at least one chunk"
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.article_id == article.id
        assert 0 <= c.start < c.end <= len(text)
        assert text[c.start:c.end] == c.text
        assert c.text == c.text.strip()
        assert approx_tokens(c.text) <= int(target * 1.4)
    for a, b in zip(chunks, chunks[1:], strict=False):  # in order, no overlap, nothing but spaces skipped
        assert a.end <= b.start
        assert text[a.end:b.start].strip() == ""
    assert text[: chunks[0].start].strip() == "" and text[chunks[-1].end:].strip() == ""


@pytest.mark.parametrize("target", [40, 80, 180, 400])
def test_sample_articles_chunk_exactly(sample_dir: Path, target: int) -> None:
    for article in sample_articles(sample_dir):
        check_chunks(article, chunk_article(article, target), target)


def test_chunks_end_on_sentence_boundaries(sample_dir: Path) -> None:
    for article in sample_articles(sample_dir)[:10]:
        ends = {b for _, b in sentence_spans(article.text)}
        starts = {a for a, _ in sentence_spans(article.text)}
        for c in chunk_article(article, 60):
            assert c.start in starts and c.end in ends


def test_chunks_never_cross_articles(sample_dir: Path) -> None:
    articles = sample_articles(sample_dir)
    assert len({a.id for a in articles}) == 30
    for article in articles:
        others = [o for o in articles if o.id != article.id]
        for c in chunk_article(article, 80):
            assert c.article_id == article.id
            assert c.text in article.text
            # The first sentence of the next article never rides along.
            assert not any(o.text[:60] in c.text for o in others)


def test_short_article_is_one_chunk() -> None:
    article = Article(title="T", text="One sentence only.", id="a1")
    [chunk] = chunk_article(article)
    assert (chunk.text, chunk.start, chunk.end, chunk.article_id) == ("One sentence only.", 0, 18, "a1")


def test_paragraph_break_is_preferred_once_big_enough() -> None:
    story = STORIES[0]
    article = Article(title=story.title, text=story.text, id="s")
    chunks = chunk_article(article, 70)
    assert len(chunks) > 1
    paragraph_starts = {article.text.index(p) for p in story.paragraphs}
    assert all(c.start in paragraph_starts for c in chunks)


def test_huge_single_sentence_is_split() -> None:
    words = [f"word{i}" for i in range(3000)]
    article = Article(title="Run-on", text=" ".join(words), id="r")
    chunks = chunk_article(article, 180)
    assert len(chunks) > 10
    check_chunks(article, chunks, 180)
    assert " ".join(c.text for c in chunks).split() == words  # nothing lost, nothing repeated


def test_huge_sentence_inside_normal_text_is_split() -> None:
    run_on = " ".join(f"item{i}," for i in range(1200)).rstrip(",") + "."
    text = "The table follows.\n\n" + run_on + "\n\nThat was the table. It ended there."
    article = Article(title="Table", text=text, id="t")
    chunks = chunk_article(article, 100)
    check_chunks(article, chunks, 100)
    assert chunks[0].text.startswith("The table follows.")
    assert chunks[-1].text.endswith("It ended there.")


def test_huge_sentence_of_figures_is_split_within_bounds() -> None:
    figures = " ".join(f"{i},{i * 3}.{i % 10}" for i in range(2000))
    article = Article(title="Figures", text=figures, id="f")
    chunks = chunk_article(article, 180)
    check_chunks(article, chunks, 180)

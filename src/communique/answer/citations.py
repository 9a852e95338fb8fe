"""Citations as data: numbered sources with exact quotes, and the one place `[n]` markers are made and read."""

from __future__ import annotations

import re

from communique.models import Article, Citation

MARKER = re.compile(r"\[(\d{1,3})\]")


def defuse(text: str) -> str:
    """Article text with its own "[1]" written "［1］" (full-width brackets, the same length): only the engine makes
    citation markers, so a marker in an article can neither cite nor become a live button in the chat page."""
    return MARKER.sub(lambda m: f"［{m.group(1)}］", text) if "[" in text else text


def marker(n: int) -> str:
    return f"[{n}]"


def markers_in(text: str) -> list[int]:
    return [int(m) for m in MARKER.findall(text)]


def strip_markers(text: str) -> str:
    return re.sub(r"\s*\[\d{1,3}\]", "", text)


class CitationBook:
    """Numbers sources in order of first use; one citation per article, quotes joined in article order."""

    def __init__(self) -> None:
        self._by_article: dict[str, Citation] = {}
        self._spans: dict[str, list[tuple[int, int]]] = {}
        self._articles: dict[str, Article] = {}

    def cite(self, article: Article, start: int, end: int) -> int:
        citation = self._by_article.get(article.id)
        if citation is None:
            citation = Citation(len(self._by_article) + 1, article.id, article.title, article.url,
                                article.published, "")
            self._by_article[article.id] = citation
            self._spans[article.id] = []
            self._articles[article.id] = article
        if (start, end) not in self._spans[article.id]:
            self._spans[article.id].append((start, end))
            spans = sorted(self._spans[article.id])
            text = article.text
            citation.quote = " … ".join(text[a:b].strip() for a, b in spans)
        return citation.n

    def spans(self, article_id: str) -> list[tuple[int, int]]:
        """The (start, end) offsets quoted from one article, in article order."""
        return sorted(self._spans.get(article_id, []))

    def quotes(self) -> list[tuple[Article, int, int]]:
        """Every quoted span, by citation number and then article order: (article, start, end)."""
        return [(self._articles[c.article_id], a, b) for c in self.citations() for a, b in self.spans(c.article_id)]

    def citations(self) -> list[Citation]:
        return sorted(self._by_article.values(), key=lambda c: c.n)

"""Briefings and timelines as Markdown an editor can paste into a newsletter: a heading per story, the
cited sentences with their [n] markers, and the numbered sources with links at the end.

Titles and sentences are article text, so Markdown's syntax characters in them are escaped: a hostile
title cannot become a link, an image or a heading. Only http(s) URLs are linked.
"""

from __future__ import annotations

import re

from communique.models import Citation
from communique.news.brief import Brief
from communique.news.timeline import Timeline

_SYNTAX = re.compile(r"([\\`*_\[\]{}()<>#+!|~])")


def md(text: str) -> str:
    """Article text as literal Markdown: syntax characters escaped, line breaks folded into spaces."""
    return _SYNTAX.sub(r"\\\1", " ".join(str(text).split()))


def _link(url: str | None) -> str | None:
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip().replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return None


def _cited(text: str, n: int) -> str:
    return f"{md(text)} [{n}]"  # the marker of answer/citations.py, left unescaped so it reads as a reference


def sources(citations: list[Citation]) -> list[str]:
    lines = ["## Sources", ""]
    for c in citations:
        url = _link(c.url)
        title = f"[{md(c.title)}]({url})" if url else md(c.title)
        lines.append(f"{c.n}. {title}, {c.published.isoformat() if c.published else 'undated'}")
    return lines


def brief_markdown(brief: Brief) -> str:
    about = f": {md(brief.topic)}" if brief.topic else ""
    lines = [f"# Briefing{about}", "", f"*{md(brief.heading())}*", ""]
    if not brief.stories:
        return "\n".join([*lines, "No articles in this period.", ""])
    for s in brief.stories:
        day = f" ({s.published.isoformat()})" if s.published else ""
        lines += [f"### {md(s.title)}{day}", "", " ".join(_cited(t, n) for t, n in s.sentences), ""]
    return "\n".join([*lines, *sources(brief.citations), ""])


def timeline_markdown(timeline: Timeline) -> str:
    lines = [f"# Timeline: {md(timeline.query)}", ""]
    if not timeline.stories:
        return "\n".join([*lines, "No dated events found.", ""])
    for s in timeline.stories:
        lines += [f"### {md(s.title)}", ""]
        for e in s.events:
            when = "undated" if e.day is None else e.day.isoformat() if e.exact else f"{e.day:%Y-%m}"
            lines.append(f"- **{when}**: {_cited(e.text, e.n)}")
        lines.append("")
    return "\n".join([*lines, *sources(timeline.citations), ""])

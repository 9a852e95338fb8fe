"""Server-rendered timeline and briefing pages: a small form, then the view itself, built on the server.

Titles, sentences and the Markdown come from article text, so every value passes through `esc` (or
`safe_url` for links), as in serve/pages.py. The Markdown sits in a read-only textarea to copy from.
"""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from communique.errors import BadInput
from communique.models import Citation
from communique.news.brief import Brief
from communique.news.markdown import brief_markdown
from communique.news.timeline import Timeline
from communique.serve.pages import PRODUCT, esc, layout, pretty_day, safe_url
from communique.serve.web import html

router = APIRouter(include_in_schema=False)


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"{name} must be a date like 2026-11-23, not {value[:40]!r}", param=name) from None


def _sources(citations: list[Citation]) -> str:
    items = []
    for c in citations:
        url = safe_url(c.url)
        title = f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(c.title)}</a>' if url else esc(c.title)
        items.append(f'<li id="source-{c.n}" value="{c.n}">{title} <span class="muted">'
                     f'{pretty_day(c.published)}</span> <a href="/articles/{esc(c.article_id)}">article</a></li>')
    return ('<section aria-labelledby="sources-heading"><h2 id="sources-heading" class="label">Sources</h2>'
            f'<ol class="news-sources">{"".join(items)}</ol></section>') if items else ""


def _cite(n: int) -> str:
    return f'<a class="cite" href="#source-{n}">[{n}]</a>'


def _form(action: str, fields: list[tuple[str, str, str, str]]) -> str:
    """A GET form: (name, label, type, value) per field."""
    inputs = "".join(
        f'<label class="visually-hidden" for="{action[1:]}-{name}">{label}</label>'
        f'<input id="{action[1:]}-{name}" name="{name}" type="{kind}" value="{esc(value)}" placeholder="{label}">'
        for name, label, kind, value in fields)
    return (f'<form class="search-row" action="{action}" method="get">{inputs}'
            '<button class="btn btn-primary" type="submit">Show</button></form>')


def error_page(message: str, back: str) -> str:
    main = (f'<main id="main" class="page-narrow not-found"><h1>Cannot show this</h1><p class="lede">{esc(message)}'
            f'</p><p><a class="btn btn-primary" href="{back}">Start again</a></p></main>')
    return layout(f"Bad request · {PRODUCT}", main, body_class="page-400", nav="")


def timeline_page(result: Timeline | None, q: str, since: str, until: str) -> str:
    form = _form("/timeline", [("q", "Subject, e.g. Valletta Accord", "search", q), ("since", "Since", "date", since),
                               ("until", "Until", "date", until)])
    body = ""
    if result is not None and not result.stories:
        body = f'<p class="empty">No dated events found for “{esc(result.query)}”.</p>'
    elif result is not None:
        blocks = []
        for s in result.stories:
            rows = "".join(
                f'<li><time datetime="{e.day.isoformat() if e.day else ""}">'
                f'{esc(e.day.isoformat() if e.day and e.exact else f"{e.day:%Y-%m}" if e.day else "Undated")}'
                f"</time> {esc(e.text)} {_cite(e.n)}</li>" for e in s.events)
            blocks.append(f'<section class="news-story"><h2>{esc(s.title)}</h2><ol class="news-events">{rows}</ol>'
                          "</section>")
        body = "".join(blocks) + _sources(result.citations)
    main = ('<main id="main" class="page-narrow"><div class="page-head"><h1>Timeline</h1>'
            '<p class="muted">What happened, in date order, grouped by story; every line cites its article</p>'
            f"</div>{form}{body}</main>")
    return layout(f"Timeline · {PRODUCT}", main, body_class="page-timeline", nav="timeline")


def brief_page(result: Brief, topic: str, since: str, until: str) -> str:
    form = _form("/brief", [("topic", "Topic (optional)", "search", topic), ("since", "Since", "date", since),
                            ("until", "Until", "date", until)])
    if result.stories:
        items = "".join(
            f'<li class="news-story"><h2>{esc(s.title)}</h2><p class="muted">{pretty_day(s.published)}'
            f'{" · " + esc(", ".join(s.sources)) if s.sources else ""}</p><p>'
            + " ".join(f"{esc(t)} {_cite(n)}" for t, n in s.sentences) + "</p></li>"
            for s in result.stories)
        note = f'<p class="note">{esc(result.note)}</p>' if result.note else ""
        body = (f'{note}<p class="muted">{esc(result.heading())}</p><ol class="news-brief">{items}</ol>'
                + _sources(result.citations)
                + '<section aria-labelledby="md-heading"><h2 id="md-heading" class="label">Markdown, to paste into a '
                  f'newsletter</h2><textarea class="news-markdown" readonly rows="12">{esc(brief_markdown(result))}'
                  "</textarea></section>")
    else:
        body = f'<p class="empty">No articles{" on " + esc(result.topic) if result.topic else ""} from ' \
               f"{result.since} to {result.until}.</p>"
    main = ('<main id="main" class="page-narrow"><div class="page-head"><h1>Briefing</h1>'
            '<p class="muted">Every story of the period, newest first, in one or two cited sentences</p>'
            f"</div>{form}{body}</main>")
    return layout(f"Briefing · {PRODUCT}", main, body_class="page-brief", nav="brief")


@router.get("/timeline", response_class=HTMLResponse)
def timeline(request: Request, q: str = "", since: str = "", until: str = ""):
    service = request.app.state.service
    try:
        result = service.timeline(q, _day(since, "since"), _day(until, "until")) if q.strip() else None
    except BadInput as exc:
        return html(error_page(str(exc), "/timeline"), 400)
    return html(timeline_page(result, q, since, until))


@router.get("/brief", response_class=HTMLResponse)
def brief(request: Request, topic: str = "", since: str = "", until: str = ""):
    service = request.app.state.service
    try:
        result = service.brief(topic or None, _day(since, "since"), _day(until, "until"))
    except BadInput as exc:
        return html(error_page(str(exc), "/brief"), 400)
    return html(brief_page(result, topic, since, until))

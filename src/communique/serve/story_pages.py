"""The server-rendered story page: a story's reports in date order, and the figures revised between them side by
side. Titles, sources, URLs and quoted sentences come from articles, so every value passes through `esc` (or
`safe_url` for links), as in serve/pages.py.
"""

from __future__ import annotations

from communique.serve.pages import PRODUCT, esc, layout, pretty_day, safe_url
from communique.store.stories import StoryArticle, StoryDetail, StoryPage
from communique.stories.changes import Figure, Revision

LABELS = {"MONEY": "Amount", "PERCENT": "Percentage", "QUANTITY": "Quantity", "CARDINAL": "Number"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _day(d) -> str:
    return f'<time datetime="{d.isoformat()}">{pretty_day(d)}</time>' if d else "<span>Undated</span>"


def _report(a: StoryArticle) -> str:
    meta = [f'<span class="source">{esc(a.source)}</span>'] if a.source else []
    link = safe_url(a.url)
    if link:
        meta.append(f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer">Original ↗</a>')
    copies = [f'<a href="{esc(safe_url(c.url))}" target="_blank" rel="noopener noreferrer">{esc(c.source or c.url)}</a>'
              if safe_url(c.url) else esc(c.source or c.url) for c in a.copies]
    if copies:
        meta.append("also published by " + ", ".join(copies))
    return (f'<li class="entity-article story-report"><span class="entity-article-date muted">{_day(a.published)}'
            f'</span><div><a class="entity-article-title" href="/articles/{esc(a.id)}">{esc(a.title)}</a>'
            f'<p class="entity-article-meta muted">{" · ".join(meta)}</p></div></li>')


def _figure(f: Figure) -> str:
    who = f" · {esc(f.source)}" if f.source else ""
    return (f'<td><strong class="story-figure">{esc(f.text)}</strong>'
            f'<p class="muted story-when">{_day(f.published)}{who}</p>'
            f'<p class="story-sentence">{esc(f.sentence)}</p></td>')


def _revision(r: Revision) -> str:
    return f'<tr><th scope="row">{esc(LABELS.get(r.label, r.label))}</th>{_figure(r.before)}{_figure(r.after)}</tr>'


def story_page(detail: StoryDetail) -> str:
    s = detail.story
    reports = "".join(_report(a) for a in detail.articles)
    if detail.changes:
        rows = "".join(_revision(r) for r in detail.changes)
        changes = ('<table class="story-changes"><thead><tr><th scope="col">Figure</th><th scope="col">Before</th>'
                   f'<th scope="col">After</th></tr></thead><tbody>{rows}</tbody></table>')
    else:
        changes = '<p class="muted">No figure changed between the reports.</p>'
    span = (f"{pretty_day(s.first_published)} – {pretty_day(s.last_published)}"
            if s.first_published and s.last_published and s.first_published != s.last_published
            else pretty_day(s.first_published))
    main = (
        '<main id="main" class="page-narrow story-page">'
        '<nav class="crumbs" aria-label="Breadcrumb"><a href="/articles">← All articles</a></nav>'
        f'<div class="page-head"><h1 class="entity-title">{esc(s.title)}</h1>'
        f'<p class="article-meta"><span>{_plural(s.articles, "report")}</span><span class="dot" aria-hidden="true">·'
        f'</span><span>reported by {_plural(s.reported_by, "source")}</span><span class="dot" aria-hidden="true">·'
        f'</span><span>{esc(span)}</span></p></div>'
        f'<section aria-labelledby="changes-heading"><h2 id="changes-heading" class="label">What changed</h2>'
        f"{changes}</section>"
        f'<section aria-labelledby="reports-heading"><h2 id="reports-heading" class="label">Reports, oldest first</h2>'
        f'<ol class="entity-articles">{reports}</ol></section></main>'
    )
    return layout(f"{s.title} · {PRODUCT}", main, body_class="page-story", nav="articles")


def stories_page(result: StoryPage) -> str:
    """Every story told by several reports, the one reported last first, each with its span of days and reach."""
    from communique.serve.entity_pages import _pager

    def item(s) -> str:
        span = (f"{pretty_day(s.first_published)} – {pretty_day(s.last_published)}"
                if s.first_published and s.last_published and s.first_published != s.last_published
                else (pretty_day(s.first_published) if s.first_published else "Undated"))
        return (f'<li class="entity-row"><a class="entity-name" href="/stories/{s.id}">{esc(s.title)}</a>'
                f'<span class="muted entity-counts">{_plural(s.articles, "report")} · '
                f'{_plural(s.reported_by, "source")} · {esc(span)}</span></li>')

    items = "".join(item(s) for s in result.stories) or (
        '<li class="empty">No story has been told more than once yet.</li>')
    pages = max(1, -(-result.total // result.page_size))
    pager = _pager("/stories", {}, result.page, result.page < pages, ("← Previous", "Next →"),
                   f"Page {result.page} of {pages}")
    main = (
        '<main id="main" class="page-narrow"><div class="page-head"><h1>Stories</h1>'
        f'<p class="muted">{result.total} {"story" if result.total == 1 else "stories"} told by several reports, '
        'the latest first</p></div>'
        f'<ul class="entity-list">{items}</ul><nav class="pager" aria-label="Pages">{pager}</nav></main>'
    )
    return layout(f"Stories · {PRODUCT}", main, body_class="page-stories", nav="stories")

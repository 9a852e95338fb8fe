"""Server-rendered entity pages: the list with its search, and one page per entity with its timeline chart.

Entity names and spellings come from article text, so they are as untrusted as titles: every value passes
through `esc` (or `safe_url` for links), as in serve/pages.py.
"""

from __future__ import annotations

from urllib.parse import urlencode

from communique.entities import TYPES
from communique.serve.chart import weekly_svg
from communique.serve.pages import PRODUCT, esc, layout, pretty_day, safe_url
from communique.store.entities import Entity, EntityArticle, EntityDetail, EntityPage

TYPE_LABELS = {"country": "Country", "gpe": "Place", "org": "Organisation", "person": "Person"}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def type_badge(kind: str) -> str:
    return f'<span class="entity-type entity-type--{esc(kind)}">{esc(TYPE_LABELS.get(kind, kind))}</span>'


def entity_chip(e: Entity, extra: str = "") -> str:
    """A link to an entity's page, named and typed."""
    return (f'<a class="entity-chip entity-chip--{esc(e.type)}" href="/entities/{e.id}" '
            f'title="{esc(TYPE_LABELS.get(e.type, e.type))}">{esc(e.name)}{extra}</a>')


def entity_links(entities: list[Entity]) -> str:
    """'Named in this article': the article page's links to the entities it names (nothing when none)."""
    if not entities:
        return ""
    chips = "".join(entity_chip(e) for e in entities)
    return (f'<section class="entity-links" aria-labelledby="named-heading"><h2 id="named-heading" class="label">'
            f'Named in this article</h2><div class="entity-chips">{chips}</div></section>')


def _pager(base: str, params: dict, page: int, has_next: bool, labels: tuple[str, str], summary: str) -> str:
    def link(p: int, label: str, rel: str) -> str:
        query = urlencode({k: v for k, v in {**params, "page": p}.items() if v})
        return f'<a class="btn btn-ghost" rel="{rel}" href="{base}?{esc(query)}">{label}</a>'

    return "".join([
        link(page - 1, labels[0], "prev") if page > 1 else "<span></span>",
        f'<span class="muted">{summary}</span>',
        link(page + 1, labels[1], "next") if has_next else "<span></span>",
    ])


def error_page(message: str) -> str:
    """A request the entity pages cannot answer (a bad type or page): what was wrong, and the way back."""
    main = (
        '<main id="main" class="page-narrow not-found"><h1>Cannot show this</h1>'
        f'<p class="lede">{esc(message)}</p><p><a class="btn btn-primary" href="/entities">All entities</a></p></main>'
    )
    return layout(f"Bad request · {PRODUCT}", main, body_class="page-400", nav="entities")


def entities_page(result: EntityPage, q: str | None, kind: str | None) -> str:
    items = "".join(
        f'<li class="entity-row"><a class="entity-name" href="/entities/{e.id}">{esc(e.name)}</a>'
        f'{type_badge(e.type)}<span class="muted entity-counts">{_plural(e.articles, "article")} · '
        f'{_plural(e.mentions, "mention")}</span></li>'
        for e in result.entities
    ) or '<li class="empty">No entities match. Try another name.</li>'
    pages = max(1, -(-result.total // result.page_size))
    pager = _pager("/entities", {"q": q, "type": kind}, result.page, result.page < pages,
                   ("← Previous", "Next →"), f"Page {result.page} of {pages}")
    options = "".join(f'<option value="{t}"{" selected" if t == kind else ""}>{TYPE_LABELS[t]}</option>'
                      for t in TYPES)
    n = result.total
    found = f"{n} {'entity' if n == 1 else 'entities'}" + (f" matching “{esc(q)}”" if q else "")
    main = (
        '<main id="main" class="page-narrow"><div class="page-head"><h1>Entities</h1>'
        f'<p class="muted">{found} · countries, places, organisations and people, most written about first</p>'
        '</div><form class="search-row" action="/entities" method="get" role="search">'
        '<label class="visually-hidden" for="entity-q">Search entities</label>'
        f'<input id="entity-q" name="q" type="search" value="{esc(q or "")}" placeholder="A name, e.g. Vietnam">'
        '<label class="visually-hidden" for="entity-type">Type</label>'
        f'<select id="entity-type" name="type"><option value="">All types</option>{options}</select>'
        '<button class="btn btn-primary" type="submit">Search</button></form>'
        f'<ul class="entity-list">{items}</ul><nav class="pager" aria-label="Pages">{pager}</nav></main>'
    )
    return layout(f"Entities · {PRODUCT}", main, body_class="page-entities", nav="entities")


def _article_item(a: EntityArticle) -> str:
    day = (f'<time datetime="{a.published.isoformat()}">{pretty_day(a.published)}</time>' if a.published
           else "<span>Undated</span>")
    meta = [f'<span class="source">{esc(a.source)}</span>'] if a.source else []
    meta.append(_plural(a.mentions, "mention"))
    link = safe_url(a.url)
    if link:
        meta.append(f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer">Original ↗</a>')
    return (f'<li class="entity-article"><span class="entity-article-date muted">{day}</span>'
            f'<div><a class="entity-article-title" href="/articles/{esc(a.id)}">{esc(a.title)}</a>'
            f'<p class="entity-article-meta muted">{" · ".join(meta)}</p></div></li>')


def entity_page(detail: EntityDetail, newest_first: bool = False) -> str:
    e = detail.entity
    others = [a for a, _ in detail.aliases if a != e.name]
    aliases = (f'<p class="muted entity-aliases">Also written: {esc(", ".join(others))}</p>' if others else "")
    articles = "".join(_article_item(a) for a in detail.articles) or '<li class="empty">No articles on this page.</li>'
    pages = max(1, -(-e.articles // detail.page_size))
    order = "newest" if newest_first else None
    pager = _pager(f"/entities/{e.id}", {"order": order}, detail.page, detail.page < pages,
                   ("← Previous", "Next →"), f"Page {detail.page} of {pages}")
    flip = "oldest first" if newest_first else "newest first"
    flip_href = f"/entities/{e.id}" + ("" if newest_first else "?order=newest")
    related = "".join(entity_chip(r.entity, f' <span class="muted">{r.shared}</span>') for r in detail.related)
    related_html = (f'<div class="entity-chips">{related}</div>' if related
                    else '<p class="muted">No other entity is named in its articles.</p>')
    main = (
        '<main id="main" class="page-narrow entity-page">'
        '<nav class="crumbs" aria-label="Breadcrumb"><a href="/entities">← All entities</a></nav>'
        f'<div class="page-head"><h1 class="entity-title">{esc(e.name)}</h1>'
        f'<p class="article-meta">{type_badge(e.type)}<span>{_plural(e.articles, "article")}</span>'
        f'<span class="dot" aria-hidden="true">·</span><span>{_plural(e.mentions, "mention")}</span></p>'
        f"{aliases}</div>"
        f'<section aria-labelledby="chart-heading"><h2 id="chart-heading" class="label">Mentions per week</h2>'
        f"{weekly_svg(detail.weeks)}</section>"
        f'<section aria-labelledby="named-with-heading"><h2 id="named-with-heading" class="label">Named with</h2>'
        f"{related_html}</section>"
        f'<section aria-labelledby="articles-heading"><h2 id="articles-heading" class="label">Articles, '
        f'{"newest" if newest_first else "oldest"} first <a class="entity-order" href="{flip_href}">({flip})</a>'
        f'</h2><ol class="entity-articles">{articles}</ol><nav class="pager" aria-label="Pages">{pager}</nav>'
        "</section></main>"
    )
    return layout(f"{e.name} · {PRODUCT}", main, body_class="page-entity", nav="entities")

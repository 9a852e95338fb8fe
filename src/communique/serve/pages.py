"""Server-rendered HTML of the web UI. Article titles and text are untrusted: every value that goes into
the markup passes through `esc` (or `safe_url` for links), never raw.

The pages are small shells: the chat itself is static/app.js talking to /api/ask.
"""

from __future__ import annotations

from datetime import date
from html import escape
from urllib.parse import urlencode

from communique.models import Article

PRODUCT = "Communique"


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def safe_url(url: str | None) -> str | None:
    """Only http(s) links from article data; a `javascript:` URL is dropped, not escaped into a link."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def pretty_day(day: date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else "Undated"


ICON_LOGO = (
    '<svg class="logo" viewBox="0 0 32 32" aria-hidden="true" focusable="false">'
    '<rect x="2" y="2" width="28" height="28" rx="8" class="logo-bg"/>'
    '<path d="M9 11.5h14M9 16h14M9 20.5h8" class="logo-lines"/>'
    '<circle cx="22.5" cy="21.5" r="3.2" class="logo-dot"/></svg>'
)
ICON_THEME = (
    '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" class="icon">'
    '<path class="icon-moon" d="M20 14.5A8 8 0 0 1 9.5 4a8 8 0 1 0 10.5 10.5Z"/>'
    '<g class="icon-sun"><circle cx="12" cy="12" r="4"/><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 '
    '1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4"/></g></svg>'
)
ICON_PLUS = ('<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" class="icon">'
             '<path d="M12 5v14M5 12h14"/></svg>')
ICON_SEND = ('<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" class="icon">'
             '<path d="M12 19V5M5.5 11.5 12 5l6.5 6.5"/></svg>')


def layout(title: str, main: str, *, body_class: str = "", actions: str = "", nav: str = "ask",
           topbar: bool = True) -> str:
    links = [("ask", "/", "Ask"), ("articles", "/articles", "Articles"), ("entities", "/entities", "Entities"),
             ("stories", "/stories", "Stories"), ("timeline", "/timeline", "Timeline"), ("brief", "/brief", "Briefing")]
    current = ' aria-current="page"'
    nav_html = "".join(
        f'<a href="{href}"{current if key == nav else ""}>{label}</a>' for key, href, label in links
    )
    header = (
        '<header class="topbar"><div class="topbar-inner">'
        f'<a class="brand" href="/">{ICON_LOGO}<span>{PRODUCT}</span></a>'
        f'<nav class="topnav" aria-label="Main">{nav_html}</nav>'
        f'<div class="top-actions">{actions}'
        '<button type="button" class="icon-btn" data-theme-toggle aria-label="Toggle dark mode" '
        f'title="Toggle dark mode">{ICON_THEME}</button></div>'
        '</div></header>'
    ) if topbar else ""
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{esc(title)}</title>"
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
        '<link rel="stylesheet" href="/static/app.css">'
        '<script src="/static/theme.js"></script>'
        '<script src="/static/app.js" defer></script>'
        f'</head><body class="{esc(body_class)}">'
        '<a class="skip-link" href="#main">Skip to content</a>'
        f'{header}{main}</body></html>'
    )


def chat_component(max_chars: int, *, article: Article | None = None, placeholder: str = "Ask about the news…",
                   welcome: str = "", uid: str = "main") -> str:
    scope = f' data-article="{esc(article.id)}"' if article else ""
    return (
        f'<section class="chat{" chat--scoped" if article else ""}" data-chat{scope} aria-label="Chat">'
        f'<div class="chat-log" role="log" aria-live="polite" aria-label="Conversation">{welcome}</div>'
        '<form class="composer" data-composer>'
        f'<label class="visually-hidden" for="question-{uid}">Your question</label>'
        f'<textarea id="question-{uid}" name="question" rows="1" maxlength="{max_chars}" '
        f'placeholder="{esc(placeholder)}" autocomplete="off" enterkeyhint="send" required></textarea>'
        f'<button type="submit" class="send-btn" aria-label="Send question">{ICON_SEND}</button>'
        "</form></section>"
    )


def _chips(questions: list[str], label: str) -> str:
    chips = "".join(f'<button type="button" class="chip" data-ask="{esc(q)}">{esc(q)}</button>' for q in questions)
    return f'<div class="suggestions" role="group" aria-label="{esc(label)}">{chips}</div>' if chips else ""


def chat_page(recent: list[Article], total: int, max_chars: int) -> str:
    suggestions = ["What happened this week?", *(about(a) for a in recent[:2])] if recent else []
    welcome = (
        '<div class="welcome" data-welcome>'
        '<h1>What would you like to know?</h1>'
        f'<p class="lede">Ask about the news in this archive of {total} article{"" if total == 1 else "s"}. '
        "Every answer cites the articles it comes from — and says so when they don’t have the answer.</p>"
        f'{_chips(suggestions, "Suggested questions")}'
        "</div>"
    )
    actions = (f'<button type="button" class="btn btn-ghost" data-new-chat aria-label="New chat">{ICON_PLUS}'
               '<span>New chat</span></button>')
    main = f'<main id="main" class="chat-main">{chat_component(max_chars, welcome=welcome)}</main>'
    return layout(f"{PRODUCT} — ask the news", main, body_class="page-chat", actions=actions)


def _meta(article: Article) -> str:
    parts = []
    if article.source:
        parts.append(f'<span class="source">{esc(article.source)}</span>')
    day = article.published
    parts.append(f'<time datetime="{day.isoformat()}">{pretty_day(day)}</time>' if day else "<span>Undated</span>")
    link = safe_url(article.url)
    if link:
        parts.append(f'<a href="{esc(link)}" target="_blank" rel="noopener noreferrer">Original article ↗</a>')
    return '<p class="article-meta">' + '<span class="dot" aria-hidden="true">·</span>'.join(parts) + "</p>"


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{esc(p.strip())}</p>" for p in text.split("\n\n") if p.strip())


def about(article: Article) -> str:
    """A starter question the answer engine handles for any article (its own follow-ups use this form)."""
    return f"Tell me about “{article.title}”"


def article_page(article: Article, max_chars: int, named: str = "") -> str:
    """`named`: the links to the entities it names (serve/entity_pages.entity_links), already escaped."""
    welcome = (
        '<div class="welcome welcome--small" data-welcome><p class="lede">Answers come only from this article, '
        "with the sentence they rely on.</p>"
        f'{_chips([about(article)], "Suggested questions")}</div>'
    )
    chat = chat_component(max_chars, article=article, placeholder="Ask about this article…", welcome=welcome,
                          uid="article")
    main = (
        '<main id="main" class="article-layout">'
        '<article class="article"><nav class="crumbs" aria-label="Breadcrumb"><a href="/articles">← All articles</a>'
        f'</nav><h1 class="article-title">{esc(article.title)}</h1>{_meta(article)}{named}'
        f'<div class="article-body">{_paragraphs(article.text)}</div></article>'
        '<aside class="ask-article" aria-labelledby="ask-heading">'
        '<h2 id="ask-heading">Ask about this article</h2>'
        f"{chat}"
        "</aside></main>"
    )
    return layout(f"{article.title} · {PRODUCT}", main, body_class="page-article", nav="articles")


def articles_page(articles: list[Article], total: int, page: int, page_size: int, q: str | None) -> str:
    items = []
    for a in articles:
        excerpt = " ".join(a.text.split())
        excerpt = excerpt[:220].rsplit(" ", 1)[0] + "…" if len(excerpt) > 220 else excerpt
        items.append(
            f'<li class="article-card"><h2><a href="/articles/{esc(a.id)}">{esc(a.title)}</a></h2>'
            f'{_meta(a)}<p class="excerpt">{esc(excerpt)}</p></li>'
        )
    pages = max(1, -(-total // page_size))

    def link(p: int, label: str, rel: str) -> str:
        query = urlencode({k: v for k, v in (("q", q), ("page", p)) if v})
        return f'<a class="btn btn-ghost" rel="{rel}" href="/articles?{esc(query)}">{label}</a>'

    pager = "".join([
        link(page - 1, "← Newer", "prev") if page > 1 else "<span></span>",
        f'<span class="muted">Page {page} of {pages}</span>',
        link(page + 1, "Older →", "next") if page < pages else "<span></span>",
    ])
    found = f"{total} article{'' if total == 1 else 's'}" + (f" matching “{esc(q)}”" if q else "")
    body = "".join(items) or '<li class="empty">No articles match. Try another word.</li>'
    main = (
        '<main id="main" class="page-narrow"><div class="page-head"><h1>Articles</h1>'
        f'<p class="muted">{found} · newest first</p></div>'
        '<form class="search-row" action="/articles" method="get" role="search">'
        '<label class="visually-hidden" for="article-q">Search articles</label>'
        f'<input id="article-q" name="q" type="search" value="{esc(q or "")}" placeholder="Search titles and text">'
        '<button class="btn btn-primary" type="submit">Search</button></form>'
        f'<ul class="article-list">{body}</ul><nav class="pager" aria-label="Pages">{pager}</nav></main>'
    )
    return layout(f"Articles · {PRODUCT}", main, body_class="page-articles", nav="articles")


def embed_page(article: Article, max_chars: int) -> str:
    welcome = (
        '<div class="welcome welcome--small" data-welcome>'
        f'{_chips([about(article)], "Suggested questions")}</div>'
    )
    chat = chat_component(max_chars, article=article, placeholder="Ask a question…", welcome=welcome, uid="embed")
    main = (
        '<main id="main" class="embed-layout">'
        '<header class="embed-head"><p class="eyebrow">Ask about this article</p>'
        f'<p class="embed-title">{esc(article.title)}</p></header>'
        f"{chat}"
        f'<p class="embed-foot">Answers by {PRODUCT}, from this article only.</p></main>'
    )
    return layout(f"Ask about: {article.title}", main, body_class="page-embed", topbar=False)


def widget_demo_page(article: Article, base_url: str) -> str:
    tag = f'<script src="{base_url}widget.js" data-article="{article.id}"></script>'
    main = (
        '<header class="demo-masthead"><div class="demo-inner"><span class="demo-name">The Example Herald</span>'
        '<span class="demo-note">Demo page for the Communique article widget</span></div></header>'
        '<main id="main" class="demo-article demo-inner">'
        f'<p class="eyebrow">Technology · Diplomacy</p><h1 class="article-title">{esc(article.title)}</h1>'
        f'{_meta(article)}<div class="article-body">{_paragraphs(article.text)}</div>'
        f'<script src="/widget.js" data-article="{esc(article.id)}"></script>'
        '<section class="demo-snippet"><h2>Add this to your own pages</h2>'
        "<p>Paste one line under each article; the widget opens a chat that answers from that article only.</p>"
        f"<pre><code>{esc(tag)}</code></pre></section></main>"
    )
    return layout(f"{article.title} · The Example Herald", main, body_class="page-demo", topbar=False)


def not_found_page(message: str) -> str:
    main = (
        '<main id="main" class="page-narrow not-found"><h1>Not found</h1>'
        f'<p class="lede">{esc(message)}</p><p><a class="btn btn-primary" href="/articles">Browse the articles</a> '
        '<a class="btn btn-ghost" href="/">Ask a question</a></p></main>'
    )
    return layout(f"Not found · {PRODUCT}", main, body_class="page-404", nav="")

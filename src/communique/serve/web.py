"""The web UI: the chat page, article, entity and story pages, the embeddable widget and its iframe, and static assets.

Every asset is served from serve/static/ (no CDN, no web font). HTML pages carry a strict
Content-Security-Policy: scripts and styles from this origin only, so untrusted article text can
never run, even if a bug let it into the markup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from communique.errors import BadInput, NotFound
from communique.serve import entity_pages, pages, story_pages
from communique.service import Communique

STATIC = Path(__file__).parent / "static"
router = APIRouter(include_in_schema=False)


def _csp(frame_ancestors: str) -> str:
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            f"frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            f"frame-ancestors {frame_ancestors}")


def html(body: str, status: int = 200, embeddable: bool = False) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={
        "Content-Security-Policy": _csp("*" if embeddable else "'self'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    })


def _service(request: Request) -> Communique:
    return request.app.state.service


@router.get("/", response_class=HTMLResponse)
def chat(request: Request):
    service = _service(request)
    recent = service.articles(page=1, page_size=3)
    return html(pages.chat_page(recent.articles, recent.total, service.settings.max_question_chars))


@router.get("/articles", response_class=HTMLResponse)
def articles(request: Request, q: str | None = None, page: Annotated[int, Query(ge=1)] = 1):
    result = _service(request).articles(q, None, page, 20)
    return html(pages.articles_page(result.articles, result.total, result.page, result.page_size, q))


@router.get("/articles/{article_id}", response_class=HTMLResponse)
def article(request: Request, article_id: str):
    service = _service(request)
    try:
        found = service.article(article_id)
    except NotFound as exc:
        return html(pages.not_found_page(str(exc)), 404)
    try:
        named = entity_pages.entity_links(service.article_entities(article_id))
    except BadInput:  # a store without an entity index
        named = ""
    return html(pages.article_page(found, service.settings.max_question_chars, named + _story_link(service, found)))


def _story_link(service, article) -> str:
    """"Part of a story told in N reports": the way from one report to the others, where there are others."""
    try:
        index = service.story_index
    except BadInput:  # a store without stories
        return ""
    ref = index.of_articles([article.id]).get(article.id)
    story = index.get(ref[0]) if ref else None
    if story is None or story.articles < 2:
        return ""
    return (f'<p class="story-link"><a href="/stories/{story.id}">One of {story.articles} reports of this story'
            f'{f", from {story.reported_by} sources" if story.reported_by > 1 else ""} →</a></p>')


@router.get("/entities", response_class=HTMLResponse)
def entities(request: Request, q: str | None = None, kind: Annotated[str | None, Query(alias="type")] = None,
             page: Annotated[int, Query(ge=1)] = 1):
    kind = kind or None  # the form's "All types" sends an empty type
    try:
        result = _service(request).entities(q, kind, page, 30)
    except BadInput as exc:
        return html(entity_pages.error_page(str(exc)), 400)
    return html(entity_pages.entities_page(result, q, kind))


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
def entity(request: Request, entity_id: int, page: Annotated[int, Query(ge=1)] = 1, order: str = "oldest"):
    try:
        detail = _service(request).entity(entity_id, page, 50, newest_first=order == "newest")
    except NotFound as exc:
        return html(pages.not_found_page(str(exc)), 404)
    except BadInput as exc:
        return html(entity_pages.error_page(str(exc)), 400)
    return html(entity_pages.entity_page(detail, newest_first=order == "newest"))


@router.get("/stories", response_class=HTMLResponse)
def stories(request: Request, page: Annotated[int, Query(ge=1)] = 1):
    try:
        result = _service(request).stories(page, 30)
    except BadInput as exc:  # a page out of range, or a store that keeps no stories
        return html(entity_pages.error_page(str(exc)), 400)
    return html(story_pages.stories_page(result))


@router.get("/stories/{story_id}", response_class=HTMLResponse)
def story(request: Request, story_id: int):
    try:
        detail = _service(request).story(story_id)
    except NotFound as exc:
        return html(pages.not_found_page(str(exc)), 404)
    except BadInput as exc:  # a store that keeps no stories
        return html(entity_pages.error_page(str(exc)), 400)
    return html(story_pages.story_page(detail))


@router.get("/embed", response_class=HTMLResponse)
def embed(request: Request, article: str = ""):
    """The page the widget opens in its iframe: a chat scoped to one article. Any site may frame it."""
    service = _service(request)
    try:
        found = service.article(article)
    except NotFound as exc:
        return html(pages.not_found_page(str(exc)), 404, embeddable=True)
    return html(pages.embed_page(found, service.settings.max_question_chars), embeddable=True)


@router.get("/widget-demo", response_class=HTMLResponse)
def widget_demo(request: Request, article: str | None = None):
    service = _service(request)
    try:
        if article:
            found = service.article(article)
        else:
            newest = service.articles(page=1, page_size=1).articles
            if not newest:
                raise NotFound("there are no articles yet: ingest some first")
            found = newest[0]
    except NotFound as exc:
        return html(pages.not_found_page(str(exc)), 404)
    return html(pages.widget_demo_page(found, str(request.base_url)))


@router.get("/widget.js")
def widget_js():
    return FileResponse(STATIC / "widget.js", media_type="text/javascript",
                        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

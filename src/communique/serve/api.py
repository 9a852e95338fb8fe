"""The HTTP API: `create_app(service)` builds the FastAPI app; each route is a thin shell over one method
of `communique.service.Communique`.

    POST /api/ask               answer with citations (JSON, or SSE with Accept: text/event-stream)
    GET  /api/search            hybrid search results
    GET  /api/articles          list and filter articles;  GET /api/articles/{id}: one article
    GET  /api/entities          search the entity index;   GET /api/entities/{id}: one entity over time
    GET  /api/timeline, POST /api/brief   timelines and briefings (serve/news_api.py)
    GET  /api/stories           stories told more than once, the one reported last first
    GET  /api/stories/{id}      one story: its reports in date order and the figures revised between them
    POST /api/ingest            add articles (JSON, a feed URL, or an uploaded digest); needs the admin key
                                (the feeds of `watch_feeds` are polled in the background: serve/feeds.py)
    GET  /health, /metrics      readiness and Prometheus metrics
    /v1/...                     OpenAI-compatible endpoint (serve/openai_compat.py)
    /, /articles/..., /embed, /widget.js, /static/...   the web UI (serve/web.py)
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import ValidationError

from communique.answer.events import AnswerEvent
from communique.errors import BadInput, Forbidden, PayloadTooLarge, Unauthorized, Unprocessable
from communique.ingest import IngestReport, ReadOptions
from communique.ingest.items import Item
from communique.ingest.sources import read_bytes
from communique.models import Article
from communique.serve import middleware
from communique.serve.answer_pool import AnswerPool
from communique.serve.embedding import EmbedWorker
from communique.serve.feeds import FeedPoller
from communique.serve.guard import Guard, answerer_for
from communique.serve.metrics import CONTENT_TYPE, Metrics
from communique.serve.schemas import (
    ERROR_RESPONSES,
    AnswerOut,
    ArticleIn,
    ArticleList,
    ArticleOut,
    AskRequest,
    EntityDetailOut,
    EntityList,
    EntityType,
    ErrorOut,
    HealthOut,
    IngestOut,
    SearchOut,
    StoryDetailOut,
    StoryList,
    make_filters,
)
from communique.serve.streaming import CLIENT_GONE, SSE_HEADERS, error_payload, in_thread, last_answer, sse
from communique.service import Communique

log = logging.getLogger("communique.serve")
router = APIRouter()


class WarmUp:
    """Loads the store, the embedder, the vector index, spaCy and the answer models in the background; /health
    waits for it. Then `on_ready` runs (the embedding worker resumes what an interrupted run left)."""

    def __init__(self, service: Communique, on_ready: Callable[[], None] | None = None,
                 answer_pool: AnswerPool | None = None) -> None:
        self.service, self.on_ready, self.answer_pool = service, on_ready, answer_pool
        self.ready = threading.Event()
        self.error: str | None = None
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            threading.Thread(target=self.run, name="communique-warm-up", daemon=True).start()

    def run(self) -> None:
        try:
            self.service.warm_up()  # a real search and answer load everything the first reader would wait for
            if self.answer_pool is not None:
                self.answer_pool.start()
        except Exception as exc:
            log.exception("warm-up failed")
            self.error = f"warm-up failed: {exc}"
        else:
            self.ready.set()
            if self.on_ready:
                self.on_ready()


def service_of(request: Request) -> Communique:
    return request.app.state.service


def metrics_of(request: Request) -> Metrics:
    return request.app.state.metrics


Service = Annotated[Communique, Depends(service_of)]
Source = Annotated[list[str] | None, Query(description="Only this source (repeatable).")]


# -- ask --------------------------------------------------------------------------------------------------
def _frame(event: AnswerEvent) -> tuple[str, dict]:
    if event.kind == "sources":
        return "sources", {"sources": event.data}
    if event.kind == "delta":
        return "delta", {"text": event.data}
    return event.kind, event.data.to_dict()


@router.post(
    "/api/ask", response_model=AnswerOut, responses=ERROR_RESPONSES | {413: {"model": ErrorOut}},
    summary="Answer a question from the articles, with citations",
    description="JSON by default. With `Accept: text/event-stream` the answer streams as Server-Sent Events: "
                "`sources` (retrieval done), `delta` (pieces of text), then `answer` (the final JSON).",
)
async def ask(body: AskRequest, request: Request):
    metrics = metrics_of(request)
    filters = body.filters.to_filters() if body.filters else None
    lighter = answerer_for(request.scope)
    args = (body.question, body.history_dicts(), body.as_of, filters, lighter)
    if "text/event-stream" not in request.headers.get("accept", ""):
        answer = await last_answer(request.app.state.answer_pool.events(*args), request)
        if answer is None:  # the client hung up, and the work stopped with it
            return Response(status_code=CLIENT_GONE)
        metrics.observe_answer(answer.refused, lighter is not None)
        return JSONResponse(answer.to_dict())
    stream = in_thread(request.app.state.answer_pool.events(*args))
    first = await anext(stream)  # bad questions fail here, while a proper status can still be sent

    async def frames():
        event = first
        try:
            while True:
                yield sse(*_frame(event))
                if event.kind == "answer":
                    metrics.observe_answer(event.data.refused, lighter is not None)
                event = await anext(stream)
        except StopAsyncIteration:
            pass
        except Exception as exc:
            yield sse("error", error_payload(exc))
        finally:
            await stream.aclose()

    return StreamingResponse(frames(), media_type="text/event-stream", headers=SSE_HEADERS)


# -- search and browse ------------------------------------------------------------------------------------
@router.get("/api/search", response_model=SearchOut, responses=ERROR_RESPONSES,
            summary="Hybrid (keyword + semantic) search over the article chunks")
def search(
    service: Service,
    q: Annotated[str, Query(description="What to look for, in any language.")],
    k: Annotated[int, Query(ge=1, le=100)] = 10,
    since: date | None = None,
    until: date | None = None,
    source: Source = None,
):
    hits = service.search(q, k, make_filters(since, until, source))
    return {"results": [h.to_dict() for h in hits]}


def _summary(a: Article) -> dict:
    return {"id": a.id, "title": a.title, "url": a.url,
            "published": a.published.isoformat() if a.published else None, "source": a.source}


@router.get("/api/articles", response_model=ArticleList, responses=ERROR_RESPONSES,
            summary="List articles, newest first")
def articles(
    service: Service,
    q: Annotated[str | None, Query(description="Only articles whose title or text contains this.")] = None,
    source: Source = None,
    since: date | None = None,
    until: date | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
):
    result = service.articles(q, make_filters(since, until, source), page, page_size)
    return {"articles": [_summary(a) for a in result.articles], "total": result.total, "page": result.page,
            "page_size": result.page_size}


@router.get("/api/articles/{article_id}", response_model=ArticleOut, responses={404: {"model": ErrorOut}},
            summary="One article with its full text")
def article(article_id: str, service: Service):
    return service.article(article_id).to_dict()


@router.get("/api/entities", response_model=EntityList, responses=ERROR_RESPONSES,
            summary="Countries, places, organisations and people the articles name, most written about first")
def entities(
    service: Service,
    q: Annotated[str | None, Query(description="Only entities whose name or a spelling contains this "
                                               "(any case, any accents); best matches first.")] = None,
    kind: Annotated[EntityType | None, Query(alias="type", description="Only entities of this type.")] = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
):
    result = service.entities(q, kind, page, page_size)
    return {"entities": [e.to_dict() for e in result.entities], "total": result.total, "page": result.page,
            "page_size": result.page_size}


@router.get("/api/entities/{entity_id}", response_model=EntityDetailOut,
            responses={404: {"model": ErrorOut}, **ERROR_RESPONSES},
            summary="One entity over time: its articles, mentions per week and the entities named with it")
def entity(
    entity_id: int,
    service: Service,
    page: Annotated[int, Query(ge=1, description="Page of the entity's articles.")] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    order: Annotated[Literal["oldest", "newest"], Query(description="Articles oldest or newest first.")] = "oldest",
):
    return service.entity(entity_id, page, page_size, newest_first=order == "newest").to_dict()


@router.get("/api/stories", response_model=StoryList, responses=ERROR_RESPONSES,
            summary="Stories told by several reports, the one reported last first")
def stories(
    service: Service,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 20,
    min_articles: Annotated[int, Query(ge=1, le=10_000, description="Only stories with this many reports.")] = 2,
):
    return service.stories(page, page_size, min_articles).to_dict()


@router.get("/api/stories/{story_id}", response_model=StoryDetailOut,
            responses={404: {"model": ErrorOut}, **ERROR_RESPONSES},
            summary="One story across sources: its reports in date order and what changed between them")
def story(story_id: int, service: Service):
    return service.story(story_id).to_dict()


# -- ingest -----------------------------------------------------------------------------------------------
def require_admin(request: Request, authorization: str | None) -> None:
    key = request.app.state.service.settings.admin_key
    secret = key.get_secret_value() if key is not None else ""
    if not secret:
        raise Forbidden("ingest over HTTP is disabled")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), secret.encode()):
        raise Unauthorized("a valid admin key is required: Authorization: Bearer <key>")


def article_items(articles: list) -> list[Item]:
    """One item per posted article; an invalid one becomes a failed item, the rest still ingest."""
    items = []
    for i, raw in enumerate(articles):
        origin = f"articles[{i}]"
        try:
            a = ArticleIn.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'article'}: {e['msg']}" for e in exc.errors())
            items.append(Item(origin, error=problems))
            continue
        items.append(Item(origin, Article(title=a.title, text=a.text, url=a.url, published=a.published,
                                          source=a.source)))
    return items


def _day(value: object, name: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise Unprocessable(f"{name} must be a date like 2026-11-23") from None


async def upload_items(request: Request, service: Communique) -> list[Item]:
    """The articles of an uploaded digest (or JSONL, feed or HTML) file: form field `file`."""
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # python-multipart errors: the body is not a valid form
        raise BadInput(f"cannot read the multipart form: {exc}") from exc
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise Unprocessable("the multipart form needs a file field named 'file'")
    data = await upload.read()
    settings = service.settings
    if len(data) > settings.max_item_bytes:
        raise PayloadTooLarge(f"the file is larger than {settings.max_item_bytes} bytes")
    name = Path(upload.filename or "upload.txt").name
    if not data.strip():
        return [Item(f"upload:{name}", error="empty file")]
    source = form.get("source")
    opts = ReadOptions(published=_day(form.get("published"), "published"),
                       source=source if isinstance(source, str) and source else None,
                       max_item_bytes=settings.max_item_bytes)
    return list(read_bytes(data, f"upload:{name}", None, opts, None, name=name))


@router.post(
    "/api/ingest", response_model=IngestOut,
    responses={401: {"model": ErrorOut}, 403: {"model": ErrorOut}, 413: {"model": ErrorOut}, **ERROR_RESPONSES},
    summary="Add articles: JSON articles, a feed URL, or an uploaded digest file (admin key required)",
    openapi_extra={"requestBody": {"content": {
        "application/json": {"schema": {"oneOf": [
            {"type": "object", "required": ["articles"], "properties": {
                "articles": {"type": "array", "items": ArticleIn.model_json_schema()}}},
            {"type": "object", "required": ["feed"], "properties": {"feed": {"type": "string", "format": "uri"}}},
        ]}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
            "file": {"type": "string", "format": "binary"}, "published": {"type": "string", "format": "date"},
            "source": {"type": "string"}}}},
    }}},
)
async def ingest(request: Request, service: Service,
                 authorization: Annotated[str | None, Header(include_in_schema=False)] = None):
    require_admin(request, authorization)
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        items = await upload_items(request, service)
        report: IngestReport = await run_in_threadpool(service.ingest_items, items, False)
        return await _queued(request, service, report)
    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise BadInput("the request body is not valid JSON") from None
    except RecursionError:
        raise BadInput("the request body nests JSON too deeply") from None
    if isinstance(payload, dict) and isinstance(payload.get("articles"), list):
        report = await run_in_threadpool(service.ingest_items, article_items(payload["articles"]), False)
    elif isinstance(payload, dict) and isinstance(payload.get("feed"), str):
        url = payload["feed"].strip()
        if not url.startswith(("http://", "https://")):
            raise Unprocessable("feed must be an http(s) URL")
        report = await run_in_threadpool(lambda: service.ingest([url], embed=False))
    else:
        raise Unprocessable('send {"articles": [...]}, {"feed": "https://..."} or a multipart file upload')
    return await _queued(request, service, report)


async def _queued(request: Request, service: Communique, report: IngestReport) -> dict:
    """The report, with the stored text's vectors left to the background worker (keyword search has it now)."""
    request.app.state.embed_worker.kick()
    pending = (await run_in_threadpool(service.stats)).pending
    return {**report.to_dict(), "pending": pending}


# -- operations -------------------------------------------------------------------------------------------
@router.get("/health", response_model=HealthOut, responses={503: {"model": ErrorOut}},
            summary="200 once the store, embedder and index are loaded; 503 before")
def health(request: Request, service: Service):
    warm: WarmUp = request.app.state.warm_up
    if not warm.ready.is_set():
        status, message = ("error", warm.error) if warm.error else ("starting", "the index is still loading")
        return JSONResponse({"status": status, "error": {"code": "backend_unavailable", "message": message}},
                            status_code=503)
    stats = service.stats()
    metrics_of(request).observe_index(stats)
    out = {"status": "ok", "articles": stats.articles, "chunks": stats.chunks, "pending": stats.pending}
    if request.app.state.embed_worker.error:
        out["embedding_error"] = request.app.state.embed_worker.error
    return out


@router.get("/metrics", response_class=Response, summary="Prometheus metrics (text format)")
def metrics(request: Request, service: Service):
    m = metrics_of(request)
    if request.app.state.warm_up.ready.is_set():
        m.observe_index(service.stats())
    return Response(m.render(), media_type=CONTENT_TYPE)


# -- the app ----------------------------------------------------------------------------------------------
def create_app(service: Communique, warm_up: bool = True) -> FastAPI:
    """The whole HTTP surface over one `Communique`. Warm-up starts with the app's lifespan."""
    from communique.serve import news_api, news_pages, openai_compat, web

    worker = EmbedWorker(service)
    answer_pool = AnswerPool(service)
    warm = WarmUp(service, on_ready=worker.kick, answer_pool=answer_pool)
    # what a poll stores is embedded by the worker, once warm-up has loaded the embedder (then it resumes all)
    feeds = FeedPoller(service, on_change=lambda: warm.ready.is_set() and worker.kick())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if warm_up:
            warm.start()
        if service.settings.watch_feeds:
            feeds.start()
        yield
        feeds.stop()  # all before whoever owns the service closes its store
        worker.stop()
        answer_pool.close()

    app = FastAPI(
        title="Communique", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
        description="Grounded, cited answers over your own news articles. Errors are "
                    '`{"error": {"code", "message"}}` with a 4xx/5xx status. See docs/api.md.',
    )
    app.state.service = service
    app.state.metrics = Metrics()
    app.state.warm_up = warm
    app.state.embed_worker = worker
    app.state.answer_pool = answer_pool
    app.state.feed_poller = feeds
    middleware.install(app, app.state.metrics, service.settings.max_body_bytes)
    settings = service.settings
    keys = [k.get_secret_value() for k in settings.reader_keys]
    if keys and settings.admin_key is not None:
        keys.append(settings.admin_key.get_secret_value())
    app.add_middleware(Guard, max_in_flight=settings.max_answers_in_flight,
                       per_minute=settings.rate_limit_per_minute, loopback=settings.rate_limit_loopback,
                       keys=tuple(keys), queue_wait_s=settings.answer_queue_wait_s,
                       queue_max=settings.answer_queue_max,
                       lighter_when_waiting=settings.lighter_answers_when_waiting)
    if settings.cors_origins:  # closed unless the owner names the sites that may call the API from a browser
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_methods=["GET", "POST"],
                           allow_headers=["Content-Type", "Authorization", "Accept"])
    app.include_router(router)
    app.include_router(news_api.router)
    app.include_router(news_pages.router)
    app.include_router(openai_compat.router)
    app.include_router(web.router)
    web.mount_static(app)
    _mount_docs(app)
    return app


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI from the `swagger-ui-bundle` package: the API docs work offline too (no CDN)."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    app.mount("/docs-assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs():
        return get_swagger_ui_html(
            openapi_url=app.openapi_url, title="Communique API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js", swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

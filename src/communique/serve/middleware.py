"""What wraps every request: metrics, the catch-all error handler, the body size cap, and error rendering.

Every error reaches the client as `{"error": {"code", "message"}}` with its HTTP status; a traceback
never does (unexpected exceptions are logged here and answered with a plain 500).
"""

from __future__ import annotations

import logging
import time
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from communique.errors import CommuniqueError, Unauthorized
from communique.serve.metrics import Metrics

log = logging.getLogger("communique.serve")


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   details: list | None = None, param: str | None = None) -> JSONResponse:
    # the OpenAI protocol's error shape, which every route shares: message, type, param, code
    kind = "server_error" if status >= 500 else "authentication_error" if status == 401 else "invalid_request_error"
    body: dict = {"error": {"code": code, "message": message, "type": kind, "param": param}}
    if details:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


def route_label(scope: Scope) -> str:
    """The route template (`/api/articles/{article_id}`), never the raw path: labels stay few."""
    route = scope.get("route")
    if route is not None and getattr(route, "path", None):
        return route.path
    if scope.get("path", "").startswith("/static/"):
        return "/static"
    return "unmatched"


class Observe:
    """Outermost layer: counts and times every request; turns any escaped exception into a JSON 500."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False

        async def send_observed(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, send_observed)
        except Exception:
            log.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not started:
                status = 500
                await error_response(500, "internal_error", "internal server error")(scope, receive, send)
        finally:
            self.metrics.observe_request(scope.get("method", ""), route_label(scope), status,
                                         time.perf_counter() - start)


class BodyLimit:
    """Rejects bodies over `limit` bytes with 413: by Content-Length up front, else while reading.

    The body is read here (at most `limit` bytes), then replayed to the app, so the app never sees a
    partial body and a chunked upload cannot grow past the cap.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _too_large(self) -> JSONResponse:
        return error_response(413, "payload_too_large", f"the request body is larger than {self.limit} bytes")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await error_response(400, "bad_input", "Content-Length is not a number")(scope, receive, send)
                return
            if size > self.limit:
                await self._too_large()(scope, receive, send)
                return
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.limit:
                await self._too_large()(scope, receive, send)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _communique_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CommuniqueError)
    if exc.status >= 500:
        log.warning("%s %s: %s", request.method, request.url.path, exc)
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthorized) else None
    return error_response(exc.status, exc.code, str(exc) or HTTPStatus(exc.status).phrase, headers,
                          param=getattr(exc, "param", None))


_HTTP_CODES = {400: "bad_input", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 413: "payload_too_large", 422: "unprocessable"}


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no such route: {request.method} {request.url.path}"
    else:
        message = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    code = _HTTP_CODES.get(exc.status_code, "internal_error" if exc.status_code >= 500 else "http_error")
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(400, "bad_input", "the request body is not valid JSON")
    if [tuple(e.get("loc", ())) for e in errors] == [("body",)] and "json" not in request.headers.get(
            "content-type", ""):
        return error_response(422, "unprocessable", "send the body as JSON, with Content-Type: application/json")
    details = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in errors]
    message = "; ".join(f"{'.'.join(d['loc'])}: {d['msg']}" for d in details[:5]) or "invalid request"
    param = ".".join(str(p) for p in errors[0].get("loc", ())[1:]) if errors else None
    return error_response(422, "unprocessable", message, details=details, param=param or None)


def install(app: FastAPI, metrics: Metrics, max_body_bytes: int) -> None:
    """Error handlers and middleware, outermost last: Observe → BodyLimit → routes."""
    app.add_exception_handler(CommuniqueError, _communique_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(BodyLimit, limit=max_body_bytes)
    app.add_middleware(Observe, metrics=metrics)

"""The timeline and briefing routes of the HTTP API, each a thin shell over one `Communique` method.

    GET  /api/timeline?q=&since=&until=&as_of=   a subject's events in date order, grouped by story
    POST /api/brief {topic, since, until, as_of}  every story of a period, newest first, with its Markdown

Both run in the threadpool (FastAPI's sync routes) and read a bounded number of articles, so a request
costs the same on any archive; dates outside the accepted range and oversized text are 400.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from communique.serve.schemas import ERROR_RESPONSES
from communique.service import Communique

router = APIRouter()


def _service(request: Request) -> Communique:
    return request.app.state.service


class BriefRequest(BaseModel):
    """What a briefing covers: a topic (optional) and a window of publication days."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"topic": "Lumaro", "since": "2026-10-01", "until": "2026-11-09"}]})

    topic: str | None = Field(None, description="Only stories about this (any language).")
    since: date | None = Field(None, description="First day; default: a week before `until`.")
    until: date | None = Field(None, description="Last day; default: `as_of`, else today.")
    as_of: date | None = Field(None, description="The day the briefing is written: nothing after it is read.")


@router.get("/api/timeline", responses=ERROR_RESPONSES,
            summary="A subject's events in date order, each one cited sentence, grouped by story")
def timeline(
    request: Request,
    q: Annotated[str, Query(description="The subject: a name, an event, a topic.")],
    since: Annotated[date | None, Query(description="Only events on or after this day.")] = None,
    until: Annotated[date | None, Query(description="Only events on or before this day.")] = None,
    as_of: Annotated[date | None, Query(description="Only articles published by this day.")] = None,
):
    return _service(request).timeline(q, since, until, as_of).to_dict()


@router.post("/api/brief", responses=ERROR_RESPONSES,
             summary="A digest of every story of a period, newest first, cited, with a Markdown export")
def brief(body: BriefRequest, request: Request):
    return _service(request).brief(body.topic, body.since, body.until, body.as_of).to_dict()

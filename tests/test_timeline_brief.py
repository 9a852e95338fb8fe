"""Timelines, briefings and time words, on articles ingested from digests written here: the library, the CLI,
the API and the pages over one real SQLite file (text search only: no chunk is embedded, the query is)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import communique.timewords
from builders import ESTONIA, LAGOS, QUITO, Story, digest
from communique.answer import time_window
from communique.answer.citations import markers_in
from communique.config import Settings
from communique.models import Article
from communique.news.brief import Brief
from communique.news.markdown import brief_markdown
from communique.news.stories import story_keys
from communique.serve import create_app
from communique.service import Communique
from communique.timewords import resolve

# One story told twice, by two sources, in different words: the UN cybercrime convention.
TREATY_WIRE = Story("UN General Assembly adopts cybercrime convention", [
    "The United Nations General Assembly adopted the Convention against Cybercrime in New York on 24 December, "
    "after three years of negotiations among member states.",
    "The convention will open for signature at a ceremony in Hanoi on 25 October, Vietnamese officials said.",
    "Rights groups said the treaty's surveillance provisions lacked safeguards for journalists.",
])
TREATY_WEEKLY = Story("Cybercrime treaty clears the UN General Assembly", [
    "Member states of the United Nations General Assembly approved a global convention on cybercrime without a "
    "vote, ending a drafting process that began in 2022.",
    "Signatures will be collected in Hanoi from 25 October, and the convention takes effect after 40 ratifications.",
    "Several technology companies warned that the convention could criminalise security research.",
])
HOSTILE = Story("<script>alert(1)</script> Cybercrime [click](javascript:alert(2)) report", [
    "A <b>hostile</b> cybercrime report was published on 3 November, with markup in its text.",
])
# (story, source, publication day) of the digests written for the tests
CORPUS = [
    (ESTONIA, "Baltic Desk", date(2026, 10, 20)),
    (TREATY_WIRE, "Geneva Wire", date(2026, 10, 27)),
    (TREATY_WEEKLY, "Diplo Weekly", date(2026, 10, 29)),
    (LAGOS, "Diplo Weekly", date(2026, 11, 2)),
    (HOSTILE, "Hostile Wire", date(2026, 11, 4)),
    (QUITO, "Andes Post", date(2026, 11, 6)),
]
AS_OF = date(2026, 11, 6)


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Communique]:
    root = tmp_path_factory.mktemp("timeline-brief")
    service = Communique(Settings(db=root / "news.db", rate_limit_per_minute=0, max_question_chars=300))
    for i, (story, source, day) in enumerate(CORPUS):
        path = root / f"digest-{i}.txt"
        path.write_text(digest([story]), encoding="utf-8")
        report = service.ingest([str(path)], published=day, source=source, embed=False)
        assert report.ok and len(report.added) == 1, report.to_dict()
    yield service
    service.close()


@pytest.fixture(scope="module")
def client(svc: Communique) -> Iterator[TestClient]:
    with TestClient(create_app(svc, warm_up=False)) as c:
        yield c


def _title(svc: Communique, article_id: str) -> str:
    return svc.article(article_id).title


# -- timelines -----------------------------------------------------------------------------------------------
def test_timeline_lists_events_in_date_order_each_quoting_its_cited_article(svc: Communique) -> None:
    timeline = svc.timeline("cybercrime convention", as_of=AS_OF)
    events = timeline.events
    assert len(events) >= 3, timeline.text()
    days = [e.day for e in events]
    assert days == sorted(days), days
    by_n = {c.n: c for c in timeline.citations}
    assert set(by_n) == {e.n for e in events} == set(range(1, len(by_n) + 1))
    for e in events:
        assert e.text in by_n[e.n].quote and by_n[e.n].article_id == e.article_id
        assert e.text in svc.article(e.article_id).text
    # the adoption on 24 December is dated from the text, and "25 October" (no year, in a report of 27 October)
    # is the coming one, not the one of the year before
    assert any(e.day == date(2026, 12, 24) and "adopted" in e.text for e in events), timeline.text()
    assert any(e.day == date(2026, 10, 25) and "Hanoi" in e.text for e in events), timeline.text()
    assert all("Lagos" not in e.text and "Estonia" not in e.title for e in events)


def test_timeline_groups_two_reports_of_one_story(svc: Communique) -> None:
    timeline = svc.timeline("cybercrime convention", as_of=AS_OF)
    treaty = [s for s in timeline.stories if any("Assembly" in e.title for e in s.events)]
    assert len(treaty) == 1, [s.title for s in timeline.stories]
    assert {e.title for e in treaty[0].events} == {TREATY_WIRE.title, TREATY_WEEKLY.title}
    assert len(timeline.stories) == 1  # the report that names only "cybercrime" is not about the convention


def test_timeline_window_keeps_only_events_of_its_days(svc: Communique) -> None:
    timeline = svc.timeline("cybercrime convention", since=date(2026, 10, 26), until=date(2026, 11, 30))
    assert timeline.events and all(date(2026, 10, 26) <= e.day <= date(2026, 11, 30) for e in timeline.events)
    assert not any(e.day == date(2026, 12, 24) for e in timeline.events)


def test_story_keys_take_the_stores_story_id_when_it_has_one() -> None:
    class StoryStore:
        def story_id(self, article_id: str) -> int | None:
            return {"a": 7, "b": 7}.get(article_id)

    one, two = Article("Port strike", "Dockers walked out.", id="a"), Article("Harbour", "Ships wait.", id="b")
    assert story_keys(StoryStore(), [one, two]) == {"a": "story:7", "b": "story:7"}
    assert story_keys(object(), [one, two]) == {"a": "a", "b": "b"}  # no id, nothing shared: each its own story


# -- briefings -----------------------------------------------------------------------------------------------
def test_brief_covers_its_window_newest_first_with_one_story_per_group(svc: Communique) -> None:
    brief = svc.brief(since=date(2026, 10, 25), until=date(2026, 11, 6))
    days = [s.published for s in brief.stories]
    assert days == sorted(days, reverse=True), days
    assert all(date(2026, 10, 25) <= d <= date(2026, 11, 6) for d in days)
    titles = [s.title for s in brief.stories]
    assert ESTONIA.title not in titles and QUITO.title == titles[0]
    treaty = [s for s in brief.stories if s.reports == 2]
    assert len(treaty) == 1 and treaty[0].title == TREATY_WEEKLY.title  # the newest report names the story
    assert treaty[0].sources == ["Diplo Weekly", "Geneva Wire"] and len(treaty[0].sentences) == 2
    cited = {c.n: c for c in brief.citations}
    assert {cited[n].title for _, n in treaty[0].sentences} == {TREATY_WIRE.title, TREATY_WEEKLY.title}
    assert brief.articles == brief.read == 5


def test_brief_on_a_topic_keeps_only_its_stories(svc: Communique) -> None:
    brief = svc.brief(topic="Lagos subsea cable", since=date(2026, 10, 1), until=AS_OF)
    assert [s.title for s in brief.stories] == [LAGOS.title]
    assert brief.stories[0].sentences[0][0].startswith("A new subsea cable landing station opened in Lagos")


def test_brief_reads_a_bounded_number_of_articles_and_says_so(svc: Communique, monkeypatch) -> None:
    import communique.news.brief

    monkeypatch.setattr(communique.news.brief, "MAX_ARTICLES", 2)
    brief = svc.brief(since=date(2026, 10, 1), until=AS_OF)
    assert (brief.articles, brief.read) == (6, 2)
    assert [s.published for s in brief.stories] == [date(2026, 11, 6), date(2026, 11, 4)]
    assert "the newest 2 of 6 articles read" in brief.heading()


def test_brief_defaults_to_the_week_up_to_as_of(svc: Communique) -> None:
    brief = svc.brief(as_of=date(2026, 11, 2))
    assert (brief.since, brief.until) == (date(2026, 10, 27), date(2026, 11, 2))
    assert {s.published for s in brief.stories} == {date(2026, 11, 2), date(2026, 10, 29)}


def test_a_default_week_without_news_gives_the_newest_week_with_articles_and_says_so(svc: Communique) -> None:
    """An archive not fed lately (or the bundled sample, opened months later) briefs its newest week, not nothing."""
    later = date(2027, 3, 1)
    brief = svc.brief(as_of=later)
    assert brief.stories and brief.note and str(later) in brief.note
    assert (brief.since, brief.until) == (date(2026, 10, 31), date(2026, 11, 6))
    assert brief.text().startswith(brief.note)
    asked = svc.brief(since=date(2027, 2, 1), until=later)  # a window the reader chose stays as chosen
    assert not asked.stories and asked.note is None


def test_markdown_export_is_a_pasteable_digest_with_escaped_article_text(svc: Communique) -> None:
    brief = svc.brief(since=date(2026, 10, 25), until=AS_OF)
    text = brief_markdown(brief)
    lines = text.splitlines()
    assert lines[0] == "# Briefing" and lines[2].startswith("*") and "stories from 2026-10-25 to 2026-11-06" in lines[2]
    headings = [line for line in lines if line.startswith("### ")]
    assert len(headings) == len(brief.stories)
    assert "## Sources" in lines
    sources = lines[lines.index("## Sources") + 2:]
    assert [int(line.split(".")[0]) for line in sources if line] == [c.n for c in brief.citations]
    body = text[:text.index("## Sources")]
    assert set(markers_in(body)) == {c.n for c in brief.citations}
    hostile = next(h for h in headings if "alert" in h)
    assert r"\<script\>" in hostile and r"\[click\]\(javascript:alert\(2\)\)" in hostile
    assert "](javascript" not in text


# -- time words ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("words", "since", "until"), [
    ("What happened this week?", date(2026, 11, 14), date(2026, 11, 20)),
    ("What happened last week?", date(2026, 11, 9), date(2026, 11, 15)),
    ("News from last month", date(2026, 10, 1), date(2026, 10, 31)),
    ("Stories since October", date(2026, 10, 1), date(2026, 11, 20)),
    ("What was signed in 2025?", date(2025, 1, 1), date(2025, 12, 31)),
    ("What happened yesterday?", date(2026, 11, 19), date(2026, 11, 20)),
    ("Was ist diese Woche passiert?", date(2026, 11, 14), date(2026, 11, 20)),
])
def test_time_words_resolve_against_the_reference_day(words: str, since: date, until: date) -> None:
    window = resolve(words, date(2026, 11, 20))  # a Friday
    assert window is not None and (window.since, window.until) == (since, until)


def test_latest_ranks_without_cutting_and_no_time_word_is_none() -> None:
    latest = resolve("What's the latest on Lumaro?", date(2026, 11, 20))
    assert latest is not None and latest.latest and latest.since is None
    assert resolve("Who signed the Valletta Accord?", date(2026, 11, 20)) is None


def test_time_words_without_as_of_count_from_today_not_the_newest_article() -> None:
    today = date.today()
    window = time_window("What happened this week?", None)
    assert window is not None and (window.since, window.until) == (today - timedelta(days=6), today)
    fixed = time_window("What happened last month?", date(2026, 3, 15))
    assert fixed is not None and (fixed.since, fixed.until) == (date(2026, 2, 1), date(2026, 2, 28))


def test_ask_applies_time_words_from_as_of_and_says_so(svc: Communique) -> None:
    answer = svc.ask("What happened last week?", as_of=date(2026, 11, 4))  # week of 26 Oct to 1 Nov
    assert answer.citations and {c.published for c in answer.citations} == {date(2026, 10, 27), date(2026, 10, 29)}
    assert answer.answer.endswith("(As of 2026-11-04.)"), answer.answer


def test_ask_without_as_of_counts_this_week_back_from_today(svc: Communique, monkeypatch) -> None:
    monkeypatch.setattr(communique.timewords, "today", lambda: date(2026, 11, 3))
    answer = svc.ask("What happened this week?")  # 28 Oct to 3 Nov: not the newest article's week
    assert {c.published for c in answer.citations} == {date(2026, 10, 29), date(2026, 11, 2)}, answer.answer
    assert answer.answer.endswith("(As of 2026-11-03.)")
    monkeypatch.setattr(communique.timewords, "today", lambda: date(2027, 1, 10))
    quiet = svc.ask("What happened this week?")
    assert quiet.answer.startswith("No articles were published from 2027-01-04 to 2027-01-10."), quiet.answer


# -- API, pages and CLI ----------------------------------------------------------------------------------------
def test_api_timeline_and_brief(client: TestClient) -> None:
    r = client.get("/api/timeline", params={"q": "cybercrime convention", "as_of": "2026-11-06"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [e["day"] for e in body["events"]] == sorted(e["day"] for e in body["events"])
    assert {c["n"] for c in body["citations"]} == {e["n"] for e in body["events"]}
    r = client.post("/api/brief", json={"since": "2026-10-25", "until": "2026-11-06"})
    assert r.status_code == 200, r.text
    brief = r.json()
    assert [s["published"] for s in brief["stories"]] == sorted((s["published"] for s in brief["stories"]),
                                                                reverse=True)
    assert brief["markdown"].startswith("# Briefing") and "## Sources" in brief["markdown"]


@pytest.mark.parametrize(("method", "path", "kwargs", "status"), [
    ("get", "/api/timeline", {"params": {"q": ""}}, 400),
    ("get", "/api/timeline", {"params": {"q": "x" * 301}}, 400),
    ("get", "/api/timeline", {"params": {"q": "treaty", "since": "2026-13-01"}}, 422),
    ("get", "/api/timeline", {"params": {"q": "treaty", "since": "2026-11-06", "until": "2026-11-01"}}, 400),
    ("get", "/api/timeline", {"params": {"q": "treaty", "as_of": "0001-01-01"}}, 400),
    ("post", "/api/brief", {"json": {"since": "yesterday"}}, 422),
    ("post", "/api/brief", {"json": {"topic": "y" * 301}}, 400),
    ("post", "/api/brief", {"json": {"since": "2026-11-06", "until": "2026-11-01"}}, 400),
    ("post", "/api/brief", {"json": {"until": "9999-12-31"}}, 400),
    ("post", "/api/brief", {"json": {"window": "all"}}, 422),
])
def test_api_bad_input_is_4xx_with_a_message(client: TestClient, method: str, path: str, kwargs: dict,
                                             status: int) -> None:
    r = getattr(client, method)(path, **kwargs)
    assert r.status_code == status, r.text
    if status >= 400:
        body = r.json()
        assert set(body) == {"error"} and body["error"]["message"] and "Traceback" not in r.text


def test_pages_render_with_hostile_text_escaped(client: TestClient) -> None:
    for path, params in (("/brief", {"since": "2026-10-25", "until": "2026-11-06"}),
                         ("/timeline", {"q": "cybercrime report"})):
        r = client.get(path, params=params)
        assert r.status_code == 200, r.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text and "<script>alert" not in r.text
        assert "&lt;b&gt;hostile&lt;/b&gt;" in r.text and "<b>hostile" not in r.text
        assert "script-src 'self'" in r.headers["content-security-policy"]
    page = client.get("/brief", params={"since": "2026-10-25", "until": "2026-11-06"}).text
    assert page.count('class="news-story"') == 4 and "news-markdown" in page
    assert re.search(r'<a class="cite" href="#source-1">\[1\]</a>', page)
    bad = client.get("/timeline", params={"q": "treaty", "since": "next week"})
    assert bad.status_code == 400 and "since must be a date" in bad.text


def test_cli_timeline_and_brief(svc: Communique, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from communique import cli as cli_module

    db = svc.settings.db
    runner = CliRunner()
    try:
        result = runner.invoke(cli_module.app, ["--db", str(db), "timeline", "cybercrime convention", "--json",
                                                "--as-of", "2026-11-06"])
        assert result.exit_code == 0, result.output
        days = [e["day"] for e in json.loads(result.output)["events"]]
        assert days and days == sorted(days)
    finally:
        cli_module.state.service, cli_module.state.db = None, None
    try:
        result = runner.invoke(cli_module.app, ["--db", str(db), "brief", "--since", "2026-10-25", "--until",
                                                "2026-11-06", "--markdown"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith("# Briefing") and result.output.count("\n### ") == 4
    finally:
        if cli_module.state.service is not None:
            cli_module.state.service.close()
        cli_module.state.service, cli_module.state.db = None, None


def test_brief_to_dict_matches_its_markdown(svc: Communique) -> None:
    brief: Brief = svc.brief(since=date(2026, 10, 25), until=AS_OF)
    d = brief.to_dict()
    assert d["markdown"] == brief_markdown(brief)
    assert [s["title"] for s in d["stories"]] == [s.title for s in brief.stories]

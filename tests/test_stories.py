"""Stories across sources: real articles ingested (spaCy at ingest, the bundled embedder where vectors matter), then
the stories read through the store, search, the HTTP API and the story page.

Texts are invented news. VELDRA_1 and VELDRA_2 report one ransomware attack in different words, the second with
a revised figure for the losses; the builders' Estonia, Lagos and Quito stories are unrelated to it.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from builders import SHORT_STORIES
from communique.ingest.digest import parse_digest
from communique.ingest.items import Item
from communique.models import Article
from communique.retrieve.fusion import demote_repeats
from communique.serve import create_app
from communique.service import Communique
from communique.store.stories import StoryIndex
from communique.stories.changes import Report, revisions
from communique.stories.features import Signature, day_gap, entity_overlap, title_overlap
from communique.stories.model import COEFFICIENTS, load_model

VELDRA_1 = Article(
    title="Ransomware attack halts container terminals at the Port of Veldra",
    url="https://harbour.example/veldra-attack", published=date(2026, 11, 2), source="Harbour Times",
    text="A ransomware attack has halted container operations at the Port of Veldra, terminal operator Nordhaven "
         "Terminals said on Monday. Cranes and gate systems at all three terminals were taken offline, leaving "
         "about 1,200 containers stranded on the quay. Nordhaven Terminals estimated its losses at €4 million so "
         "far. The Veldra port authority said the Graywick ransomware group had claimed the attack.",
)
VELDRA_2 = Article(
    title="Veldra port still crippled as Nordhaven losses climb",
    url="https://wire.example/veldra-losses", published=date(2026, 11, 6), source="Baltic Wire",
    text="Four days after hackers struck, the Port of Veldra is still moving only a fraction of its usual cargo. "
         "Nordhaven Terminals now puts its losses from the ransomware attack at €7.5 million, as shipping lines "
         "divert vessels to neighbouring harbours. The Graywick group has demanded a ransom that Nordhaven "
         "Terminals says it will not pay, and the Veldra port authority expects the terminals to reopen next week.",
)
ROOT = Path(__file__).resolve().parent.parent
STORIES = ROOT / "benchmarks" / "stories"
OTHERS = [Article(title=s.title, text=s.text, url=f"https://other.example/{i}", published=date(2026, 11, 3 + i),
                  source="Other Wire") for i, s in enumerate(SHORT_STORIES)]


def fresh(article: Article, **changes) -> Article:
    """A new Article (ingest fills in id, language and annotations in place)."""
    fields = {k: getattr(article, k) for k in ("title", "text", "url", "published", "source")}
    return Article(**(fields | changes))


def ingest(svc: Communique, *articles: Article, embed: bool = False):
    report = svc.ingest_items([Item(a.title, fresh(a)) for a in articles], embed=embed)
    assert report.ok, report.to_dict()
    return report


def story_of(svc: Communique, url: str) -> int | None:
    row = svc.store._conn().execute("SELECT s.story_id FROM articles a JOIN story_articles s"
                                    " ON s.article_rowid = a.rowid WHERE a.url = ?", (url,)).fetchone()
    return row[0] if row else None


def assert_consistent(svc: Communique) -> None:
    """Every article has one story, every story counts its links, and none is empty."""
    conn = svc.store._conn()
    assert conn.execute("SELECT count(*) FROM articles a LEFT JOIN story_articles s ON s.article_rowid = a.rowid"
                        " WHERE s.story_id IS NULL").fetchone()[0] == 0
    bad = conn.execute("SELECT count(*) FROM stories s WHERE s.articles != (SELECT count(*) FROM story_articles x"
                       " WHERE x.story_id = s.id) OR s.articles = 0").fetchone()[0]
    assert bad == 0


@pytest.fixture
def svc(make_service: Callable[..., Communique]) -> Communique:
    return make_service()


# -- pure parts -------------------------------------------------------------------------------------------
def sig(**kw) -> Signature:
    base = {"terms": frozenset(), "title_terms": frozenset(), "entities": frozenset(), "day": None}
    return Signature(**(base | kw))


def test_features_on_hand_made_signatures():
    a = sig(entities=frozenset({1, 2, 3}), title_terms=frozenset({"veldra", "port"}), day=100)
    b = sig(entities=frozenset({2, 3, 4}), title_terms=frozenset({"veldra", "loss", "climb"}), day=115)
    assert entity_overlap(a, b) == pytest.approx(2 / 4)
    assert title_overlap(a, b) == pytest.approx(1 / 2)
    assert day_gap(a, b) == pytest.approx(15 / 30)
    assert day_gap(a, sig(day=None)) == 0.5


def test_the_model_is_the_fitted_file_and_prefers_shared_names():
    shipped = json.loads(COEFFICIENTS.read_text(encoding="utf-8"))
    model = load_model()
    assert list(model.full.weights) == shipped["full"]["weights"]
    close = sig(entities=frozenset({1, 2}), terms=frozenset("abcdef"), title_terms=frozenset({"veldra"}), day=1)
    same = sig(entities=frozenset({1, 2}), terms=frozenset("abcdeg"), title_terms=frozenset({"veldra"}), day=3)
    other = sig(entities=frozenset({9}), terms=frozenset("uvwxyz"), title_terms=frozenset({"lagos"}), day=3)
    assert model.same_story(close, same)[1] and not model.same_story(close, other)[1]
    assert model.probability(close, same) > model.text.threshold > model.probability(close, other)
    assert 0.5 <= model.text.threshold < 1 and 0.5 <= model.full.threshold < 1  # measured, from one half up


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_story_labels_cover_every_article_of_their_sets_and_agree_with_the_hand_picked_pairs():
    clusters = read_jsonl(STORIES / "clusters.jsonl")
    story = {(c["file"], c["title"]): c["story"] for c in clusters}
    assert len(story) == len(clusters)
    files = sorted({c["file"] for c in clusters})
    in_files = {(f, item.article.title) for f in files
                for item in parse_digest((ROOT / f).read_text(encoding="utf-8"), f)}
    assert set(story) == in_files  # every article of every labelled digest, and nothing else
    assert all(a in story.values() for c in clusters for a in c.get("also", ()))
    for p in read_jsonl(STORIES / "pairs.jsonl"):
        assert (story[p["a"]["file"], p["a"]["title"]] == story[p["b"]["file"], p["b"]["title"]]) == p["same"], p


def test_the_shipped_coefficients_are_what_the_training_script_fits():
    """`train_stories.py --check` refits from the stored features (no embedding) and compares with the file."""
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "train_stories.py"), "--check"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert json.loads(done.stdout)["matches"]


def test_demote_repeats_keeps_every_item_and_never_puts_one_group_twice_in_a_row():
    group = {1: "a", 2: "a", 3: "b", 4: "a", 5: "c", 6: "a"}
    assert demote_repeats([1, 2, 3, 4, 5, 6], group) == [1, 3, 2, 5, 4, 6]  # the last a's have no one left to wait for
    assert demote_repeats([1, 2, 4, 3], group, gap=2) == [1, 3, 2, 4]
    assert demote_repeats([1, 2, 3], group, gap=0) == [1, 2, 3]


def test_revisions_pair_a_changed_figure_with_its_like_sentence():
    def report(aid: str, text: str, value: float, start: int, end: int) -> Report:
        notes = {"v": 1, "s": [[0, len(text), 0, "nordhaven estimate loss", [["MONEY", start, end, "pobj", value]]]]}
        return Report(aid, None, None, text, json.dumps(notes))

    first = report("a", "Nordhaven estimated its losses at €4 million.", 4e6, 34, 44)
    second = report("b", "Nordhaven now estimates its losses at €7.5 million.", 7.5e6, 38, 50)
    [change] = revisions([first, second])
    assert (change.before.text, change.after.text) == ("€4 million", "€7.5 million")
    assert revisions([first, first]) == []  # the same figure again is no revision


# -- grouping at ingest -----------------------------------------------------------------------------------
@pytest.mark.slow
def test_two_reports_in_other_words_group_once_embedded_and_unrelated_ones_do_not(svc: Communique):
    ingest(svc, VELDRA_1, *OTHERS, VELDRA_2)
    conn = svc.store._conn()
    assert conn.execute("SELECT count(*) FROM story_articles WHERE provisional = 1").fetchone()[0] == 5
    assert svc.embed() > 0
    assert conn.execute("SELECT count(*) FROM story_articles WHERE provisional = 1").fetchone()[0] == 0
    veldra = story_of(svc, VELDRA_1.url)
    assert veldra is not None and story_of(svc, VELDRA_2.url) == veldra
    others = {story_of(svc, a.url) for a in OTHERS}
    assert veldra not in others and len(others) == 3
    story = svc.story(veldra).story
    assert (story.articles, story.reported_by, story.title) == (2, 2, VELDRA_1.title)
    assert_consistent(svc)


def test_a_syndicated_copy_is_linked_not_stored_twice(svc: Communique):
    ingest(svc, VELDRA_1)
    copy = fresh(VELDRA_1, url="https://coastal.example/syndicated/veldra", source="Coastal Daily")
    report = ingest(svc, copy)
    assert report.added == [] and len(report.unchanged) == 1
    assert svc.stats().articles == 1
    story = svc.story(story_of(svc, VELDRA_1.url))
    [article] = story.articles
    assert [c.url for c in article.copies] == [copy.url] and story.story.reported_by == 2
    assert svc.store.write(fresh(copy, id="copy-1"), []).syndicated  # the same copy again: a copy, recorded once
    assert len(svc.story(story.story.id).articles[0].copies) == 1


@pytest.mark.slow
def test_delete_and_reingest_keep_stories_right(svc: Communique):
    ingest(svc, VELDRA_1, VELDRA_2, *OTHERS, embed=True)
    veldra = story_of(svc, VELDRA_1.url)
    assert story_of(svc, VELDRA_2.url) == veldra
    first_id = svc.store._conn().execute("SELECT id FROM articles WHERE url = ?", (VELDRA_1.url,)).fetchone()[0]
    svc.delete(first_id)
    rest = story_of(svc, VELDRA_2.url)
    detail = svc.story(rest)
    assert [a.url for a in detail.articles] == [VELDRA_2.url] and detail.story.title == VELDRA_2.title
    assert_consistent(svc)
    ingest(svc, VELDRA_1, embed=True)  # back again: it rejoins the story
    assert story_of(svc, VELDRA_1.url) == story_of(svc, VELDRA_2.url)
    edited = fresh(VELDRA_2, text=VELDRA_2.text + " Customs officers are checking every stranded container.")
    report = ingest(svc, edited, embed=True)  # an edit regroups that one article, without a second link
    assert len(report.updated) == 1
    assert story_of(svc, VELDRA_2.url) == story_of(svc, VELDRA_1.url)
    assert svc.story(story_of(svc, VELDRA_1.url)).story.articles == 2
    assert_consistent(svc)
    for a in svc.articles(page_size=50).articles:
        svc.delete(a.id)
    assert svc.store._conn().execute("SELECT count(*) FROM stories").fetchone()[0] == 0


def test_articles_stored_before_stories_are_grouped_on_open(tmp_path: Path, make_service):
    svc = make_service("old")
    ingest(svc, VELDRA_1, *OTHERS)
    db = svc.settings.db
    svc.close()
    with sqlite3.connect(db) as conn:  # as a database from before migration 6 would be: nothing grouped yet
        conn.execute("DELETE FROM story_articles")
        conn.execute("DELETE FROM stories")
        conn.execute("UPDATE meta SET value = 0 WHERE key = 'story_backfill_rowid'")
    reopened = make_service("old")
    assert_consistent(reopened)
    assert len(StoryIndex(reopened.store._conn).counts()) >= 1


# -- search, answers, API, page ---------------------------------------------------------------------------
@pytest.mark.slow
def test_search_hits_carry_their_story_and_a_story_does_not_fill_the_top(svc: Communique):
    third = fresh(VELDRA_1, title="Graywick gang claims Veldra port ransomware attack",
                  url="https://third.example/veldra", source="Third Post",
                  text="The Graywick ransomware gang has claimed the attack on the Port of Veldra that halted "
                       "Nordhaven Terminals' container operations, posting stolen files on its leak site.")
    ingest(svc, VELDRA_1, VELDRA_2, third, *OTHERS, embed=True)
    assert len({story_of(svc, u) for u in (VELDRA_1.url, VELDRA_2.url, third.url)}) == 1
    hits = svc.search("Veldra port ransomware attack Nordhaven", k=6)
    veldra = story_of(svc, VELDRA_1.url)
    assert all(h.story_id is not None for h in hits)
    assert {h.reported_by for h in hits if h.story_id == veldra} == {3}
    assert hits[0].story_id == veldra and hits[1].story_id != veldra  # the other reports wait their turn
    assert all(a.story_id != b.story_id for a, b in zip(hits[:4], hits[1:4], strict=False))
    assert sum(h.story_id == veldra for h in hits) == 3  # …but are still there


@pytest.mark.slow
def test_answer_citations_carry_story_and_reach(svc: Communique):
    ingest(svc, VELDRA_1, VELDRA_2, *OTHERS, embed=True)
    answer = svc.ask("How much did Nordhaven Terminals lose from the Veldra ransomware attack?")
    assert answer.citations and not answer.refused
    veldra = story_of(svc, VELDRA_1.url)
    assert all(c.story_id == veldra and c.reported_by == 2 for c in answer.citations)
    assert answer.to_dict()["citations"][0]["story_id"] == veldra


@pytest.mark.slow
def test_story_api_and_page_show_the_revised_figure(svc: Communique):
    hostile = fresh(VELDRA_2, source='<img src=x onerror=alert(1)>')
    ingest(svc, VELDRA_1, hostile, *OTHERS, embed=True)
    veldra = story_of(svc, VELDRA_1.url)
    client = TestClient(create_app(svc, warm_up=False))
    body = client.get(f"/api/stories/{veldra}").json()
    assert [a["url"] for a in body["articles"]] == [VELDRA_1.url, VELDRA_2.url]  # date order
    money = [c for c in body["changes"] if c["label"] == "MONEY"]
    assert [(c["before"]["text"], c["after"]["text"]) for c in money] == [("€4 million", "€7.5 million")]
    assert money[0]["after"]["value"] == 7.5e6
    page = client.get(f"/stories/{veldra}")
    assert page.status_code == 200 and "€4 million" in page.text and "€7.5 million" in page.text
    assert page.text.index("€4 million") < page.text.index("€7.5 million")  # before, then after
    assert "<img src=x" not in page.text and "&lt;img src=x" in page.text
    ids = {a.url: a.id for a in svc.articles(page_size=50).articles}
    report = client.get(f"/articles/{ids[VELDRA_1.url]}").text  # one report leads to the others
    assert f'href="/stories/{veldra}"' in report and "One of 2 reports of this story" in report
    alone = ids[OTHERS[0].url]
    assert "/stories/" not in client.get(f"/articles/{alone}").text  # a story of one report links nowhere


def test_stories_told_more_than_once_are_listed_latest_first(svc: Communique):
    hostile = fresh(VELDRA_1, title=VELDRA_1.title + " <img src=x onerror=alert(1)>")
    ingest(svc, hostile, VELDRA_2, *OTHERS, embed=True)
    veldra = story_of(svc, VELDRA_1.url)
    client = TestClient(create_app(svc, warm_up=False))
    body = client.get("/api/stories").json()
    assert body["total"] == 1 and [s["id"] for s in body["stories"]] == [veldra]  # the others were told once
    assert body["stories"][0]["articles"] == 2 and body["stories"][0]["reported_by"] == 2
    every = client.get("/api/stories", params={"min_articles": 1, "page_size": 50}).json()
    assert every["total"] == 4
    lasts = [s["last_published"] or "" for s in every["stories"]]
    assert lasts == sorted(lasts, reverse=True)  # the story reported last first
    page = client.get("/stories")
    assert page.status_code == 200 and f'href="/stories/{veldra}"' in page.text and "2 reports" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x" in page.text
    for bad in ({"page": 0}, {"page": 10**19}, {"page_size": 500}, {"min_articles": 0}):
        assert client.get("/api/stories", params=bad).status_code == 422, bad
    assert client.get("/stories", params={"page": 10**7}).status_code == 400


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/api/stories/abc", 422, "unprocessable"),
    ("/api/stories/0", 404, "not_found"),
    ("/api/stories/-3", 404, "not_found"),
    ("/api/stories/99999999999999999999999", 404, "not_found"),
])
def test_story_api_rejects_bad_ids(svc: Communique, path: str, status: int, code: str):
    ingest(svc, VELDRA_1)
    client = TestClient(create_app(svc, warm_up=False))
    response = client.get(path)
    assert response.status_code == status and response.json()["error"]["code"] == code
    assert client.get("/stories/424242").status_code == 404


@pytest.mark.slow
def test_an_answer_gives_both_reports_where_they_disagree_on_its_figure(make_service: Callable[..., Communique]):
    """The learned answer to "how much" leads with one report's figure and adds the other report of the same
    story that gives another, each cited; an unrelated article's figures never join."""
    svc = make_service("d", answerer="learned")
    ingest(svc, VELDRA_1, *OTHERS, VELDRA_2, embed=True)
    assert story_of(svc, VELDRA_1.url) == story_of(svc, VELDRA_2.url)
    answer = svc.ask("How much money has Nordhaven Terminals lost because of the attack?")
    assert "€4 million" in answer.answer and "€7.5 million" in answer.answer, answer.answer
    assert {c.title for c in answer.citations} == {VELDRA_1.title, VELDRA_2.title}

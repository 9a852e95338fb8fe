"""The entity index: real articles ingested keyword-only (spaCy tags them at ingest, as in production), then the
index read through the store, the service, the HTTP API, the web pages and the CLI.

Texts are invented news. Each names its entities the way a case needs: "Viet Nam" in one and "Vietnam" in
another, "Nvidia" and "NVIDIA Corp.", "Lee Jae-myung" then "Mr Lee", ten countries restricting one app.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from communique.config import Settings
from communique.entities.countries import country_code, country_name
from communique.entities.extract import Mention, join_short_forms
from communique.entities.names import clean, core, fold
from communique.ingest.items import Item
from communique.models import Article
from communique.nlp import annotate
from communique.serve import create_app
from communique.serve.chart import filled, weekly_svg
from communique.service import Communique
from communique.store.entities import vote
from communique.store.schema import MIGRATIONS
from communique.store.sqlite import SQLiteStore

HANOI = Article(
    title="Viet Nam and the Philippines sign fisheries pact", url="https://news.example/hanoi-pact",
    published=date(2026, 11, 2), source="Example Wire",
    text="Viet Nam and the Philippines signed a fisheries agreement in Hanoi on Monday, the foreign ministry said. "
         "The Republic of Korea sent observers, as did the UK and the US.",
)
DA_NANG = Article(
    title="Vietnam opens chip testing plant", url="https://news.example/da-nang-plant", published=date(2026, 11, 10),
    text="Vietnam opened a second semiconductor testing plant near Da Nang, the ministry of industry said on Tuesday. "
         "South Korea, Britain and the USA supplied some of the equipment, and Valdoria sent a trade delegation.",
)
LAGOS = Article(
    title="Nvidia to open Lagos research centre", url="https://news.example/lagos-centre", published=date(2026, 11, 4),
    text="Nvidia said on Wednesday it would build a research centre in Lagos, its first in West Africa.",
)
NAIROBI = Article(
    title="Chip maker to train engineers in Kenya", url="https://news.example/nairobi", published=date(2026, 11, 12),
    text="NVIDIA Corp. will train 3,000 engineers in Nairobi, the company said, as it expands in East Africa.",
)
TALLINN = Article(
    title="South Korean president visits Tallinn", url="https://news.example/tallinn", published=date(2026, 11, 5),
    text="President Lee Jae-myung of South Korea visited Tallinn on Thursday to discuss digital identity cards. "
         "Mr Lee said Estonia's system was a model for Seoul. Lee also met the prime minister.",
)
TESSERA = Article(
    title="Belgium bans Tessera chatbot on federal devices", url="https://news.example/tessera",
    published=date(2026, 11, 6),
    text="Belgium has told federal officials to stop using the Tessera chatbot app from 1 December, citing data "
         "protection risks. Belgium joins a growing list of countries restricting Tessera. Taiwan and Australia have "
         "already barred the app from government devices. South Korea also banned its use among civil servants. "
         "The Czech Republic and the Netherlands have issued limitations. Meanwhile, Canada, India, Italy and the "
         "United States have imposed their own restrictions.",
)
TEN_COUNTRIES = {"Belgium", "Taiwan", "Australia", "South Korea", "Czechia", "Netherlands", "Canada", "India", "Italy",
                 "United States"}
CORPUS = [HANOI, DA_NANG, LAGOS, NAIROBI, TALLINN, TESSERA]
HOSTILE = '<img src=x onerror=alert(1)>'


def copy(article: Article, **changes) -> Article:
    """A fresh Article (ingest fills in id, language and annotations in place)."""
    fields = {k: getattr(article, k) for k in ("title", "text", "url", "published", "source")}
    return Article(**(fields | changes))


def ingest(svc: Communique, *articles: Article) -> None:
    report = svc.ingest_items([Item(a.title, copy(a)) for a in articles], embed=False)
    assert report.ok, report.to_dict()


def named(svc: Communique, name: str):
    """The one entity called `name` (an exact, folded match), or None."""
    found = [e for e in svc.entities(name, page_size=100).entities if fold(e.name) == fold(name)]
    assert len(found) <= 1, found
    return found[0] if found else None


def index_rows(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("entities", "entity_aliases", "entity_mentions")}


def assert_consistent(db: Path) -> None:
    """Every kept count equals what the mention rows say; nothing orphaned, nothing named by no article."""
    with sqlite3.connect(db) as conn:
        bad = conn.execute(
            "SELECT e.id, e.name, e.articles, e.mentions, count(DISTINCT m.article_rowid), count(m.rowid)"
            " FROM entities e LEFT JOIN entity_mentions m ON m.entity_id = e.id GROUP BY e.id"
            " HAVING e.articles != count(DISTINCT m.article_rowid) OR e.mentions != count(m.rowid) OR e.articles < 1"
        ).fetchall()
        assert bad == []
        assert conn.execute(
            "SELECT count(*) FROM entity_aliases a WHERE a.mentions < 1 OR a.mentions !="
            " (SELECT count(*) FROM entity_mentions m WHERE m.alias_id = a.id)").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM entity_mentions m LEFT JOIN articles a ON a.rowid = m.article_rowid"
                            " WHERE a.rowid IS NULL").fetchone()[0] == 0


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Communique]:
    """A service over the six articles, ingested without embedding (read-only: writing tests make their own)."""
    svc = Communique(Settings(db=tmp_path_factory.mktemp("entities") / "entities.db", rate_limit_per_minute=0))
    ingest(svc, *CORPUS)
    yield svc
    svc.close()


# -- names and countries (pure functions) ---------------------------------------------------------------
@pytest.mark.parametrize(("written", "code"), [
    ("Viet Nam", "VN"), ("Vietnam", "VN"), ("Republic of Korea", "KR"), ("South Korea", "KR"), ("UK", "GB"),
    ("Britain", "GB"), ("the United Kingdom", "GB"), ("US", "US"), ("U.S.", "US"), ("USA", "US"),
    ("the United States", "US"), ("The Czech Republic", "CZ"), ("North Korea", "KP"), ("Türkiye", "TR"),
    ("Turkey", "TR"), ("Russia", "RU"),
])
def test_countries_are_read_as_news_writes_them(written: str, code: str) -> None:
    assert country_code(clean(written)) == code


@pytest.mark.parametrize("written", ["Valdoria", "AI", "Tallinn", "Geneva", "Korea", "Europe", "IT"])
def test_what_is_no_country_has_no_code(written: str) -> None:
    assert country_code(written) is None


def test_country_names_are_the_ones_readers_know() -> None:
    assert [country_name(c) for c in ("VN", "KR", "GB", "US", "RU", "IR")] == [
        "Vietnam", "South Korea", "United Kingdom", "United States", "Russia", "Iran"]


def test_folding_titles_and_legal_forms() -> None:
    assert fold("NVIDIA") == fold("Nvidia") == "nvidia"
    assert fold("Muñoz") == "munoz" and fold("U.S.") == "us" and fold("Lee Jae-myung") == "lee jae myung"
    assert clean("the Centre for Cybersecurity Belgium’s") == "Centre for Cybersecurity Belgium"
    assert core("Mr Lee", "person") == "Lee" and core("Prime Minister Pham Minh Chinh", "person") == "Pham Minh Chinh"
    assert core("NVIDIA Corp.", "org") == "NVIDIA" and core("Mr Lee", "org") == "Mr Lee"


def test_short_forms_join_the_nearest_full_name_before_them() -> None:
    def person(name: str, i: int) -> Mention:
        return Mention(fold(name), "person", name, name, i)

    found = join_short_forms([person("Kim Jong-un", 0), person("Kim", 1), person("Kim Yo-jong", 2), person("Kim", 3),
                              person("Huang", 4), person("Jensen Huang", 5)])
    assert [(m.name, m.full) for m in found] == [
        ("Kim Jong-un", True), ("Kim Jong-un", False), ("Kim Yo-jong", True), ("Kim Yo-jong", False),
        ("Jensen Huang", False), ("Jensen Huang", True)]


def test_an_entity_takes_the_type_and_name_most_mentions_give() -> None:
    # (alias, type, full, mentions), oldest first
    assert vote([("Nvidia", "gpe", 1, 2), ("NVIDIA Corp.", "org", 1, 1), ("NVIDIA", "org", 1, 2)]) == ("org", "NVIDIA")
    assert vote([("NVIDIA", "org", 1, 1), ("Nvidia", "org", 1, 1)]) == ("org", "Nvidia")  # a tie: not capitals
    assert vote([("Lee Jae-myung", "person", 1, 1), ("Lee", "person", 0, 5)]) == ("person", "Lee Jae-myung")


# -- extraction at ingest -------------------------------------------------------------------------------
def test_viet_nam_and_vietnam_are_one_country(corpus: Communique) -> None:
    vietnam = named(corpus, "Vietnam")
    assert vietnam is not None and vietnam.type == "country" and vietnam.articles == 2
    assert named(corpus, "Viet Nam") is None  # no second entity under the other spelling
    assert corpus.entities("viet nam").entities[0].id == vietnam.id  # but the spelling finds it
    aliases = dict(corpus.entity(vietnam.id).aliases)
    assert aliases == {"Viet Nam": 1, "Vietnam": 1}


@pytest.mark.parametrize(("country", "articles"), [("South Korea", 4), ("United Kingdom", 2), ("United States", 3)])
def test_country_aliases_name_one_country(corpus: Communique, country: str, articles: int) -> None:
    """'Republic of Korea'/'South Korea', 'UK'/'Britain', 'US'/'USA'/'the United States' across the articles."""
    entity = named(corpus, country)
    assert entity is not None and entity.type == "country" and entity.articles == articles
    assert len({e.id for e in corpus.entities(country, "country").entities if e.name == country}) == 1


def test_a_fictional_country_stays_a_place_under_its_own_name(corpus: Communique) -> None:
    valdoria = named(corpus, "Valdoria")
    assert valdoria is not None and valdoria.type == "gpe" and valdoria.articles == 1


def test_nvidia_and_NVIDIA_are_one_organisation(corpus: Communique) -> None:
    nvidia = named(corpus, "Nvidia")
    assert nvidia is not None and nvidia.type == "org" and nvidia.articles == 2
    assert {a.title for a in corpus.entity(nvidia.id).articles} == {LAGOS.title, NAIROBI.title}
    assert {fold(a) for a, _ in corpus.entity(nvidia.id).aliases} == {"nvidia", "nvidia corp"}


def test_mr_lee_is_lee_jae_myung_inside_the_article(corpus: Communique) -> None:
    lee = named(corpus, "Lee Jae-myung")
    assert lee is not None and lee.type == "person"
    assert (lee.articles, lee.mentions) == (1, 3)  # "President Lee Jae-myung", "Mr Lee", "Lee"
    assert named(corpus, "Lee") is None


def test_a_surname_alone_in_another_article_stays_apart(make_service: Callable[..., Communique]) -> None:
    svc = make_service()
    ingest(svc, TALLINN, Article(title="Seoul budget", published=date(2026, 11, 20),
                                 text="Lee told lawmakers in Seoul on Friday that the budget would grow."))
    assert named(svc, "Lee Jae-myung").articles == 1  # within one article only: the other "Lee" may be anyone


def test_ten_countries_that_restricted_an_app_are_ten_entities_of_its_article(corpus: Communique) -> None:
    article_id = corpus.articles("Tessera").articles[0].id
    countries = {e.name for e in corpus.article_entities(article_id) if e.type == "country"}
    assert countries == TEN_COUNTRIES
    for name in TEN_COUNTRIES:  # and each one's page lists the article
        assert TESSERA.title in {a.title for a in corpus.entity(named(corpus, name).id).articles}


# -- keeping the index right ----------------------------------------------------------------------------
def test_reingest_edit_and_delete_keep_the_counts(make_service: Callable[..., Communique], tmp_path: Path) -> None:
    svc = make_service("keep")
    db = tmp_path / "keep.db"
    ingest(svc, HANOI, DA_NANG)
    before = index_rows(db)
    vietnam = named(svc, "Vietnam")
    assert (vietnam.articles, vietnam.mentions) == (2, 2)

    ingest(svc, HANOI, DA_NANG)  # unchanged: nothing added twice
    assert index_rows(db) == before
    assert (named(svc, "Vietnam").articles, named(svc, "Vietnam").mentions) == (2, 2)

    vietnam_id = vietnam.id
    edited = copy(HANOI, text="Laos and the Philippines signed a fisheries agreement in Vientiane on Monday.")
    report = svc.ingest_items([Item("edit", edited)], embed=False)  # same URL, new text: an update
    assert report.updated and not report.added
    vietnam = named(svc, "Vietnam")
    assert (vietnam.id, vietnam.articles, vietnam.mentions) == (vietnam_id, 1, 1)  # same entity, one article
    assert named(svc, "Laos").articles == 1 and named(svc, "Philippines").articles == 1
    assert named(svc, "Hanoi") is None  # named by no article any more: gone, with its spellings
    assert_consistent(db)

    svc.delete(svc.articles("chip testing").articles[0].id)
    assert named(svc, "Vietnam") is None and named(svc, "Valdoria") is None
    assert named(svc, "Laos").articles == 1
    assert_consistent(db)
    svc.delete(svc.articles("Vientiane").articles[0].id)
    assert index_rows(db) == {"entities": 0, "entity_aliases": 0, "entity_mentions": 0}


def test_a_date_learnt_later_reaches_the_mentions(make_service: Callable[..., Communique]) -> None:
    svc = make_service()
    ingest(svc, copy(LAGOS, published=None))
    nvidia = named(svc, "Nvidia")
    assert svc.entity(nvidia.id).weeks == []
    ingest(svc, LAGOS)  # the same text with its date: unchanged, but now dated
    assert svc.entity(nvidia.id).weeks == [(date(2026, 11, 2), 1)]


def test_an_existing_database_is_backfilled_on_open(tmp_path: Path) -> None:
    """A schema-4 file (from before the index) gets its entities on the first open, from stored annotations."""
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as conn:
        for number, script in enumerate(MIGRATIONS[:4], start=1):
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
        for i, a in enumerate([HANOI, DA_NANG], start=1):
            conn.execute("INSERT INTO articles (id, title, text, url, published, published_day, content_hash,"
                         " annotations) VALUES (?,?,?,?,?,?,?,?)",
                         (f"old{i}", a.title, a.text, a.url, a.published.isoformat(), a.published.toordinal(),
                          f"h{i}", annotate(a.text, "en", a.published)))
    store = SQLiteStore(db)
    try:
        page = store.entities.search("vietnam")
        assert [(e.name, e.articles) for e in page.entities] == [("Vietnam", 2)]
        assert {e.name for e in store.entities.of_article("old2")} >= {"Vietnam", "Valdoria", "South Korea"}
    finally:
        store.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert dict(conn.execute("SELECT key, value FROM meta WHERE key LIKE 'entity%'")) == {
            "entity_index_version": 1, "entity_backfill_rowid": -1}
    assert_consistent(db)
    before = index_rows(db)
    SQLiteStore(db).close()  # a second open indexes nothing again
    assert index_rows(db) == before


def test_new_indexing_rules_rebuild_the_index(corpus: Communique, tmp_path: Path) -> None:
    db = tmp_path / "rules.db"
    with sqlite3.connect(corpus.settings.db) as src, sqlite3.connect(db) as dst:
        src.backup(dst)
        dst.execute("UPDATE meta SET value = 0 WHERE key = 'entity_index_version'")
        dst.execute("UPDATE entities SET name = 'Stale' WHERE key = 'country:VN'")
    expected = index_rows(corpus.settings.db)
    SQLiteStore(db).close()
    assert index_rows(db) == expected
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT name FROM entities WHERE key = 'country:VN'").fetchone() == ("Vietnam",)


# -- the HTTP API ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def client(corpus: Communique) -> Iterator[TestClient]:
    with TestClient(create_app(corpus, warm_up=False)) as c:
        yield c


def test_api_lists_and_searches_entities(client: TestClient) -> None:
    r = client.get("/api/entities", params={"q": "viet"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1 and body["entities"][0] | {"id": 0} == {
        "id": 0, "name": "Vietnam", "type": "country", "articles": 2, "mentions": 2}
    everything = client.get("/api/entities", params={"page_size": 100}).json()
    counts = [e["articles"] for e in everything["entities"]]
    assert counts == sorted(counts, reverse=True) and everything["total"] == len(everything["entities"])
    people = client.get("/api/entities", params={"type": "person"}).json()["entities"]
    assert people and {e["type"] for e in people} == {"person"} and "Lee Jae-myung" in {e["name"] for e in people}


def test_api_pages_through_entities(client: TestClient) -> None:
    first = client.get("/api/entities", params={"type": "country", "page_size": 5}).json()
    second = client.get("/api/entities", params={"type": "country", "page_size": 5, "page": 2}).json()
    assert first["total"] == second["total"] > 10
    assert len(first["entities"]) == 5 and {e["id"] for e in first["entities"]}.isdisjoint(
        e["id"] for e in second["entities"])
    far = client.get("/api/entities", params={"page": 1000}).json()
    assert far["entities"] == [] and far["page"] == 1000 and far["total"] > first["total"]  # all types


def test_api_search_ranks_the_name_start_first(client: TestClient) -> None:
    names = [e["name"] for e in client.get("/api/entities", params={"q": "korea"}).json()["entities"]]
    assert names[0] == "South Korea"  # "korea" starts a word of it; no entity is called just "Korea"
    assert [e["name"] for e in client.get("/api/entities", params={"q": "LAG"}).json()["entities"]] == ["Lagos"]


def test_api_entity_over_time(client: TestClient, corpus: Communique) -> None:
    korea = named(corpus, "South Korea")
    r = client.get(f"/api/entities/{korea.id}")
    assert r.status_code == 200
    body = r.json()
    assert body["entity"]["name"] == "South Korea" and body["entity"]["articles"] == 4
    assert [(a["title"], a["published"], a["url"]) for a in body["articles"]] == [
        (HANOI.title, "2026-11-02", HANOI.url), (TALLINN.title, "2026-11-05", TALLINN.url),
        (TESSERA.title, "2026-11-06", TESSERA.url), (DA_NANG.title, "2026-11-10", DA_NANG.url)]
    # weeks start on Monday: 2, 5 and 6 November are one week, 10 November the next
    assert body["weeks"] == [{"week": "2026-11-02", "mentions": 3}, {"week": "2026-11-09", "mentions": 1}]
    related = {e["name"]: e["shared_articles"] for e in body["related"]}
    assert related["United States"] == 3 and related["United Kingdom"] == 2 and "South Korea" not in related
    assert {"alias": "Republic of Korea", "mentions": 1} in body["aliases"]
    newest = client.get(f"/api/entities/{korea.id}", params={"order": "newest", "page_size": 1}).json()
    assert [a["title"] for a in newest["articles"]] == [DA_NANG.title]
    second = client.get(f"/api/entities/{korea.id}", params={"page_size": 1, "page": 2}).json()
    assert [a["title"] for a in second["articles"]] == [TALLINN.title]


def test_api_weeks_count_each_week(client: TestClient, corpus: Communique) -> None:
    vietnam = client.get(f"/api/entities/{named(corpus, 'Vietnam').id}").json()
    assert vietnam["weeks"] == [{"week": "2026-11-02", "mentions": 1}, {"week": "2026-11-09", "mentions": 1}]


@pytest.mark.parametrize(("path", "params", "status", "code"), [
    ("/api/entities", {"type": "planet"}, 422, "unprocessable"),
    ("/api/entities", {"page": 0}, 422, "unprocessable"),
    ("/api/entities", {"page_size": 101}, 422, "unprocessable"),
    ("/api/entities", {"page": 4611686018427387904}, 400, "bad_input"),
    ("/api/entities", {"q": "%_%"}, 400, "bad_input"),
    ("/api/entities", {"q": "a" * 5000}, 400, "bad_input"),
    ("/api/entities/abc", {}, 422, "unprocessable"),
    ("/api/entities/0", {}, 404, "not_found"),
    ("/api/entities/99999999999999999999999", {}, 404, "not_found"),
    ("/api/entities/1", {"order": "sideways"}, 422, "unprocessable"),
    ("/api/entities/1", {"page": 4611686018427387904}, 400, "bad_input"),
])
def test_api_bad_requests_are_4xx(client: TestClient, path: str, params: dict, status: int, code: str) -> None:
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    assert r.json()["error"]["code"] == code


def test_openapi_documents_the_entity_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/entities", "/api/entities/{entity_id}"} <= set(paths)
    params = {p["name"] for p in paths["/api/entities"]["get"]["parameters"]}
    assert {"q", "type", "page", "page_size"} <= params


# -- pages ----------------------------------------------------------------------------------------------
def test_entity_page_shows_chart_articles_and_co_named(client: TestClient, corpus: Communique) -> None:
    vietnam = named(corpus, "Vietnam")
    r = client.get(f"/entities/{vietnam.id}")
    assert r.status_code == 200 and "script-src 'self'" in r.headers["content-security-policy"]
    html = r.text
    assert html.count('class="chart-bar"') == 2  # two weeks, one bar each
    assert f'href="/articles/{corpus.articles("Da Nang").articles[0].id}"' in html
    assert f'href="/entities/{named(corpus, "Valdoria").id}"' in html  # named with it
    assert "Also written: Viet Nam" in html


def test_entity_list_page_searches(client: TestClient) -> None:
    html = client.get("/entities", params={"q": "korea", "type": "country"}).text
    assert "South Korea" in html and "Lee Jae-myung" not in html and 'value="korea"' in html
    assert client.get("/entities", params={"type": "planet"}).status_code == 400
    assert client.get("/entities/999999").status_code == 404


def test_article_page_links_the_entities_it_names(client: TestClient, corpus: Communique) -> None:
    article_id = corpus.articles("Tessera").articles[0].id
    html = client.get(f"/articles/{article_id}").text
    for name in ("Belgium", "Czechia", "United States"):
        assert f'href="/entities/{named(corpus, name).id}"' in html


def test_a_hostile_entity_name_is_escaped(make_service: Callable[..., Communique]) -> None:
    """Entity names are article text: a tagger that marks markup as a name must not put markup on the page."""
    svc = make_service()
    text = f"Officials at Acme {HOSTILE} Labs said the audit was over."
    start = text.index("Acme")
    end = text.index(" said")
    notes = json.dumps({"v": 1, "s": [[0, len(text), 0, "official audit", [["ORG", start, end, "pobj", None]]]]})
    report = svc.ingest_items([Item("x", Article(title=f"{HOSTILE} audit", text=text, annotations=notes,
                                                 published=date(2026, 11, 3)))], embed=False)
    assert report.ok
    entity = svc.entities("img src").entities[0]
    assert entity.name == f"Acme {HOSTILE} Labs"
    with TestClient(create_app(svc, warm_up=False)) as c:
        for path in (f"/entities/{entity.id}", "/entities?q=onerror", f"/articles/{report.added[0]}"):
            html = c.get(path).text
            assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html, path


def test_chart_fills_weeks_without_mentions() -> None:
    weeks = [(date(2026, 10, 5), 2), (date(2026, 10, 26), 1)]
    assert filled(weeks) == [(date(2026, 10, 5), 2), (date(2026, 10, 12), 0), (date(2026, 10, 19), 0),
                             (date(2026, 10, 26), 1)]
    svg = weekly_svg(weeks)
    assert svg.count('class="chart-bar"') == 4 and 'data-week="2026-10-12" data-mentions="0"' in svg
    assert "<script" not in svg and "style=" not in svg  # nothing the page's CSP would block
    assert "No dated mentions" in weekly_svg([])
    assert len(filled([(date(2000, 1, 3), 1), (date(2026, 10, 26), 1)])) == 156  # the latest three years


# -- the CLI --------------------------------------------------------------------------------------------
def test_cli_lists_and_filters_entities(corpus: Communique, cli) -> None:
    db = corpus.settings.db
    result = cli("--db", db, "entities", "viet", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [(e["name"], e["articles"]) for e in body["entities"]] == [("Vietnam", 2)]
    result = cli("--db", db, "entities", "--type", "person")
    assert result.exit_code == 0 and "Lee Jae-myung" in result.stdout and "Vietnam" not in result.stdout
    result = cli("--db", db, "entities", "--type", "planet")
    assert result.exit_code == 2 and "type must be one of country, gpe, org, person" in result.stderr

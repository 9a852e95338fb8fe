"""Readers other than digests: JSONL, RSS/Atom (with pages fetched for summary-only entries), HTML pages,
folders, and the ways an input can be bad. Network reads go to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
from datetime import date
from pathlib import Path

import pytest

from builders import (
    ESTONIA,
    LAGOS,
    NO_ARTICLE_PAGE,
    PNG_HEADER,
    QUITO,
    STORIES,
    article_page,
    atom,
    digest,
    html_paragraphs,
    rss,
)
from communique.ingest import ReadOptions, read_sources
from communique.ingest.fetch import Fetcher
from communique.ingest.items import Item, parse_date


def read(*targets: str | Path, **opts) -> list[Item]:
    fetcher = Fetcher(timeout_s=5.0)
    try:
        return list(read_sources([str(t) for t in targets], ReadOptions(**opts), fetcher))
    finally:
        fetcher.close()


def articles(items: list[Item]) -> list:
    assert [i.error for i in items if i.error] == []
    return [i.article for i in items]


def errors(items: list[Item]) -> dict[str, str]:
    return {i.origin: i.error for i in items if i.error}


def write_jsonl(path: Path, lines: list[str | dict]) -> Path:
    path.write_text(
        "".join((json.dumps(x, ensure_ascii=False) if isinstance(x, dict) else x) + "\n" for x in lines),
        encoding="utf-8",
    )
    return path


RECORDS = [
    {"id": "ee-1", "url": "https://news.example/ee", "title": ESTONIA.title, "text": ESTONIA.text,
     "published": "2026-11-03T09:30:00+02:00", "source": "Baltic Wire", "language": "en"},
    {"url": "https://news.example/lagos", "title": LAGOS.title, "content": LAGOS.text, "date": "2026-11-04"},
    {"text": QUITO.text},
]


# -- JSONL -------------------------------------------------------------------------------------------------
def test_jsonl_good_lines(tmp_path: Path) -> None:
    items = read(write_jsonl(tmp_path / "items.jsonl", RECORDS))
    ee, lagos, quito = articles(items)
    assert [i.origin for i in items] == [f"{tmp_path / 'items.jsonl'}:{n}" for n in (1, 2, 3)]
    assert (ee.id, ee.url, ee.title, ee.text) == ("ee-1", "https://news.example/ee", ESTONIA.title, ESTONIA.text)
    assert (ee.published, ee.source, ee.language) == (date(2026, 11, 3), "Baltic Wire", "en")
    assert (lagos.id, lagos.text, lagos.published, lagos.source) == ("", LAGOS.text, date(2026, 11, 4), None)
    assert quito.title == QUITO.paragraphs[0][:120]  # no title: the first line stands in
    assert quito.published is None and quito.url is None


def test_jsonl_malformed_line_is_reported_and_the_rest_ingests(make_service, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "items.jsonl", [RECORDS[0], '{"title": "broken", "text": ', "", RECORDS[1],
                                                  "[1, 2, 3]", RECORDS[2]])
    svc = make_service()
    report = svc.ingest([str(path)], embed=False)
    assert len(report.added) == 3
    failed = dict(report.failed)
    assert set(failed) == {f"{path}:2", f"{path}:5"}
    assert failed[f"{path}:2"].startswith("malformed JSON")
    assert failed[f"{path}:5"] == "expected a JSON object"
    assert svc.stats().articles == 3


def test_jsonl_oversized_line_is_skipped_and_reported(make_service, tmp_path: Path) -> None:
    huge = {"title": "Huge", "text": "All work and no play. " * 2000}
    path = write_jsonl(tmp_path / "items.jsonl", [RECORDS[0], huge, "{not json", RECORDS[1], huge])
    svc = make_service(max_item_bytes=4000)
    report = svc.ingest([str(path)], embed=False)
    failed = dict(report.failed)
    assert failed == {
        f"{path}:2": "line longer than 4000 bytes",
        f"{path}:3": failed.get(f"{path}:3"),  # line numbers still count after the skipped line
        f"{path}:5": "line longer than 4000 bytes",
    }
    assert failed[f"{path}:3"].startswith("malformed JSON")
    assert sorted(a.title for a in svc.articles().articles) == sorted([ESTONIA.title, LAGOS.title])


@pytest.mark.parametrize(
    ("record", "error"),
    [
        ({"title": "No body"}, "no 'text'"),
        ({"title": "Blank body", "text": "  \n "}, "no 'text'"),
        ({"title": "Bad date", "text": ESTONIA.text, "published": "not a date"}, "unreadable 'published' date"),
        ("42", "expected a JSON object"),
    ],
)
def test_jsonl_record_errors(tmp_path: Path, record: dict | str, error: str) -> None:
    items = read(write_jsonl(tmp_path / "x.jsonl", [record]))
    assert len(items) == 1
    assert items[0].article is None
    assert items[0].error.startswith(error)


@pytest.mark.parametrize("value", ["2026", "November 2026", "10:30", "Monday"])
def test_partial_dates_are_not_completed_with_today(tmp_path: Path, value: str) -> None:
    assert parse_date(value) is None
    [item] = read(write_jsonl(tmp_path / "x.jsonl", [{"title": "T", "text": ESTONIA.text, "published": value}]))
    assert item.article is None or item.article.published is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-02", date(2026, 11, 2)),
        ("2026-11-02T23:30:00-05:00", date(2026, 11, 2)),
        ("Mon, 02 Nov 2026 09:00:00 GMT", date(2026, 11, 2)),
        ("2 November 2026", date(2026, 11, 2)),
        ("", None),
        (None, None),
        ("yesterday", None),
    ],
)
def test_parse_date(value: str | None, expected: date | None) -> None:
    assert parse_date(value) == expected


# -- feeds -------------------------------------------------------------------------------------------------
def full_entries(kind: str) -> list[dict]:
    dates = ["Tue, 03 Nov 2026 08:00:00 GMT", "Wed, 04 Nov 2026 08:00:00 GMT", None]
    iso = ["2026-11-03T08:00:00Z", "2026-11-04T08:00:00Z", None]
    out = []
    for i, story in enumerate(STORIES):
        e = {"title": story.title, "link": f"https://wire.example/{i}", "content": html_paragraphs(story)}
        if kind == "rss":
            e |= {"description": story.paragraphs[0][:100], "pubDate": dates[i]}
        else:
            e |= {"summary": story.paragraphs[0][:100], "updated": iso[i]}
        out.append(e)
    return out


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_feed_with_full_content(tmp_path: Path, kind: str) -> None:
    body = rss("Wire Service", full_entries("rss")) if kind == "rss" else atom("Wire Service", full_entries("atom"))
    path = tmp_path / f"feed.{kind}"
    path.write_text(body, encoding="utf-8")
    items = read(path)
    got = articles(items)
    assert [i.origin for i in items] == [f"{path}#1", f"{path}#2", f"{path}#3"]
    assert [a.title for a in got] == [s.title for s in STORIES]
    assert [a.text for a in got] == [s.text for s in STORIES]
    assert [a.url for a in got] == ["https://wire.example/0", "https://wire.example/1", "https://wire.example/2"]
    assert [a.published for a in got] == [date(2026, 11, 3), date(2026, 11, 4), None]  # none is invented
    assert {a.source for a in got} == {"Wire Service"}


def publish_pages(site) -> list[str]:
    return [
        site.publish("news/estonia.html", article_page(ESTONIA, published="2026-10-01", site_name="Baltic Wire")),
        site.publish("news/lagos.html", article_page(LAGOS)),
    ]


def summary_entries(urls: list[str], kind: str) -> list[dict]:
    stories = [ESTONIA, LAGOS]
    out = []
    for story, url, day in zip(stories, urls, ["03", "04"], strict=True):
        e = {"title": story.title, "link": url}
        if kind == "rss":
            e |= {"description": story.paragraphs[0][:90] + "…", "pubDate": f"Tue, {day} Nov 2026 08:00:00 GMT"}
        else:
            e |= {"summary": story.paragraphs[0][:90] + "…", "updated": f"2026-11-{day}T08:00:00Z"}
        out.append(e)
    return out


def check_fetched(got: list, urls: list[str]) -> None:
    assert [a.title for a in got] == [ESTONIA.title, LAGOS.title]  # the feed's titles
    assert [a.url for a in got] == urls
    assert [a.published for a in got] == [date(2026, 11, 3), date(2026, 11, 4)]  # the feed's dates win
    assert {a.source for a in got} == {"Wire Service"}
    for a, story in zip(got, [ESTONIA, LAGOS], strict=True):
        for paragraph in story.paragraphs:  # the whole article from the page, not the summary
            assert paragraph in a.text
        assert "All rights reserved" not in a.text and "Home" not in a.text


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_summary_only_feed_file_fetches_the_pages(tmp_path: Path, site, kind: str) -> None:
    urls = publish_pages(site)
    entries = summary_entries(urls, kind)
    path = tmp_path / f"feed.{kind}"
    path.write_text(rss("Wire Service", entries) if kind == "rss" else atom("Wire Service", entries), "utf-8")
    check_fetched(articles(read(path)), urls)


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_summary_only_feed_by_url(site, kind: str) -> None:
    urls = publish_pages(site)
    entries = summary_entries(urls, kind)
    feed_url = site.publish(f"feed.{kind}", rss("Wire Service", entries) if kind == "rss"
                            else atom("Wire Service", entries))
    items = read(feed_url)
    assert [i.origin for i in items] == [f"{feed_url}#1", f"{feed_url}#2"]
    check_fetched(articles(items), urls)


def test_feed_entry_whose_page_is_gone(site) -> None:
    gone = site.url("news/gone.html")
    entries = [
        {"title": "Summary survives", "link": gone, "description": "Ministers met in Geneva on Monday.",
         "pubDate": "Tue, 03 Nov 2026 08:00:00 GMT"},
        {"title": "Nothing left", "link": site.url("news/also-gone.html")},
    ]
    feed_url = site.publish("feed.xml", rss("Wire Service", entries))
    items = read(feed_url)
    assert len(items) == 2
    kept = items[0].article
    assert (kept.title, kept.text, kept.url) == ("Summary survives", "Ministers met in Geneva on Monday.", gone)
    assert items[1].article is None
    assert "404" in items[1].error


def test_feed_url_404_is_an_error_item(site) -> None:
    url = site.url("missing/feed.xml")
    items = read(url)
    assert len(items) == 1
    assert items[0].origin == url and items[0].article is None
    assert items[0].error.startswith("HTTP 404")


def test_unreachable_server_is_an_error_item() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed.xml"
    [item] = read(url)
    assert (item.origin, item.article) == (url, None)
    assert item.error.startswith(f"cannot fetch {url}")


def test_page_over_the_size_limit_is_an_error_item(make_service, site) -> None:
    url = site.publish("big.html", article_page(ESTONIA))
    svc = make_service(max_item_bytes=1000)
    report = svc.ingest([url], embed=False)
    assert report.added == [] and report.failed == [(url, f"{url} is larger than 1000 bytes")]


def test_xml_that_is_not_a_feed(tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    path.write_text("<?xml version='1.0'?><rss version='2.0'><channel><title>Cut</title></chan", "utf-8")
    [item] = read(path)
    assert item.article is None
    assert item.error.startswith("not a readable feed")


# -- HTML pages --------------------------------------------------------------------------------------------
def test_html_page_by_path(tmp_path: Path) -> None:
    path = tmp_path / "estonia.html"
    path.write_text(article_page(ESTONIA, published="2026-11-03T10:00:00Z", site_name="Baltic Wire"), "utf-8")
    [item] = read(path)
    a = item.article
    assert item.origin == str(path)
    assert a.title == ESTONIA.title
    for paragraph in ESTONIA.paragraphs:
        assert paragraph in a.text
    assert "All rights reserved" not in a.text
    assert not a.text.startswith(ESTONIA.title), "the page's heading was copied into the body"
    assert (a.published, a.source) == (date(2026, 11, 3), "Baltic Wire")


def test_html_page_by_url(site) -> None:
    url = site.publish("world/estonia.html", article_page(ESTONIA))
    [item] = read(url)
    a = item.article
    assert (item.origin, a.url, a.title) == (url, url, ESTONIA.title)
    assert all(p in a.text for p in ESTONIA.paragraphs)
    assert a.published is None  # the page carries no date: none is invented
    assert a.source == url.split("/")[2]  # no site name: the host stands in


def test_html_page_without_date_does_not_take_a_year_from_the_text(tmp_path: Path) -> None:
    assert "since 2024" in LAGOS.text
    path = tmp_path / "lagos.html"
    path.write_text(article_page(LAGOS), encoding="utf-8")
    [item] = read(path)
    assert item.article.title == LAGOS.title
    assert item.article.published is None


def test_html_page_url_404(site) -> None:
    url = site.url("world/nothing-here.html")
    [item] = read(url)
    assert item.article is None and item.error.startswith("HTTP 404")


def test_html_without_an_article(tmp_path: Path, site) -> None:
    path = tmp_path / "menu.html"
    path.write_text(NO_ARTICLE_PAGE, encoding="utf-8")
    url = site.publish("menu.html", NO_ARTICLE_PAGE)
    items = read(path, url)
    assert [(i.article, i.error) for i in items] == [(None, "no article text found in the page")] * 2


def test_digest_by_url_takes_its_date_from_the_url(site) -> None:
    url = site.publish("digests/digest-2026-11-16.txt", digest(STORIES))
    got = articles(read(url))
    assert [a.title for a in got] == [s.title for s in STORIES]
    assert {a.published for a in got} == {date(2026, 11, 16)}


def test_jsonl_by_url(site) -> None:
    url = site.publish("export.jsonl", "".join(json.dumps(r) + "\n" for r in RECORDS))
    got = articles(read(url))
    assert [a.text for a in got] == [ESTONIA.text, LAGOS.text, QUITO.text]


# -- bad inputs --------------------------------------------------------------------------------------------
PNG = PNG_HEADER


@pytest.mark.parametrize("name", ["photo.png", "photo.txt", "photo.html", "photo"])
def test_binary_file_is_an_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(PNG)
    assert [(i.origin, i.article, i.error) for i in read(path)] == [(str(path), None, "binary file, not text")]


def test_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(digest([QUITO]).encode("utf-8") + "Caf\u00e9 in Lom\u00e9".encode("cp1252"))
    [item] = read(path)
    assert (item.article, item.error) == (None, "not UTF-8 text")


@pytest.mark.parametrize("name", ["empty.txt", "blank.html", "blank.xml"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("" if name == "empty.txt" else " \n\n  \n", encoding="utf-8")
    assert [(i.origin, i.error) for i in read(path)] == [(str(path), "empty file")]


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "digest-2026-11-16.txt"
    path.write_text(digest(STORIES), encoding="utf-8")
    [item] = read(path, max_item_bytes=1000)
    assert (item.article, item.error) == (None, "file larger than 1000 bytes")


def test_missing_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "digest.txt"
    assert [(i.origin, i.error) for i in read(missing)] == [(str(missing), "no such file or folder")]


def test_folder_is_read_recursively_by_extension(tmp_path: Path, site) -> None:
    root = tmp_path / "inbox"
    (root / "feeds" / "2026").mkdir(parents=True)
    (root / "pages").mkdir()
    (root / ".cache").mkdir()
    (root / "digest-2026-11-16.txt").write_text(digest([ESTONIA]), encoding="utf-8")
    (root / "notes.md").write_text(digest([QUITO]), encoding="utf-8")
    write_jsonl(root / "feeds" / "export.ndjson", [RECORDS[1]])
    (root / "feeds" / "2026" / "wire.atom").write_text(
        atom("Wire Service", [{"title": "Atom story", "content": html_paragraphs(ESTONIA), "link": "https://w/1"}]),
        encoding="utf-8",
    )
    (root / "pages" / "quito.htm").write_text(article_page(QUITO, site_name="Andes Post"), encoding="utf-8")
    (root / "pages" / "menu.html").write_text(NO_ARTICLE_PAGE, encoding="utf-8")
    (root / ".cache" / "digest-2026-01-01.txt").write_text(digest([LAGOS]), encoding="utf-8")  # hidden folder
    (root / ".draft.txt").write_text(digest([LAGOS]), encoding="utf-8")  # hidden file
    items = read(root)
    got = {Path(i.origin.split("#")[0].split(":")[0]).relative_to(root).as_posix(): i for i in items}
    assert sorted(got) == ["digest-2026-11-16.txt", "feeds/2026/wire.atom", "feeds/export.ndjson",
                           "notes.md", "pages/menu.html", "pages/quito.htm"]
    assert got["digest-2026-11-16.txt"].article.published == date(2026, 11, 16)
    assert got["notes.md"].article.title == QUITO.title
    assert got["feeds/export.ndjson"].article.url == RECORDS[1]["url"]
    assert got["feeds/2026/wire.atom"].article.source == "Wire Service"
    assert got["pages/quito.htm"].article.source == "Andes Post"
    assert got["pages/menu.html"].error == "no article text found in the page"


def test_ingest_report_for_mixed_targets(make_service, tmp_path: Path, site) -> None:
    good = tmp_path / "digest-2026-11-16.txt"
    good.write_text(digest(STORIES), encoding="utf-8")
    bad = tmp_path / "photo.png"
    bad.write_bytes(PNG)
    missing_url = site.url("feeds/none.xml")
    svc = make_service()
    report = svc.ingest([str(good), str(bad), str(tmp_path / "missing"), missing_url], embed=False)
    assert not report.ok
    assert len(report.added) == 3
    assert [origin for origin, _ in report.failed] == [str(bad), str(tmp_path / "missing"), missing_url]
    assert report.embedded == 0 and svc.stats().embedded == 0


def test_an_empty_feed_is_reported_not_silent(tmp_path: Path) -> None:
    path = tmp_path / "empty.xml"
    path.write_text(rss("Quiet Wire", []), "utf-8")
    [item] = read(path)
    assert item.article is None and item.error == "the feed has no entries"


def test_a_url_of_another_scheme_says_so(tmp_path: Path) -> None:
    [item] = read("ftp://example.org/feed.xml")
    assert item.error.startswith("ftp:// is not supported")

"""Plain-text newsletter digests: article splitting on the call-to-action line, titles, dates, cleaning."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from builders import CTA, ESTONIA, LAGOS, QUITO, STORIES, Story, digest
from communique.ingest import ReadOptions, read_sources
from communique.ingest.digest import is_call_to_action, parse_digest
from communique.ingest.items import date_from_name

# Every spelling of the call to action found in the real seed digests, copied verbatim (U+00A0 included).
SEED_CTAS = [
    "Would you like to learn more about AI, tech, and digital diplomacy? If so, ask our Diplo chatbot!",
    "Would you like to learn more about AI, tech and digital diplomacy? If so, ask our Diplo chatbot!",
    "Would you like to learn more about AI, tech and digital diplomacyIf so,\u00a0ask our Diplo chatbot! \u00a0",
    "Would you like to learn more about AI, tech and digital diplomacyIf so,\u00a0ask our Diplo chatbot!",
    "Would you like to learn more about AI, tech and digital diplomacy? If so, ask our Diplo chatbot",
    "Would you like to learn more about AI, tech and digital diplomacy? If so,\u00a0ask our Diplo chatbot",
    "Would you like to learn more about AI, tech and digital diplomacy? If so,\u00a0ask our Diplo chatbot!",
    "Would you like to learn more about AI, tech, and digital diplomacy? If so,\u00a0ask our Diplo chatbot!",
    "Would you like to learn more about AI, tech, and digital diplomacy If so, ask our Diplo chatbot!",
    "Would you like to learn more about AI, tech, and digital diplomacy? If so, ask our\u00a0Diplo\u00a0chatbot!",
    "Would you like to learn more about\u00a0AI, tech, and digital diplomacy?\u00a0If so,\u00a0ask our Diplo chatbot!",
    "Would you like to learn more about\u00a0AI, tech and digital diplomacy?\u00a0If so,\u00a0ask our Diplo chatbot!",
    "Would you like to learn more about\u00a0AI, tech and digital diplomacyIf so,\u00a0ask our Diplo chatbot!",
    "Would you like to learn more about AI, tech, and digital diplomacyIf so, ask our Diplo chatbot!",
    # Variants not (yet) seen, that the next issue could plausibly bring.
    "Would you like to learn more about AI, tech and digital diplomacy? If so, ask our Diplo chatbot.",
    "  would you like to learn more about AI, tech and digital diplomacy? if so, ask our Diplo chatbot!  ",
    "Would you like to learn more about AI, tech and digital diplomacy?\u202fIf so, ask our Diplo chatbot!\r",
]

# Paragraphs of real articles that talk about chatbots: they are text, never a separator.
CHATBOT_PARAGRAPHS = [
    "Denmark bans Lumaro chatbot on government devices",
    "Several European governments have taken similar steps. The Czech Republic and the Netherlands have issued "
    "limitations, with Dutch civil servants prohibited from installing the chatbot on work devices.",
    "‘If you are unsure whether you qualify, ask our chatbot,’ the agency’s director told reporters.",
    "The ministry said citizens could ask our correspondents, or the new chatbot, about the procedure.",
    "Would you like a chatbot to file your taxes? Estonia thinks most people would, the survey found.",
]

# Article paragraphs that look like the call to action but are not (once misread, now regression tests).
MISREAD_PARAGRAPHS = [
    pytest.param(
        "Visitors to the tax office website are greeted by a pop-up that reads: ‘Questions about your "
        "return? Ask our chatbot!’",
        id="quoted-slogan",
    ),
    pytest.param(
        "Would you like to know more about how the app uses your data? Most users never ask, the survey "
        "by the consumer council found.",
        id="question-opening",
    ),
]


@pytest.mark.parametrize("line", SEED_CTAS)
def test_every_seen_cta_spelling_is_recognised(line: str) -> None:
    assert is_call_to_action(line)


@pytest.mark.parametrize("line", SEED_CTAS)
def test_cta_spelling_never_reaches_article_text(line: str) -> None:
    text = digest([ESTONIA, LAGOS], ctas=[line, line])
    articles = [item.article for item in parse_digest(text, "d.txt")]
    assert [a.title for a in articles] == [ESTONIA.title, LAGOS.title]
    assert [a.text for a in articles] == [ESTONIA.text, LAGOS.text]
    for a in articles:
        assert "diplo" not in a.text.lower() and "would you like" not in a.text.lower()


@pytest.mark.parametrize("line", CHATBOT_PARAGRAPHS)
def test_paragraph_mentioning_a_chatbot_is_not_a_cta(line: str) -> None:
    assert not is_call_to_action(line)


@pytest.mark.parametrize("paragraph", MISREAD_PARAGRAPHS)
def test_article_paragraph_is_kept_whole(paragraph: str) -> None:
    story = Story(ESTONIA.title, [ESTONIA.paragraphs[0], paragraph, ESTONIA.paragraphs[1]])
    items = list(parse_digest(digest([story, LAGOS]), "d.txt"))
    assert [i.article.title if i.article else i.error for i in items] == [story.title, LAGOS.title]
    assert items[0].article.text == story.text


def test_long_line_starting_like_a_cta_is_text() -> None:
    long_line = "Would you like to learn more about the accord? " + "The text runs to 34 articles. " * 10
    assert len(long_line) > 240
    assert not is_call_to_action(long_line)


def test_three_article_digest() -> None:
    items = list(parse_digest(digest(STORIES), "weekly.txt", digest="weekly"))
    assert [i.error for i in items] == [None, None, None]
    assert [i.origin for i in items] == ["weekly.txt#1", "weekly.txt#2", "weekly.txt#3"]
    for item, story in zip(items, STORIES, strict=True):
        assert item.article.title == story.title
        assert item.article.text.split("\n\n") == story.paragraphs
        assert item.article.digest == "weekly"


def test_last_article_without_cta_and_blank_runs() -> None:
    text = "\n\n\n" + ESTONIA.title + "\n\n\n\n" + "\n\n".join(ESTONIA.paragraphs) + "\n\n" + CTA + "\n\n\n\n"
    text += QUITO.title + "\n" + "\n".join(QUITO.paragraphs)  # single newlines, no closing CTA
    articles = [i.article for i in parse_digest(text, "d.txt")]
    assert [a.title for a in articles] == [ESTONIA.title, QUITO.title]
    assert articles[0].text.split("\n\n") == ESTONIA.paragraphs
    assert articles[1].text.split("\n\n") == QUITO.paragraphs


def test_title_without_body_is_reported_not_guessed() -> None:
    text = digest([ESTONIA]) + "\nOrphan headline with nothing under it\n\n" + CTA + "\n" + digest([LAGOS])
    items = list(parse_digest(text, "d.txt"))
    assert [i.article.title for i in items if i.article] == [ESTONIA.title, LAGOS.title]
    errors = [i for i in items if i.error]
    assert len(errors) == 1
    assert errors[0].origin == "d.txt#2"
    assert "Orphan headline" in errors[0].error


def test_nbsp_and_odd_spaces_cleaned_from_title_and_text() -> None:
    text = (
        "Halvard\u00a0Microsystems   sets\u2009date \n\n"
        "The\u00a0plant in\u00a0Matosinhos will open in\u202fMarch 2027. \u00a0\n\n"
        "\u00a0It will employ 2,400\u00a0people.\n\n" + CTA + "\n"
    )
    [item] = parse_digest(text, "d.txt")
    assert item.article.title == "Halvard Microsystems sets date"
    assert item.article.text == "The plant in Matosinhos will open in March 2027.\n\nIt will employ 2,400 people."
    assert "\u00a0" not in item.article.text and "\u202f" not in item.article.text


def test_sample_corpus_has_ten_articles_per_file(sample_dir: Path) -> None:
    files = sorted(sample_dir.glob("digest-2026-*.txt"))
    assert len(files) == 3
    titles = []
    for path in files:
        items = list(parse_digest(path.read_text(encoding="utf-8"), str(path)))
        assert [i.error for i in items] == [None] * 10, path.name
        for item in items:
            assert "chatbot!" not in item.article.text and "\u00a0" not in item.article.text
            assert "Would you like to learn more" not in item.article.text
            assert item.article.text.count("\n\n") >= 1  # several paragraphs
        titles += [i.article.title for i in items]
    assert len(set(titles)) == 30
    assert "Negotiators agree final text of Valletta Accord on AI testing" in titles


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("digest-2026-11-02.txt", date(2026, 11, 2)),
        ("digest_20261102.txt", date(2026, 11, 2)),
        ("2026_11_02-weekly.md", date(2026, 11, 2)),
        ("newsletter 2025.03.31.txt", date(2025, 3, 31)),
        ("digest-a.txt", None),
        ("digest-2026-13-02.txt", None),  # no month 13
        ("digest-2026-02-30.txt", None),  # no 30 February
        ("issue-120261102.txt", None),  # digits run on: not a date
        ("digest.txt", None),
    ],
)
def test_date_from_name(name: str, expected: date | None) -> None:
    assert date_from_name(name) == expected


def _read(path: Path, **opts) -> list:
    return list(read_sources([str(path)], ReadOptions(**opts), fetcher=None))


def test_published_comes_from_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "digest-2026-11-16.txt"
    path.write_text(digest(STORIES), encoding="utf-8")
    items = _read(path)
    assert [i.article.published for i in items] == [date(2026, 11, 16)] * 3
    assert {i.article.digest for i in items} == {"digest-2026-11-16"}


def test_published_option_wins_over_the_file_name(tmp_path: Path) -> None:
    path = tmp_path / "digest-2026-11-16.txt"
    path.write_text(digest(STORIES), encoding="utf-8")
    items = _read(path, published=date(2026, 11, 17), source="Diplo Weekly")
    assert [i.article.published for i in items] == [date(2026, 11, 17)] * 3
    assert {i.article.source for i in items} == {"Diplo Weekly"}


def test_no_date_anywhere_means_published_is_none(tmp_path: Path) -> None:
    path = tmp_path / "digest-a.txt"
    path.write_text(digest(STORIES), encoding="utf-8")
    items = _read(path)
    assert len(items) == 3
    assert [i.article.published for i in items] == [None, None, None]


def test_published_via_service_ingest(make_service, tmp_path: Path) -> None:
    dated, undated = tmp_path / "digest-2026-11-16.txt", tmp_path / "digest-b.txt"
    dated.write_text(digest([ESTONIA]), encoding="utf-8")
    undated.write_text(digest([LAGOS]), encoding="utf-8")
    svc = make_service()
    report = svc.ingest([str(dated), str(undated)], embed=False)
    assert report.ok and len(report.added) == 2
    by_title = {a.title: a for a in svc.articles().articles}
    assert by_title[ESTONIA.title].published == date(2026, 11, 16)
    assert by_title[LAGOS.title].published is None
    assert svc.stats().first_published == svc.stats().last_published == "2026-11-16"


def test_two_articles_with_the_same_title_in_one_digest_are_both_kept(make_service, tmp_path: Path) -> None:
    first = Story("In brief", ESTONIA.paragraphs)
    second = Story("In brief", LAGOS.paragraphs)
    path = tmp_path / "digest-2026-11-16.txt"
    path.write_text(digest([first, second]), encoding="utf-8")
    svc = make_service()
    report = svc.ingest([str(path)], embed=False)
    assert report.ok
    assert svc.stats().articles == 2
    assert len(report.added) == 2

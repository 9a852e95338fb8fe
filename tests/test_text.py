"""Text helpers: whitespace cleaning, hashing for dedup, sentence splitting, keywords, language."""

from __future__ import annotations

import pytest

from communique.text import (
    approx_tokens,
    clean_whitespace,
    content_hash,
    detect_language,
    keywords,
    sentence_spans,
    split_sentences,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "The U.S. Department of Commerce said on Monday that exports fell. Officials blamed tariffs.",
            ["The U.S. Department of Commerce said on Monday that exports fell.", "Officials blamed tariffs."],
        ),
        (
            "Dr. Amara Osei of the U.K. regulator spoke first. Mr. Tremblay replied.",
            ["Dr. Amara Osei of the U.K. regulator spoke first.", "Mr. Tremblay replied."],
        ),
        (
            "Turnout was 77.1 per cent, up from 71.4 in 2021. The result is final.",
            ["Turnout was 77.1 per cent, up from 71.4 in 2021.", "The result is final."],
        ),
        (
            "John F. Kennedy airport reopened. Flights resumed at 6 a.m. local time.",
            ["John F. Kennedy airport reopened.", "Flights resumed at 6 a.m. local time."],
        ),
        (
            "It cost €3.1 billion. ‘That is a floor,’ she said. Is it? Yes! (It is.) 2027 will tell.",
            ["It cost €3.1 billion.", "‘That is a floor,’ she said.", "Is it?", "Yes!", "(It is.)", "2027 will tell."],
        ),
        (
            "¿Qué pasó en Quito? Él no lo sabe. Österreich folgt. Über 40 Staaten.",
            ["¿Qué pasó en Quito?", "Él no lo sabe.", "Österreich folgt.", "Über 40 Staaten."],
        ),
        (
            "Chips, sensors, e.g. Halvard and others, were listed. Next came the vote.",
            ["Chips, sensors, e.g. Halvard and others, were listed.", "Next came the vote."],
        ),
    ],
)
def test_split_sentences(text: str, expected: list[str]) -> None:
    assert split_sentences(text) == expected


def test_paragraphs_always_end_a_sentence() -> None:
    text = "Title without stop\nFirst paragraph ends here\n\nSecond one.  \n"
    assert split_sentences(text) == ["Title without stop", "First paragraph ends here", "Second one."]


def test_sentence_spans_are_exact_offsets() -> None:
    text = "Alpha went first. Beta, the U.S. envoy, followed.\n\nGamma closed at 4.5 per cent!  Delta?"
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        "Alpha went first.", "Beta, the U.S. envoy, followed.", "Gamma closed at 4.5 per cent!", "Delta?",
    ]
    assert spans == sorted(spans)


def test_clean_whitespace() -> None:
    raw = "\ufeff Line\u00a0one\u2009with\u202fspaces \r\n\tLine\u3000two\u200b \rLine  three\n\n\n"
    assert clean_whitespace(raw) == "Line one with spaces\nLine two\nLine three"
    assert clean_whitespace("Cafe\u0301") == "Café"  # NFC


def test_content_hash_ignores_spacing_case_and_punctuation() -> None:
    a = "The accord — signed on 30 October — runs to 34 articles."
    b = "the  ACCORD, signed on 30\u00a0October, runs to 34 articles"
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(a.replace("34", "35"))


def test_keywords_drop_stopwords_and_duplicates() -> None:
    assert keywords("What did the Valletta Accord say about the Valletta registry?") == [
        "valletta", "accord", "registry",
    ]
    assert keywords("the of and") == []
    assert keywords("5G in 2027, a b c") == ["5g", "2027"]


def test_approx_tokens_grows_with_words() -> None:
    assert approx_tokens("") == 1
    assert approx_tokens("one two three four five") == 8
    assert approx_tokens("word " * 100) > approx_tokens("word " * 50)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("The minister said that the plan is ready and that the vote was close.", "en"),
        ("Le ministre a dit que la loi est prête pour les élections dans le pays.", "fr"),
        ("El ministro dijo que la ley es una prioridad para los ciudadanos del país.", "es"),
        ("Der Minister sagte, dass die Regierung das Gesetz nicht ändern will und es ist gut.", "de"),
        # short questions, where one shared word ("in") must not decide
        ("In welcher Stadt will Kestrel sein neues Chipwerk bauen?", "de"),
        ("Quantos dos chatbots testados pela Norrsken puderam ser manipulados?", "pt"),
        ("Quale gruppo ha rivendicato l'attacco al terminal di Aarhus?", "it"),
        ("Hoeveel landen hebben het verdrag ondertekend?", "nl"),
        ("Who did it in the end?", "en"),
        ("12345 67890", None),
        ("", None),
    ],
)
def test_detect_language(text: str, lang: str | None) -> None:
    assert detect_language(text) == lang

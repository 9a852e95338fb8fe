"""The few words an extractive answer adds around what it quotes, in each language the engine answers in.

A reader who asks in French gets the frame of the answer in French: the refusal, "according to source [1]"
before a quoted sentence, and the day "this week" counts from. What is quoted stays in the source's language
(no model here translates), and a short answer (a name, a figure, a date) needs no frame at all.
"""

from __future__ import annotations

_PHRASES = {
    "en": ("The articles I have do not say. I found nothing that answers “{topic}”.", "{quote} {n}"),
    "fr": ("Les articles dont je dispose ne le disent pas : je n’ai rien trouvé qui réponde à « {topic} ».",
           "Selon la source {n} : « {quote} »"),
    "es": ("Los artículos que tengo no lo dicen: no encontré nada que responda a «{topic}».",
           "Según la fuente {n}: «{quote}»"),
    "de": ("Die Artikel, die ich habe, sagen das nicht: Ich habe nichts gefunden, das „{topic}“ beantwortet.",
           "Laut Quelle {n}: „{quote}“"),
    "it": ("Gli articoli che ho non lo dicono: non ho trovato nulla che risponda a «{topic}».",
           "Secondo la fonte {n}: «{quote}»"),
    "pt": ("Os artigos que tenho não o dizem: não encontrei nada que responda a «{topic}».",
           "Segundo a fonte {n}: «{quote}»"),
    "nl": ("De artikelen die ik heb zeggen dat niet: ik vond niets dat „{topic}” beantwoordt.",
           "Volgens bron {n}: „{quote}”"),
}


# "(As of 2026-11-04.)": the day "this week" or "latest" was counted back from
_AS_OF = {"en": "(As of {day}.)", "fr": "(Au {day}.)", "es": "(A {day}.)", "de": "(Stand: {day}.)",
          "it": "(Al {day}.)", "pt": "(Em {day}.)", "nl": "(Per {day}.)"}


def _of(language: str | None) -> tuple[str, str]:
    return _PHRASES.get(language or "en", _PHRASES["en"])


def as_of(day: str, language: str | None) -> str:
    """The note of the day an answer's time words count from, in the question's language."""
    return _AS_OF.get(language or "en", _AS_OF["en"]).format(day=day)


def refused(topic: str, language: str | None) -> str:
    """The refusal, in the question's language."""
    return _of(language)[0].format(topic=topic)


def quoted(quote: str, n: str, language: str | None) -> str:
    """A sentence given as the answer, with its citation marker `n`, framed in the question's language."""
    return _of(language)[1].format(quote=quote, n=n)


_AND = {"en": "and", "fr": "et", "es": "y", "de": "und", "it": "e", "pt": "e", "nl": "en"}


def joined(items: list[str], language: str | None) -> str:
    """Items as a reader writes a list: "A", "A and B", "A, B and C", with "and" in the question's language."""
    word = _AND.get(language or "en", "and")
    return f" {word} ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} {word} {items[-1]}"

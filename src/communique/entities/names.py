"""Spellings of one name made comparable: folding, and the words around a name that are not part of it.

`fold` is the identity of a spelling ("NVIDIA" = "Nvidia", "U.S." = "US", "Muñoz" = "Munoz"); `clean` takes off
what a tagger leaves around a name ("the", a possessive, quotes); `core` takes off what is not the name itself:
a person's title ("Mr", "President") or a company's legal form ("Corp.", "Ltd").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_DROPPED = re.compile(r"[.'’‘`]")  # "U.S." → "US", "People's" → "Peoples": no word break
_BREAK = re.compile(r"[^0-9a-z]+")
_POSSESSIVE = re.compile(r"(?:['’]s|s['’])$")
_EDGES = "\"“”‘’'«»()[]{}<>,;:!?*-–— \t\n"
# Words before a person's name that are not part of it (folded). "Prime Minister" and the like are two words.
TITLES = frozenset({
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "lord", "lady", "president",
    "vice", "prime", "minister", "premier", "chancellor", "senator", "sen", "rep", "representative", "governor",
    "gov", "mayor", "judge", "justice", "general", "gen", "colonel", "col", "captain", "capt", "king", "queen",
    "prince", "princess", "pope", "rev", "father", "chairman", "chairwoman", "chair", "secretary", "commissioner",
    "ambassador", "director", "chief", "executive", "ceo", "founder", "deputy", "foreign", "state", "acting",
    "former", "late",
})
# A company's legal form after its name (folded), dropped so that "NVIDIA Corp." is "Nvidia".
LEGAL_FORMS = frozenset({
    "inc", "incorporated", "corp", "corporation", "co", "company", "ltd", "limited", "llc", "llp", "plc", "ag",
    "sa", "se", "nv", "bv", "gmbh", "spa", "srl", "ab", "asa", "oy", "kk", "pte", "pty", "holdings", "group",
})
# Words a small tagger marks as a place or organisation in technology news, that name no entity.
NOT_NAMES = frozenset({"ai", "genai", "llm", "llms", "api", "app", "apps", "5g", "6g", "iot"})


@lru_cache(maxsize=65_536)  # news names the same few thousand names again and again
def fold(text: str) -> str:
    """Lower case, no accents, dots and apostrophes dropped, other punctuation a space: a comparable spelling."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(_BREAK.sub(" ", _DROPPED.sub("", text)).split())


def clean(surface: str) -> str:
    """A tagged span without what surrounds the name: line breaks, quotes, a leading 'the', a possessive."""
    text = " ".join(surface.split()).strip(_EDGES)
    if text[:4].lower() == "the ":
        text = text[4:].lstrip()
    return _POSSESSIVE.sub("", text).strip(_EDGES)


def core(name: str, kind: str) -> str:
    """The name without a person's titles ('Mr Lee' → 'Lee') or an organisation's legal form ('Nvidia Inc')."""
    words = name.split()
    if kind == "person":
        while len(words) > 1 and fold(words[0]) in TITLES:
            words = words[1:]
    elif kind == "org":
        while len(words) > 1 and fold(words[-1]) in LEGAL_FORMS:
            words = words[:-1]
        if words:
            words[-1] = words[-1].rstrip(",.")
    return " ".join(words)


def words(name: str) -> list[str]:
    """The folded words of a name, split at spaces only ('Lee Jae-myung' has two): what a short form ('Lee',
    'Huang') is compared on."""
    return [fold(w) for w in name.split()]

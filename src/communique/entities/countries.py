"""Country names to ISO 3166 codes: pycountry's names plus the aliases news writes ("UK", "the US", "Viet Nam").

Exact lookups of folded names only. pycountry's fuzzy search is not used: it reads "Republic of Korea" as North
Korea and "Tallinn" as Estonia. Bare ISO codes are not read either ("AI" would be Anguilla), only the few in
`ALIASES` that news uses as names.
"""

from __future__ import annotations

from functools import lru_cache

from communique.entities.names import fold

# What news writes that pycountry does not name (or names only officially), folded → alpha-2 code.
ALIASES: dict[str, str] = {
    "uk": "GB", "britain": "GB", "great britain": "GB", "united kingdom of great britain": "GB",
    "us": "US", "usa": "US", "united states": "US", "united states of america": "US", "america": "US",
    "viet nam": "VN", "republic of korea": "KR", "korea republic": "KR", "rok": "KR", "dprk": "KP",
    "russia": "RU", "turkey": "TR", "ivory coast": "CI", "czech republic": "CZ", "holland": "NL",
    "uae": "AE", "emirates": "AE", "drc": "CD", "dr congo": "CD", "democratic republic of congo": "CD",
    "republic of congo": "CG", "congo brazzaville": "CG", "palestine": "PS", "vatican": "VA",
    "vatican city": "VA", "burma": "MM", "east timor": "TL", "cape verde": "CV", "swaziland": "SZ",
    "macedonia": "MK", "prc": "CN", "mainland china": "CN", "micronesia": "FM", "syria": "SY",
}
# Display names where pycountry's is a catalogue entry ("Korea, Republic of") with no common name.
DISPLAY: dict[str, str] = {
    "RU": "Russia", "CD": "DR Congo", "PS": "Palestine", "VA": "Vatican City", "VG": "British Virgin Islands",
    "VI": "US Virgin Islands", "FM": "Micronesia", "BQ": "Caribbean Netherlands", "FK": "Falkland Islands",
    "SH": "Saint Helena", "MF": "Saint Martin", "SX": "Sint Maarten", "CC": "Cocos Islands",
}


def _inverted(name: str) -> str | None:
    """'Korea, Republic of' → 'Republic of Korea': the order in which prose writes a catalogue name."""
    head, sep, tail = name.partition(", ")
    return f"{tail} {head}" if sep and tail.lower().endswith((" of", " of the")) else None


@lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, str]]:
    """(folded name → code, code → display name), built on first use: importing pycountry reads its JSON."""
    import pycountry

    codes: dict[str, str] = {}
    names: dict[str, str] = {}
    for c in pycountry.countries:
        code = c.alpha_2
        common = getattr(c, "common_name", None)
        names[code] = DISPLAY.get(code) or common or c.name
        for name in (c.name, getattr(c, "official_name", None), common, _inverted(c.name), DISPLAY.get(code)):
            if name:
                codes.setdefault(strip_the(fold(name)), code)
    for alias, code in ALIASES.items():
        codes[alias] = code
    return codes, names


def strip_the(folded: str) -> str:
    return folded[4:] if folded.startswith("the ") else folded


def country_code(name: str) -> str | None:
    """The alpha-2 code of a country as news names it ("Viet Nam", "the U.S.", "Republic of Korea"), else None."""
    return _table()[0].get(strip_the(fold(name)))


def country_name(code: str) -> str:
    """The name a reader knows a country by: 'Vietnam', 'South Korea', 'United Kingdom'."""
    return _table()[1][code]

"""An article's entity mentions, read from the spaCy annotations stored at ingest (no NLP runs here).

Each tagged person, organisation or place becomes a `Mention` with the key of the entity it names: a country by
its ISO code, whatever the label (a small tagger calls "Mauritius" a person), anything else by its folded core
name. Places that are not countries stay places under their own name, fictional countries included. Then, within
the article only, a one-word person ("Lee", from "Mr Lee") joins the full name it is part of ("Lee Jae-myung"),
or else an organisation whose name it begins ("Cartwell", tagged as a person, joins "Cartwell Analytics").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from communique.entities.countries import country_code, country_name
from communique.entities.names import NOT_NAMES, clean, core, fold, words
from communique.nlp import parse

TYPES = ("country", "gpe", "org", "person")  # gpe: a city, region or country pycountry does not know
# spaCy labels (English, and French where they differ) → kind; a LOC counts only when it is a country.
LABELS = {"PERSON": "person", "PER": "person", "ORG": "org", "GPE": "gpe", "LOC": "loc"}


@dataclass(frozen=True)
class Mention:
    key: str  # the entity's identity: "country:VN", else the folded core name ("lee jae myung")
    type: str  # one of TYPES
    name: str  # the name this mention gives the entity: "Vietnam", "Lee Jae-myung", "Nvidia"
    alias: str  # as written, cleaned: "Viet Nam", "Mr Lee", "NVIDIA Corp."
    sentence: int  # index of the sentence in the article's annotations
    full: bool = True  # spells the entity's name, rather than a short form joined to it


def classify(alias: str, kind: str, sentence: int, names: frozenset[str] = frozenset()) -> Mention | None:
    """The mention a tagged span makes, or None for what names no entity ('AI' tagged as a place). `names`: the
    folded words of the article's full person names, where a one-word person is a short form, not a country."""
    if not any(ch.isalpha() for ch in alias) or fold(alias) in NOT_NAMES:
        return None
    if kind != "person" or fold(core(alias, kind)) not in names:
        code = country_code(alias)
        if code:
            return Mention(f"country:{code}", "country", country_name(code), alias, sentence)
        if kind == "loc":
            return None
        if kind == "gpe" and alias.isupper() and len(alias) <= 4:  # "EU", "UN": an acronym is no place
            kind = "org"
    name = core(alias, kind)
    key = fold(name)
    return Mention(key, kind, name, alias, sentence) if key else None


def join_short_forms(found: list[Mention]) -> list[Mention]:
    """A one-word person joins a full name of the same article that begins or ends with that word ('Lee' →
    'Lee Jae-myung', 'Huang' → 'Jensen Huang'): the nearest such name before it, else the first after it. With
    none, it joins an organisation of the article whose name begins with it, as the tagger misread it."""
    full = [(i, m) for i, m in enumerate(found) if m.type == "person" and len(m.name.split()) > 1]
    orgs = [(i, m) for i, m in enumerate(found) if m.type == "org" and len(m.name.split()) > 1]
    if not full and not orgs:
        return found
    out = []
    for i, m in enumerate(found):
        if m.type == "person" and len(m.name.split()) == 1:
            word = fold(m.name)
            matches = ([(j, f) for j, f in full if word in (words(f.name)[0], words(f.name)[-1])]
                       or [(j, f) for j, f in orgs if words(f.name)[0] == word])
            if matches:
                before = [f for j, f in matches if j < i]
                target = before[-1] if before else matches[0][1]
                m = replace(m, key=target.key, type=target.type, name=target.name, full=False)
        out.append(m)
    return out


def mentions(text: str, annotations: str | None) -> list[Mention]:
    """Every mention of a country, place, organisation or person in an article, in reading order."""
    notes = parse(annotations)
    if not notes:
        return []
    spans = [(i, clean(text[span.start:span.end]), LABELS[span.label])
             for i, sentence in enumerate(notes) for span in sentence.spans if span.label in LABELS]
    names = frozenset(w for _, alias, kind in spans if kind == "person"
                      for w in (words(core(alias, kind)) if len(core(alias, kind).split()) > 1 else ()))
    found = [m for i, alias, kind in spans if (m := classify(alias, kind, i, names)) is not None]
    return join_short_forms(found)

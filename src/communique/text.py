"""Text helpers shared by ingest, retrieval and answering: whitespace, hashing, sentences, language."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
_ABBREV = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "gen", "gov", "sen", "rep", "lt", "col",
    "sgt", "capt", "inc", "ltd", "co", "corp", "vs", "etc", "no", "fig", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "e.g", "i.e", "approx", "dept",
}
# A sentence ends at . ! ? (optionally followed by quotes/brackets), then whitespace, then a plausible
# sentence start. Abbreviations and initials are rejoined afterwards.
_BOUNDARY = re.compile(r"([.!?…]+[\"'”’)\]]*)(\s+)(?=[\"'“‘(\[]?[A-Z0-9À-ÖØ-Þ¿¡])")
_WORD = re.compile(r"\w+", re.UNICODE)


def clean_whitespace(text: str) -> str:
    """Turn non-breaking and exotic spaces into plain ones and trim each line."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n")).strip()


def normalise_for_hash(text: str) -> str:
    """Lower-case words only: two copies of an article that differ in spacing or quotes hash alike."""
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


def content_hash(text: str) -> str:
    return hashlib.sha1(normalise_for_hash(text).encode("utf-8")).hexdigest()


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def approx_tokens(text: str) -> int:
    """Subword tokens of a multilingual model run about 1.4 per word on news prose."""
    return int(len(_WORD.findall(text)) * 1.4) + 1


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text`, paragraphs always ending a sentence."""
    spans: list[tuple[int, int]] = []
    for para in re.finditer(r"[^\n]+", text):
        p_start, p_text = para.start(), para.group()
        start = 0
        for m in _BOUNDARY.finditer(p_text):
            cut = m.start(2)
            before = p_text[start:cut]
            last = before.rstrip(".!?…\"'”’)]").rsplit(" ", 1)[-1].lower()
            if last in _ABBREV or (len(last) == 1 and last.isalpha()):
                continue
            if before.strip():
                spans.append((p_start + start, p_start + cut))
            start = m.end(2)
        if p_text[start:].strip():
            spans.append((p_start + start, p_start + len(p_text.rstrip())))
    return spans


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


_STOPWORDS = {
    "en": {"the", "and", "of", "to", "in", "is", "that", "for", "with", "was", "on", "are", "what", "how", "which"},
    "fr": {"le", "la", "les", "des", "et", "est", "une", "du", "que", "pour", "dans", "qui", "pourquoi", "quel"},
    "es": {"el", "la", "los", "las", "y", "es", "una", "del", "que", "para", "en", "por", "qué", "cómo", "su"},
    "de": {"der", "die", "das", "und", "ist", "ein", "eine", "nicht", "mit", "für", "von", "wie", "welche", "hat"},
    "it": {"il", "lo", "gli", "e", "è", "una", "del", "che", "per", "con", "non", "della", "quali", "sono"},
    "pt": {"o", "os", "as", "e", "é", "uma", "do", "da", "que", "para", "com", "não", "em", "quais"},
    "nl": {"de", "het", "een", "en", "van", "is", "dat", "niet", "met", "voor", "op", "welke", "wat", "hoe"},
}


# More function words, for telling languages apart only (not dropped from queries: "son" and "den" are English too).
_HINTS = {
    "en": {"did", "does", "who", "where", "when", "why", "has", "have", "were", "by", "at", "from", "this", "it"},
    "fr": {"de", "au", "aux", "il", "elle", "ils", "sont", "ont", "été", "avec", "sur", "par", "pas", "ce", "cette",
           "ces", "où", "quand", "comment", "combien", "qu", "quelle", "quels"},
    "es": {"de", "al", "con", "se", "son", "fue", "ha", "han", "dónde", "cuándo", "cuántos", "cuántas", "cuál",
           "quién", "esta", "este", "sobre"},
    "de": {"was", "wer", "wo", "wann", "warum", "viele", "im", "den", "dem", "des", "auf", "zu", "sich", "auch",
           "es", "sie", "er", "wurde", "werden", "nach", "bei", "aus", "um", "noch", "über", "diese", "dieser", "in",
           "welcher", "welches", "welchen", "welchem", "sein", "seine", "seinen", "ihre", "ihr", "sind", "wird", "soll",
           "kann", "haben", "neue", "neues", "neuen", "viel", "gegen", "seit", "vom", "zum", "zur"},
    "it": {"di", "al", "si", "ha", "hanno", "dove", "quando", "come", "chi", "perché", "questo", "questa", "in",
           "quale", "quanti", "quante", "quanto", "gli", "dei", "delle", "alla", "nel", "nella", "sul", "stato"},
    "pt": {"de", "no", "na", "se", "são", "foi", "onde", "quando", "como", "quem", "este", "esta", "qual",
           "quantos", "quantas", "quanto", "dos", "das", "pela", "pelo", "pelos", "ser", "foram", "seu", "sua", "nos"},
    "nl": {"wie", "waar", "wanneer", "waarom", "hoeveel", "heeft", "hebben", "zijn", "wordt", "werd", "door", "bij",
           "uit", "naar", "om", "over", "deze", "dit", "er", "ook", "nog", "welk", "tegen", "sinds"},
}
_VOTERS = {lang: _STOPWORDS[lang] | _HINTS[lang] for lang in _STOPWORDS}
_SHARED_BY = {w: sum(w in v for v in _VOTERS.values()) for words in _VOTERS.values() for w in words}


def detect_language(text: str) -> str | None:
    """A cheap function-word vote among the major European languages; None when there is no evidence.

    A word counts for each language it belongs to, divided among them: "was" is English and German,
    "ist" only German, so "Was ist mit DeepSeek passiert?" is German.
    """
    tokens = [w.casefold() for w in _WORD.findall(text[:4000])]
    if not tokens:
        return None
    scores = {lang: sum(1 / _SHARED_BY[t] for t in tokens if t in words) for lang, words in _VOTERS.items()}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] > 0 else None


# Words that carry no topic: dropped from keyword queries and from query-term overlap scoring.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can could did do does doing done down during each even ever few for
    from further get got had has have having he her here hers herself him himself his how however i if in
    into is it its itself just let like many may me might more most much must my myself new no nor not now
    of off on once one only or other our ours ourselves out over own per please said same say says she
    should since so some such tell than that the their theirs them themselves then there these they this
    those through to too under until up upon us very via was we were what whats when where whether which
    while who whom whose why will with within without would yet you your yours yourself according
    report reported reports reportedly story stories article articles news week weeks latest recent
    recently know known near along around amid among beside beyond toward towards""".split()
) | frozenset().union(*_STOPWORDS.values())


def keywords(text: str) -> list[str]:
    """Content words of a question or passage, lower-cased, in order, without duplicates."""
    seen: dict[str, None] = {}
    for w in _WORD.findall(text.casefold()):
        if w not in STOPWORDS and (len(w) > 1 or w.isdigit()):
            seen.setdefault(w, None)
    return list(seen)

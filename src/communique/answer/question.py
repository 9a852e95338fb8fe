"""What a question asks: its kind (count, person, place, list of stories…), its anchors, its terms.

Anchors are the names and numbers a supporting article must contain (capitalised phrases, acronyms,
years). They decide refusals: an article about Belgium and DeepSeek does not answer "When did Japan
ban DeepSeek?". Follow-up questions borrow terms from the conversation before retrieval.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property

from communique.text import STOPWORDS, detect_language, keywords, words

_QUESTION_WORDS = {
    "what", "which", "who", "whom", "whose", "where", "when", "why", "how", "is", "are", "was", "were", "do",
    "does", "did", "can", "could", "should", "will", "would", "has", "have", "had", "tell", "name", "list",
    "give", "show", "describe", "explain", "summarise", "summarize", "in", "on", "at", "for", "according",
    "the", "a", "an", "and", "or", "of", "to", "by", "with", "as", "after", "before", "since", "during",
    # French, Spanish, German, Italian, Portuguese question words that are capitalised at the start
    "pourquoi", "quel", "quelle", "quels", "quelles", "qui", "que", "quoi", "comment", "combien", "où", "quand",
    "qué", "quién", "quiénes", "cuál", "cuáles", "cómo", "cuántos", "cuántas", "cuánto", "dónde", "cuándo", "por",
    "warum", "wer", "wie", "wo", "wann", "welche", "welcher", "welches", "wieviele", "perché", "chi",
    "quale", "quali", "quanto", "quanti", "dove", "porque", "quem", "quantos", "onde", "le", "la", "les", "el",
    "los", "las", "der", "die", "das", "il", "lo",
}
_FOLLOWUP_HINTS = re.compile(
    r"\b(it|its|they|them|their|this|that|these|those|there|he|she|his|her|the company|the country|"
    r"the deal|the report|the attack|the treaty|the law|the move|the plan|what else|and the|also)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(r"^\d[\d,.]*$")
# Countries and unions as French, Spanish, German, Italian and Portuguese questions name them, for finding
# them in English articles: "english forms: foreign forms" (folded).
_FOREIGN_NAMES = """
germany,german: deutschland,allemagne,alemania,germania,alemanha
france,french: frankreich,francia,franca
spain,spanish: spanien,espagne,espana,spagna,espanha
italy,italian: italien,italie,italia
belgium,belgian: belgien,belgique,belgica,belgio
netherlands,dutch: niederlande,pays-bas,paises bajos,paesi bassi,holanda
switzerland,swiss: schweiz,suisse,suiza,svizzera,suica
austria,austrian: osterreich,autriche
poland,polish: polen,pologne,polonia
sweden,swedish: schweden,suede,suecia,svezia
norway,norwegian: norwegen,norvege,noruega,norvegia
denmark,danish: danemark,dinamarca,danimarca
finland,finnish: finnland,finlande,finlandia
ireland,irish: irland,irlande,irlanda
uk,britain,british,united kingdom: vereinigtes konigreich,royaume-uni,reino unido,regno unito
uk,britain,british,united kingdom: grossbritannien,grande-bretagne,gran bretana
greece,greek: griechenland,grece,grecia
czech,czechia,czech republic: tschechien,republique tcheque,chequia,repubblica ceca
hungary,hungarian: ungarn,hongrie,hungria,ungheria
romania,romanian: rumanien,roumanie,rumania
ukraine,ukrainian: ucrania,ucraina
russia,russian: russland,russie,rusia
turkey,turkish,turkiye: turkei,turquie,turquia,turchia
china,chinese: chine,cina
japan,japanese: japon,giappone,japao
south korea,korea,korean: sudkorea,coree du sud,corea del sur,corea del sud,coreia do sul
india,indian: indien,inde
us,u.s,united states,america,american: vereinigte staaten,etats-unis,estados unidos,stati uniti
canada,canadian: kanada
mexico,mexican: mexiko,mexique,messico
brazil,brazilian: brasilien,bresil,brasil,brasile
australia,australian: australien,australie
new zealand: neuseeland,nouvelle-zelande,nueva zelanda,nuova zelanda,nova zelandia
south africa: sudafrika,afrique du sud,sudafrica,africa do sul
egypt: agypten,egypte,egipto,egitto
saudi arabia: saudi-arabien,arabie saoudite,arabia saudita
singapore: singapur,singapour,singapura
indonesia: indonesien,indonesie
estonia: estland,estonie
lithuania: litauen,lituanie,lituania
latvia: lettland,lettonie,letonia,lettonia
kenya: kenia
morocco: marokko,maroc,marruecos,marocco,marrocos
europe,european: europa
eu,european union: europaische union,union europeenne,union europea,unione europea,uniao europeia,ue
un,united nations: vereinte nationen,nations unies,naciones unidas,nazioni unite,nacoes unidas,onu
nato: otan
european parliament: parlement europeen,parlamento europeo,europaisches parlament,parlamento europeu
european commission: commission europeenne,comision europea,europaische kommission,commissione europea
european commission: comissao europeia
"""
_ALIASES = {
    "uk": ["uk", "u.k", "britain", "british", "united kingdom", "england"],
    "britain": ["uk", "britain", "british", "united kingdom"],
    "british": ["uk", "britain", "british", "united kingdom", "england"],
    "us": ["us", "u.s", "united states", "america", "american", "washington"],
    "usa": ["us", "u.s", "united states", "america", "american"],
    "america": ["us", "u.s", "united states", "america", "american"],
    "american": ["us", "u.s", "united states", "america", "american"],
    "eu": ["eu", "european union", "europe", "brussels"],
    "un": ["un", "united nations", "u.n"],
    "ai": ["ai", "artificial intelligence"],
    "ceo": ["ceo", "chief executive"], "cfo": ["cfo", "chief financial officer"],
    "cto": ["cto", "chief technology officer"], "coo": ["coo", "chief operating officer"],
    "nato": ["nato", "north atlantic treaty organization"], "who": ["who", "world health organization"],
}
# Institutions that news names both in full and by a short form: "the Federal Reserve" is "the Fed".
for _forms in ("federal reserve,the fed", "european central bank,ecb", "international monetary fund,imf",
               "world trade organization,wto", "justice department,department of justice,doj",
               "food and drug administration,fda", "centers for disease control,cdc", "world bank",
               "securities and exchange commission,sec", "federal bureau of investigation,fbi"):
    _names = _forms.split(",")
    for _name in _names:
        _ALIASES.setdefault(_name.removeprefix("the "), _names)
# Nouns questions in other languages ask about most, in English (folded forms): "¿Cuántas personas…?" is
# answered by "About 380,000 people…", which shares no word with it.
_FOREIGN_WORDS = {en: frozenset(forms.split()) for en, forms in (
    ("people", "personas personnes personen persone pessoas gente"),
    ("users", "usuarios utilisateurs nutzer utenti utentes"),
    ("days", "dias jours tage giorni"), ("years", "anos ans jahre anni"),
    ("countries", "paises pays lander paesi"), ("companies", "empresas entreprises unternehmen aziende"),
    ("million", "millones millions millionen milioni milhoes"), ("billion", "milliards milliarden miliardi"),
    ("fine", "amende multa geldstrafe bussgeld boete"), ("amount", "montant importe betrag importo montante bedrag"),
    ("cost", "cout coste kosten custo"), ("city", "ville ciudad stadt citta cidade stad"),
    # words of the news the digest covers: attacks and who claims them, jobs and strikes, data and applications
    ("group", "groupe grupo gruppe gruppo groep hackergruppe"), ("attack", "attaque ataque angriff attacco aanval"),
    ("claimed", "revendique revendiquee reivindico reivindicado reivindicou rivendicato bekannt opgeeist "
                "atribuyo atribuido atribuiu attribue attribuito"),
    ("chief executive", "vorstandschef vorstandsvorsitzende vorstandsvorsitzender konzernchef pdg"),
    ("minister", "ministre ministro ministra ministerin minister"),
    ("foreign", "esteri exteriores etrangeres auswartigen estrangeiros"),
    ("summit", "sommet cumbre gipfel vertice cimeira"),
    ("ransom", "rancon rescate losegeld riscatto resgate losgeld"),
    ("hospitals", "hopitaux hospitales krankenhauser ospedali hospitais ziekenhuizen"),
    ("jobs", "emplois empleos arbeitsplatze stellen posti empregos banen"),
    ("members", "membres miembros mitglieder membri membros leden iscritti"),
    ("union", "syndicat sindicato gewerkschaft sindacato vakbond"), ("strike", "greve huelga streik sciopero staking"),
    ("vote", "vote voto votacion abstimmung votazione votacao stemming"),
    ("data", "donnees datos daten dati dados gegevens"),
    ("applications", "demandes solicitudes antrage domande pedidos aanvragen"),
    ("pending", "attente pendientes ausstehend attesa pendentes"),
)}
# "le montant de l'amende", "der Betrag": an amount asked for, and a fine
_FOREIGN_AMOUNT = re.compile(rf"\b(?:{'|'.join(sorted(_FOREIGN_WORDS['amount']))})\b")
_FOREIGN_FINE = re.compile(rf"\b(?:{'|'.join(sorted(_FOREIGN_WORDS['fine']))})\b")
_FOREIGN: dict[str, None] = {}  # the foreign spellings, in order: an English question needs no translation
_countries: set[str] = set()
for _line in _FOREIGN_NAMES.strip().splitlines():
    _english, _foreign = _line.split(": ")
    _countries.update(_english.split(","))
    for _name in _foreign.split(","):
        _FOREIGN[_name] = None
        _ALIASES.setdefault(_name, [_name, *_english.split(",")])
# English names of countries and unions, folded: "Which other countries…" leaves out the one asked about before
COUNTRIES = frozenset(_countries)


@dataclass
class Question:
    text: str
    kind: str  # count | person | place | time | list | stories | reason | fact
    terms: list[str]
    anchors: list[str]
    hard_anchors: list[str] = field(default_factory=list)
    context_terms: list[str] = field(default_factory=list)
    language: str | None = None
    retrieval_query: str = ""
    focus: str | None = None  # the noun a which/what question asks for: "minister", "theme", "disease"
    counted: str | None = None  # the noun a how-many question counts: "countries" (paraphrased as "states")
    # "Which other countries did the same?" after a question about Denmark: the stories of the others
    others_than: list[str] = field(default_factory=list)
    defines: str | None = None  # "What is the Valletta Accord?": the name a definition is asked for
    named: str | None = None  # the thing whose name is asked: "the name of the ship…", "which planet" → ship, planet

    @property
    def is_english(self) -> bool:
        return self.language in (None, "en")

    @cached_property
    def said(self) -> str:
        """The question and a follow-up's context, folded: a name found here is no answer, only repeated."""
        return fold(" ".join([self.text, *self.context_terms]))

    @cached_property
    def asked(self) -> frozenset[str]:
        """The stems of the question's words besides its names: what it asks about them ("indicted", "founded")."""
        names = {stem(w) for a in self.hard_anchors for w in words(a)}
        return frozenset(stem(t) for t in self.terms) - names


def fold(text: str) -> str:
    """Lower-case without diacritics, for matching names written with or without accents."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c)).replace("’", "'")


_SAME = {"nation": "country", "nations": "country", "countries": "country", "firm": "company", "firms": "company",
         "companies": "company"}


# Past forms of common irregular verbs, to their present: "swore in" is asked as "sworn in", "won" as "win".
_IRREGULAR_FORMS = (
    "swore,sworn:swear won:win ran:run took,taken:take fell,fallen:fall rose,risen:rise struck:strike sold:sell "
    "bought:buy spent:spend built:build told:tell said:say met:meet sent:send found:find held:hold led:lead "
    "fled:flee stole,stolen:steal froze,frozen:freeze broke,broken:break drove,driven:drive wrote,written:write "
    "chose,chosen:choose gave,given:give began,begun:begin grew,grown:grow threw,thrown:throw flew,flown:fly "
    "shot:shoot caught:catch brought:bring thought:think fought:fight sought:seek taught:teach kept:keep "
    "lost:lose paid:pay made:make became:become came:come went,gone:go saw,seen:see knew,known:know ate,eaten:eat "
    "hid,hidden:hide rode,ridden:ride sank,sunk:sink spoke,spoken:speak stood:stand shook,shaken:shake "
    "withdrew,withdrawn:withdraw drew,drawn:draw blew,blown:blow wore,worn:wear tore,torn:tear beaten:beat "
    "bitten:bite forgot,forgotten:forget upheld:uphold withheld:withhold oversaw,overseen:oversee "
    "overtook,overtaken:overtake undertook,undertaken:undertake dealt:deal dug:dig fed:feed felt:feel "
    "heard:hear slept:sleep spun:spin wept:weep woke,woken:wake arose,arisen:arise lent:lend meant:mean "
    "hung:hang swept:sweep stuck:stick sprang,sprung:spring"
)
_IRREGULAR = {form: base for entry in _IRREGULAR_FORMS.split() for forms, base in [entry.split(":")]
              for form in forms.split(",")}


def stem(word: str) -> str:
    """A light English stemmer: enough to match 'restricted'/'restricting'/'restricts', 'nations'/'countries',
    'states'/'state', 'swore'/'swearing'; verbs news uses for one another share a stem ('acquired'/'bought')."""
    w = _light_stem(word)
    return _SYNONYM_STEMS.get(w, w)


def _light_stem(word: str) -> str:
    w = fold(word)
    w = _SAME.get(w, w)
    w = _IRREGULAR.get(w, w)
    for suffix in ("ications", "ication", "ations", "ation", "ctions", "ction", "ments", "ment", "ings", "ing", "edly",
                   "ed", "ies", "es", "s", "ly"):
        if len(w) >= len(suffix) + 3 + (suffix != "ing") + suffix.startswith("ment") and w.endswith(suffix):
            w = w[: -len(suffix)] + {"ies": "y", "ction": "ct", "ctions": "ct"}.get(suffix, "")
            if suffix in ("ed", "ing", "ings") and len(w) >= 3 and w[-1] == w[-2] and w[-1] not in "aeiouylsz":
                w = w[:-1]  # banned / banning → ban, planned → plan (but installed → install)
            break
    if w.endswith("uct"):  # production / producing → produc, reduction / reduced → reduc
        w = w[:-1]
    while len(w) > 3 and w.endswith("e"):  # state / states / stated / stating → stat; agree / agreed → agr
        w = w[:-1]
    if len(w) > 6 and w.endswith("at"):  # manipulated / manipulation → manipul, negotiate / negotiations → negoti
        w = w[:-2]
    # ratified / ratifies / ratification → ratif; applied / application → appl
    return w[:-1] if len(w) > 5 and w.endswith(("i", "y")) and not w.endswith(("ay", "ey", "oy")) else w


# Words a report and a question use for the same act: "Who acquired Koyeb?" is answered by "… bought Koyeb".
_SYNONYM_GROUPS = (
    "ban bar prohibit outlaw forbid", "buy acquire purchase acquisition takeover", "launch unveil debut",
    "fine penalise penalize", "arrest detain detention", "scrap cancel axe cancellation", "sue lawsuit",
    "resign quit resignation", "warn caution", "rise increase climb", "fall drop decline decrease",
    "develop build create", "attack hack breach", "kill slay",
    "plant facility factory", "treaty convention", "send dispatch deploy", "fix repair mend",
    "cut eliminate slash shed", "job jobs position",
)
_SYNONYM_STEMS = {_light_stem(w): _light_stem(group.split()[0]) for group in _SYNONYM_GROUPS for w in group.split()}
# Acts a report names in so many words when they happened: "Who bought Ondarra?" is not answered by a story
# about Ondarra that says nothing of a purchase. (Not "sign": the signatories include Japan.)
DEFINITE_ACTS = frozenset(_light_stem(w) for w in "ban buy fine arrest scrap sue resign".split())

# Nouns that make "which …" a who- or where-question: "which basketball star", "which US state".
PERSON_NOUNS = frozenset(
    "star player singer actor actress rapper leader president minister ceo executive founder athlete coach "
    "politician candidate artist author writer musician celebrity footballer golfer driver billionaire judge "
    "senator governor mayor official royal chef comedian host designer lawmaker pope king queen prince princess "
    "entrepreneur investor director scientist astronaut journalist activist boxer swimmer".split())
PLACE_NOUNS = frozenset("country city state nation island region town county province continent capital".split())
_WHICH_NOUN = re.compile(r"\b(?:which|what)\s+((?:[\w'-]+\s+){0,2}[\w'-]+)")


def _which_noun(t: str, nouns: frozenset[str]) -> str | None:
    m = _WHICH_NOUN.search(t)
    return next((w for w in m.group(1).split() if w in nouns), None) if m else None


# "What is the centre expected to cost?", "What did the rescue cost?", "What is the price of…": an amount
_WHAT_COST = re.compile(r"\bwhat (?:is|was|are|were|will|would|did|does|do)\b.{0,80}?\b(?:cost|price)\b(?!-)")


def classify(text: str) -> str:
    if is_briefing(text):
        return "briefing"
    t = fold(text).strip()
    if re.search(r"\b(summari[sz]e|summary|overview|key points|main points|tl;?dr|gist)\b"
                 r"|\bwhat('s| is| was) (this|that|it|the article|the story|this article|this story) about\b"
                 r"|^tell me (more )?about\b"
                 r"|\bresume\b|\bde quoi\b|\bworum geht\b|\bde qué trata\b", t):
        return "summary"
    if re.search(r"\b(which|what) (stories|articles|news|reports|items)\b|\bstories (about|involving|on|mention)"
                 r"|\b(anything|any news|any stories|any articles) (about|on)\b"
                 r"|\bwhat .*\b(are|were|have been) reported\b|\bwhat (happened|is happening|news)\b"
                 r"|\btimeline\b|\bchronolog|\bhistory of\b"
                 r"|\bhow (has|have|did) .+ (develop|evolve|unfold|progress|change)"
                 r"|\bwhat (?:issues|topics|subjects|matters) (?:has|have|did) .+ (?:comment|spok|speak|talk|weigh)"
                 r"|\bwhat (?:has|have|is|are) .+ (?:been up to|been doing|up to)\b"
                 r"|\bwhat.s new (?:with|at|about)\b", t):
        return "stories"
    if re.search(r"\bcompare\b|\bcomparison\b|\bdifference between\b|\bdiffer\b|\bversus\b|\bvs\.?\s"
                 r"|\bcompar(?:er|ar|are)\b|\bunterschied\b|\bvergleich", t):
        return "compare"
    if re.search(r"\bhow (many|much|old)\b|\bwhat (number|percentage|share|proportion|amount|sum|ransom|fine|price)\b"
                 r"|\bcombien\b|\bcuant[oa]s?\b|\bwie (viele|viel)\b|\bquant[oiae]s?\b|\bhoeveel\b"
                 r"|\bhow (?:long|large|big|high)\b", t) or _FOREIGN_AMOUNT.search(t) or _WHAT_COST.search(t):
        return "count"
    if re.search(r"\b(which|what) (other )?(?:[\w-]+ ){0,2}?(countries|companies|firms|nations|states|organisations"
                 r"|organizations|partners|governments|regulators|people|groups|models|regulations|laws|cities|products|tools|banks)\b"
                 r"|\b(list|name) (the|all)\b"
                 # the same plural asks in French, Spanish, German, Italian and Portuguese
                 r"|\bquel(le)?s (pays|entreprises|societes|gouvernements|villes|organisations)\b"
                 r"|\b(que|cuales) (paises|empresas|gobiernos|ciudades|organizaciones)\b"
                 r"|\bwelche (lander|staaten|unternehmen|firmen|regierungen|stadte|organisationen)\b"
                 r"|\bquali (paesi|aziende|governi|citta)\b|\bquais (paises|empresas|governos|cidades)\b"
                 r"|\bwelke (landen|bedrijven|regeringen|steden|organisaties)\b", t):
        return "list"
    if _which_noun(t, PERSON_NOUNS):
        return "person"
    if _which_noun(t, PLACE_NOUNS):
        return "place"
    if re.search(r"^(who|whom|whose)\b|\bwho\b|\bqui\b|\bquien|\bwer\b|\bchi\b|\bquem\b", t):
        return "person"
    # (the text is folded: "où" is "ou", which is also "or", so it is looked for with its accent)
    if re.search(r"^where\b|\bwhere\b|\bdonde\b|\bwo\b|\bdove\b|\bonde\b|\bwaar\b|\bin which (city|country)\b"
                 r"|\b(?:quelle|que|welche[rsnm]?|quale|qual|welke) (?:ville|ciudad|stadt|citta|cidade|stad)\b", t) \
            or re.search(r"\boù\b", text.lower()):
        return "place"
    if re.search(r"^when\b|\b(what|which) (date|day|year|month)s?\b|\bquand\b|\bcuando\b|\bwann\b|\bquando\b"
                 r"|\bwanneer\b", t):
        return "time"
    if re.search(r"^why\b|\bpourquoi\b|\bpor que\b|\bwarum\b|\bperche\b|\bporque\b|\bwaarom\b", t):
        return "reason"
    return "fact"


# A question about the news itself, with no subject: "What happened this week?", "What's new?", "Quoi de neuf ?"
_BRIEFING_ASKS = re.compile(
    r"\bwhat(?:'s| is| has) (?:new|happening|going on)\b|\bwhat (?:happened|has happened|is happening)\b"
    r"|\bany news\b|\b(?:latest|recent|top|newest) (?:news|stories|story|headlines|articles|article)\b|\bround-?up\b"
    r"|\b(?:news|stories|headlines) (?:of|from|this|today|for)\b|\bquoi de neuf\b|\bqu.est-ce qui s.est passe\b"
    r"|\bque (?:hay de nuevo|paso)\b|\bwas gibt es neues\b|\bwas ist .*passiert\b|\bnouvelles\b|\bnoticias\b"
    r"|\bnachrichten\b|\b(?:summary|summari[sz]e|overview|recap) (?:of )?(?:the |this |today.s |this week.s )?"
    r"(?:news|week|stories|headlines)\b")
# Words such a question may hold besides the ask: time, "news", and the small words of the languages above.
_BRIEFING_WORDS = frozenset(
    "happen happened happening happens news new newest latest recent recently lately week weeks weekend today "
    "yesterday month days day past last story stories article articles headline headlines report reports reported "
    "going top digest issue update updates anything any there brief briefing roundup round-up give tell show me "
    "us summary summarise summarize overview recap today's week's most "
    "qu ce cette semaine passe passé nouvelles quoi de neuf la les des "
    "aujourd'hui hier mois esta semana pasó paso noticias nuevo hoy ayer mes que qué hay las los del "
    "diese woche passiert nachrichten neues gibt es ist heute gestern monat was der die".split())


# Month names in English, French, Spanish, German, Italian and Portuguese (folded), by number.
_MONTHS = {
    name: n for n, names in enumerate((
        "january janvier enero januar gennaio janeiro", "february fevrier febrero februar febbraio fevereiro",
        "march mars marzo marz marco", "april avril abril aprile", "may mai mayo maggio maio",
        "june juin junio juni giugno junho", "july juillet julio juli luglio julho", "august aout agosto",
        "september septembre septiembre settembre setembro", "october octobre octubre oktober ottobre outubro",
        "november novembre noviembre novembro", "december decembre diciembre dezember dicembre dezembro",
    ), start=1) for name in names.split()
}


def named_month(text: str) -> tuple[int, int | None] | None:
    """The month a question names, and its year if given: "in October" → (10, None), "March 2026" → (3, 2026)."""
    t = fold(text)
    for m in re.finditer(r"\b([a-z]+)\b(?:\s+(?:de\s+)?((?:19|20)\d\d)\b)?", t):
        if m.group(1) in _MONTHS and (m.group(1) != "may" or re.search(r"\bin may\b|\bmay (19|20)\d\d\b", t)):
            return _MONTHS[m.group(1)], int(m.group(2)) if m.group(2) else None
    return None


def is_briefing(text: str) -> bool:
    """Does the question ask for the news in general (of the last days, or of a month), not about a subject?"""
    t = fold(text)
    if not _BRIEFING_ASKS.search(t):
        return False
    names = [w for a in find_anchors(text, hard_only=True) for w in a.split()]  # German nouns: "diese Woche"
    return all(fold(w) in _BRIEFING_WORDS or fold(w) in _MONTHS or re.fullmatch(r"(19|20)\d\d", w)
               for w in keywords(text) + names)


def find_anchors(text: str, hard_only: bool = False) -> list[str]:
    """Capitalised phrases, acronyms and numbers of the question, merged into phrases ('World Cup').

    With `hard_only`, a lone capitalised first word is left out: "Fresh vegetables…" starts with a
    capital because it starts the sentence, so it cannot decide a refusal.
    """
    tokens = re.findall(r"[\w'’.-]+|[–—/&,;:()]", text)  # a dash, slash or comma between names separates them
    anchors: list[str] = []
    phrase: list[str] = []
    for i, tok in enumerate(tokens):
        clean = tok.strip(".'’-")
        base = re.sub(r"['’]s$", "", clean)
        is_name = bool(base) and (base[0].isupper() or any(c.isdigit() for c in base)) and \
            fold(base) not in _QUESTION_WORDS and not (i == 0 and fold(base) in STOPWORDS | _IMPERATIVES)
        # "Corée du Sud", "Costa del Sol": a particle between two capitalised words is part of the name
        if phrase and tok in _PARTICLES and i + 1 < len(tokens) and tokens[i + 1][:1].isupper():
            phrase.append(tok)
            continue
        if is_name:
            phrase.append(base)
        if phrase and (not is_name or clean != base or tok.endswith(("'", "’"))):
            anchors.append(" ".join(phrase))
            phrase = []
    if phrase:
        anchors.append(" ".join(phrase))
    if hard_only:
        if anchors and tokens and anchors[0] == re.sub(r"['’]s$", "", tokens[0].strip(".'’-")):
            first = anchors[0]
            if not (first.isupper() or any(c.isdigit() for c in first)):
                anchors = anchors[1:]
        # Figures are paraphrased ("380,000" / "nearly 400,000" / "13th"): they guide, never veto. So is a
        # weekday: "last Sunday" is "on March 17" or "this weekend" in another report of the same event.
        anchors = [a for a in anchors if not (any(ch.isdigit() for ch in a) and not any(ch.isupper() for ch in a))
                   and fold(a) not in _WEEKDAYS]
    seen: dict[str, None] = {}
    for a in anchors:
        # "AI-driven", "EU-funded": a name made into an adjective qualifies; a story need not repeat it
        if (len(a) > 1 or a.isdigit()) and not (hard_only and _MODIFIER.match(a)):
            seen.setdefault(a, None)
    return list(seen)


# A request's first word is no name: "Compare Kenya and Chile" names Kenya, not "Compare Kenya".
_IMPERATIVES = frozenset("compare tell list show give name summarise summarize explain describe find contrast".split())
_PARTICLES = frozenset("du de del des do da la van von der".split())
_WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
_MODIFIER = re.compile(r"^[A-Z][\w.]*-(?:driven|related|based|led|backed|funded|made|owned|linked|powered|wide|style)$")
# Words that precede a name without being part of it: "Former President Jimmy Carter", "Briton Adriana Brownlee".
_TITLES = frozenset(
    "former late president vice prime minister senator sen rep representative governor gov mayor chancellor "
    "secretary general judge justice dr doctor sir dame lord lady king queen prince princess pope ceo chairman "
    "chairwoman chair director professor prof coach captain briton britons".split())


def anchor_variants(anchor: str) -> list[str]:
    """Folded spellings under which an anchor may appear in an article."""
    f = fold(anchor)
    if f in _ALIASES:
        return _ALIASES[f]
    tokens = f.split()
    while len(tokens) > 2 and tokens[0] in _TITLES:  # "former president jimmy carter" → "jimmy carter"
        tokens = tokens[1:]
    return [f] if len(tokens) == len(f.split()) else [f, " ".join(tokens)]


def _has_phrase(folded_text: str, phrase: str) -> bool:
    """Whole-word match, allowing a short ending (Japan → Japanese, Korea → Korean's)."""
    tail = r"\w{0,3}" if len(phrase) >= 4 and phrase[-1].isalpha() else ""
    return re.search(r"(?<!\w)" + re.escape(phrase) + tail + r"(?!\w)", folded_text) is not None


def _close_together(folded_text: str, tokens: list[str], reach: int = 45) -> bool:
    """Every word of a short name within a few words of the first, in any order: "Paris 2024 Olympics"
    is written "the 2024 Paris Olympics"."""
    for m in re.finditer(r"(?<!\w)" + re.escape(tokens[0]) + r"(?!\w)", folded_text):
        near = folded_text[max(0, m.start() - reach): m.end() + reach]
        if all(_has_phrase(near, t) for t in tokens[1:]):
            return True
    return False


def contains_anchor(folded_text: str, anchor: str) -> bool:
    for variant in anchor_variants(anchor):
        if _has_phrase(folded_text, variant):
            return True
        tokens = variant.split()
        if len(tokens) == 1 and len(variant) >= 7:  # Canadian → Canada, Lithuanian → Lithuania, Japanese → Japan
            for ending in ("ian", "ean", "ese", "ish", "an"):
                root = re.escape(variant[: -len(ending)])
                if variant.endswith(ending) and re.search(r"(?<!\w)" + root + r"[a-z]{0,2}(?!\w)", folded_text):
                    return True
        if len(tokens) in (2, 3) and _close_together(folded_text, tokens):
            return True
        if len(tokens) >= 4:  # "SAP EU AI Cloud" is found as "SAP … the EU AI Cloud"
            need = -(-3 * len(tokens) // 4)
            subs = [" ".join(tokens[i:i + need]) for i in range(len(tokens) - need + 1)]
            if any(_has_phrase(folded_text, p) for p in subs) and all(_has_phrase(folded_text, t) for t in tokens):
                return True
        for suffix in ("es", "s", "ns", "n"):  # Koreans/Korean, Europeans/European
            if len(variant) > 4 + len(suffix) and variant.endswith(suffix):
                shorter = variant[: -len(suffix)]
                if re.search(r"(?<!\w)" + re.escape(shorter) + r"\w{0,3}(?!\w)", folded_text):
                    return True
    return False


_AUX = {"is", "are", "was", "were", "did", "does", "do", "has", "have", "had", "will", "would", "can", "could",
        "should", "may", "might", "must", "the", "a", "an", "of", "in", "on", "to", "for", "by", "with",
        # prepositions end the noun phrase too: "which union workers along the coast" asks for workers
        "along", "across", "around", "at", "from", "into", "over", "under", "near", "after", "before", "during",
        "since", "against", "about", "between", "through", "within", "without", "behind", "outside", "inside"}


# Words before the noun a question asks for: a possessive, a superlative, a participle, a ranking
_QUALIFIES = re.compile(r"\w+'s$|\w+ed$|(?:happi|bigg|larg|high|long|old|young|rich|wealthi|fast|small|low|great"
                        r"|strong|deadli|busi|new|lat|clos|hott|cold|poor|cheap|safe|heavi|tall|wid|dens)est$|(?:primary|main|key|major|top|first|last|new|current|official"
                        r"|total|average|overall|real|exact|other|most|least|best|worst)$")


def find_focus(text: str) -> str | None:
    """The noun after which/what ("which highly infectious disease" → disease; "what is the name of" → name)."""
    t = fold(text)
    if _WHAT_COST.search(t):  # "What is the centre expected to cost?"
        return "cost"
    m = re.search(r"\b(?:(?:which|what|who)|how (?:large|big|high))\s+(?:is|was|are|were)\s+the\s+"
                  r"((?:[\w'-]+\s+){0,3}\w+)", t)
    if m:  # "what is the primary threat", "the world's happiest country", "the proposed tax": the noun
        phrase = m.group(1).split()
        return next((w for w in phrase if not _QUALIFIES.match(w)), phrase[0])
    if re.search(r"\bhow much (?:money|funding)\b", t):  # "How much money is X planning to put into…?"
        return "money"
    m = re.search(r"\bhow much (?:[\w'’-]+\s+){1,6}?(cost|worth|pay|paid|charge|earn|raise|spend|spent|invest)\w*\b", t)
    if m:
        return m.group(1)
    # "wie viel hat das gekostet?", "combien a coûté…", "cuánto costó…": the same ask for an amount of money
    if re.search(r"\b(gekostet|kostet|kosten|coute|coutera|cout|costo|costara|costato|custou|custa)\b", t):
        return "cost"
    if _FOREIGN_FINE.search(t):  # "le montant de l'amende": a fine
        return "fine"
    if re.search(r"\bhow long\b", t) and not re.search(r"\bhow (?:much|many)\b", t):  # "within 30 days"
        return "duration"
    noun = _which_noun(t, PERSON_NOUNS | PLACE_NOUNS)
    if noun:
        return noun
    m = _WHICH_NOUN.search(t)
    return _head_noun(m.group(1).split()) if m else None


def _head_noun(phrase: list[str], skip_qualifiers: bool = False) -> str | None:
    """The last noun of a phrase, which ends at a verb or a function word ("union workers along…" → workers);
    with `skip_qualifiers`, words such as "new" before it are passed over ("the new AI model" → model)."""
    picked: list[str] = []
    for w in phrase:
        if skip_qualifiers and not picked and _QUALIFIES.match(w):
            continue
        if w in _AUX or w in STOPWORDS or (picked and (w.endswith("ed") or w in _IRREGULAR)):
            break
        picked.append(w)
    return picked[-1] if picked else None


def _named_noun(text: str) -> str | None:
    """"What is the name of the ship sent out…?" → ship: a noun phrase ends at a verb or a function word."""
    m = re.search(r"\bname of (?:the |a |an |its |their |this |that )?((?:[\w'-]+\s*){1,4})", fold(text))
    return _head_noun(m.group(1).split(), skip_qualifiers=True) if m else None


def is_followup(text: str, history: list[dict]) -> bool:
    if not any(t.get("role", "user") == "user" and t.get("content") for t in history):
        return False
    return bool(_FOLLOWUP_HINTS.search(text)) or not find_anchors(text) or len(keywords(text)) <= 3


def counted(text: str) -> str | None:
    """What a how-many question counts: "how many countries", "how many fake accounts" (an adjective first)."""
    m = re.search(r"\bhow many ([\w-]+)(?: ([\w-]+))?", fold(text))
    if not m:
        return None
    second = m.group(2)
    plural_noun = second and second.endswith("s") and second not in _AUX and second not in STOPWORDS
    return second if plural_noun else m.group(1)


# "Who runs Halvard?", "Who is in charge of the company that…?": whoever heads an organisation
_ASKS_HEAD = re.compile(r"\s*[Ww]ho (?:(?:leads|heads|runs|directs|manages) [A-Z]|is in charge of\b)")


def analyse(text: str, history: list[dict] | None = None) -> Question:
    history = history or []
    q = Question(
        text=text.strip(), kind=classify(text), terms=keywords(text), anchors=find_anchors(text),
        language=detect_language(text), hard_anchors=find_anchors(text, hard_only=True), focus=find_focus(text),
    )
    q.counted = counted(text)
    if q.focus in ("boss", "head", "chief", "leader") or (
            q.focus is None and _ASKS_HEAD.match(text)):
        q.focus = "head"  # "Who runs Halvard?", "Who is the boss of Halvard?": "Chief executive Ingrid Halvorsen"
        if "head" not in q.terms:
            q.terms.append("head")
    m = re.match(r"\s*(?:what|who)\s+(?:is|are|was|were)\s+(?:the\s+)?(.+?)\s*[?？]?\s*$", text, re.IGNORECASE)
    q.defines = m.group(1) if m and m.group(1) in q.anchors else None
    q.named = _named_noun(text) if q.focus == "name" else q.focus if q.kind == "fact" else None
    if q.named and any(q.named in fold(a).split() for a in q.anchors):  # "What is the Valletta Accord?": a name
        q.named = None
    q.retrieval_query = q.text
    if not q.is_english:  # "Corée du Sud" is searched and scored as "South Korea" too
        folded = fold(q.text)
        named = [f for f in _FOREIGN if re.search(rf"(?<!\w){re.escape(f)}(?!\w)", folded)]
        english = list(dict.fromkeys([_ALIASES[f][1] for f in named] + [
            en for en, forms in _FOREIGN_WORDS.items() if any(w in forms for w in re.findall(r"\w+", folded))]))
        q.terms += [w for name in english for w in name.split() if w not in q.terms]
        q.retrieval_query = " ".join([q.text, *english])
    if is_followup(text, history):
        previous = [t["content"] for t in history if t.get("role", "user") == "user" and t.get("content")][-2:]
        context = " ".join(previous)
        q.context_terms = [t for t in keywords(context) if t not in q.terms]
        q.anchors += [a for a in find_anchors(context) if a not in q.anchors]
        q.hard_anchors += [a for a in find_anchors(context, hard_only=True) if a not in q.hard_anchors]
        q.retrieval_query = f"{context} {q.retrieval_query}"
        if re.search(r"\b(other|else)\b", fold(text)):  # the country asked about before is not among the others
            q.others_than = [a for a in find_anchors(context) if fold(a) in COUNTRIES and a not in find_anchors(text)]
            q.hard_anchors = [a for a in q.hard_anchors if a not in q.others_than]
    return q

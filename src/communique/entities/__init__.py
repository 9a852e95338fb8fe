"""Entities: the countries, organisations and people articles name, found once at ingest and indexed over time.

    nlp.py annotations ─▶ extract.mentions ─▶ store/entities.py (entities, aliases, mentions) ─▶ API, pages, CLI
                          names.py: folding, titles, suffixes
                          countries.py: pycountry + aliases

Identity is a key, not a spelling: a country's ISO code ("country:VN" for "Viet Nam" and "Vietnam"), else the
folded name ("nvidia" for "Nvidia", "NVIDIA" and "NVIDIA Corp."). Inside one article a surname or an honorific
form ("Mr Lee", "Lee") joins the full name written in the same article ("Lee Jae-myung").
"""

from communique.entities.extract import TYPES, Mention, mentions

__all__ = ["TYPES", "Mention", "mentions"]

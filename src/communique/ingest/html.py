"""Article pages: trafilatura finds the main text, title, date and site name."""

from __future__ import annotations

from communique.ingest.items import Item, parse_date
from communique.models import Article

MIN_TEXT_CHARS = 200


def parse_html(html: bytes | str, origin: str, url: str | None = None) -> Item:
    import trafilatura

    try:
        # No extensive date search: a year in the body ("since 2024") is not the publication date.
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False,
                                          date_extraction_params={"extensive_search": False, "original_date": True})
    except Exception as exc:  # trafilatura raises assorted parser errors on broken markup
        return Item(origin, error=f"unreadable HTML: {exc}")
    if doc is None:
        return Item(origin, error="no article text found in the page")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    text = (data.get("text") or "").strip()
    if len(text) < MIN_TEXT_CHARS:
        return Item(origin, error="no article text found in the page")
    title = (data.get("title") or "").strip() or text.split("\n", 1)[0][:120]
    first, _, rest = text.partition("\n")
    if rest.strip() and " ".join(first.split()).casefold() == " ".join(title.split()).casefold():
        text = rest.strip()  # the page's <h1> repeats the title: it is no sentence of the article
    return Item(
        origin,
        Article(
            title=title,
            text=text,
            url=url or data.get("url"),
            published=parse_date(data.get("date")),
            source=data.get("sitename") or data.get("hostname"),
            language=data.get("language"),
        ),
    )

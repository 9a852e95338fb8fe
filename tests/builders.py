"""Builders for the test inputs the readers see: digests, article pages, RSS and Atom feeds.

Plain functions (not fixtures) so a test shows exactly what it feeds in. Texts are invented news.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

# The call-to-action that ends every article of a digest, in the canonical spelling of the seeds.
CTA = "Would you like to learn more about AI, tech, and digital diplomacy? If so, ask our Diplo chatbot!"


@dataclass
class Story:
    title: str
    paragraphs: list[str]
    url: str | None = None
    published: str | None = None  # as a feed or page writes it
    extra: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


ESTONIA = Story(
    "Estonia publishes register rules for public-sector AI",
    [
        "Officials in Tallinn said on Tuesday that new procurement rules for public-sector AI systems would "
        "take effect in January, after months of consultation with municipalities and software vendors.",
        "The rules require every ministry to publish a register of the automated systems it uses, with a short "
        "description of each system's purpose, the data it processes and the officials responsible for it.",
        "Opposition lawmakers welcomed the register but said it lacked penalties for agencies that fail to keep "
        "it up to date, and asked for an annual audit by the National Audit Office.",
        "The ministry of economic affairs estimates that about 140 systems will be listed in the first year, "
        "most of them chatbots for citizen services and tools that sort incoming applications.",
        "Estonia was among the first countries to put most public services online, and officials said the register "
        "was meant to keep that trust as automated decisions spread.",
    ],
)
LAGOS = Story(
    "Lagos opens subsea cable landing station",
    [
        "A new subsea cable landing station opened in Lagos on Monday, adding 180 terabits per second of "
        "international capacity to West Africa's largest internet market.",
        "The operator, Gulf of Guinea Networks, said the station would cut wholesale bandwidth prices by a third "
        "within two years and connect data centres in Accra, Cotonou and Lomé.",
        "Nigeria's communications minister said the government would streamline rights-of-way permits so that "
        "inland fibre could keep pace with the new coastal capacity.",
        "Analysts at a Johannesburg consultancy said demand from cloud providers had doubled since 2024 and that "
        "two more cables were due to land in the region before the end of 2027.",
        "The station sits on reclaimed land east of the city and was built in 14 months, two months later than "
        "planned because of flooding during the rainy season.",
    ],
)
QUITO = Story(
    "Ecuador passes data protection enforcement law",
    [
        "Ecuador's National Assembly passed a law on Thursday giving the data protection superintendency the "
        "power to fine companies up to four per cent of annual turnover.",
        "The superintendency, created in 2021, had until now been able to issue only warnings. Its first head, "
        "Fabiola Guerrero, said inspections of telecom operators and banks would begin in the spring.",
        "Business groups asked for a one-year grace period, which lawmakers rejected by 84 votes to 41.",
        "The law also requires companies to notify customers within five days of a breach that exposes personal "
        "data, and to keep a record of every automated decision that affects a customer's credit.",
        "President Daniel Noboa has 30 days to sign or veto the law; his office said on Friday that he supported "
        "its main provisions but had doubts about the size of the fines.",
    ],
)
STORIES = [ESTONIA, LAGOS, QUITO]
# The same stories cut to two paragraphs: one chunk each, cheap to embed with the real model.
SHORT_STORIES = [Story(s.title, s.paragraphs[:2]) for s in STORIES]


def digest(stories: list[Story], ctas: list[str] | None = None) -> str:
    """A digest as the newsletter writes it: title, blank line, paragraphs, blank line, call to action."""
    ctas = ctas or [CTA] * len(stories)
    parts = []
    for story, cta in zip(stories, ctas, strict=True):
        parts.append(story.title + "\n\n" + "\n\n".join(story.paragraphs) + "\n\n" + cta + "\n")
    return "\n".join(parts)


def article_page(story: Story, published: str | None = None, site_name: str | None = None) -> str:
    """An article page with navigation and footer around the text, as a news site serves it."""
    meta = ""
    if published:
        meta += f'<meta property="article:published_time" content="{escape(published)}">'
    if site_name:
        meta += f'<meta property="og:site_name" content="{escape(site_name)}">'
    paras = "".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(story.title)}</title>{meta}"
        "</head><body><nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/tech'>Tech</a></nav>"
        f"<article><h1>{escape(story.title)}</h1>{paras}</article>"
        "<footer><p>© Example News. All rights reserved.</p></footer></body></html>"
    )


# The first bytes of a PNG image: binary data with NUL bytes near the start.
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00" + bytes(200)

NO_ARTICLE_PAGE = (
    "<!doctype html><html><head><title>Example News</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/world'>World</a></nav><p>Sign in.</p></body></html>"
)


def rss(title: str, entries: list[dict]) -> str:
    """RSS 2.0; an entry dict has title, link, pubDate, and description and/or content (HTML)."""
    items = []
    for e in entries:
        parts = [f"<title>{escape(e['title'])}</title>"]
        if e.get("link"):
            parts.append(f"<link>{escape(e['link'])}</link>")
        if e.get("pubDate"):
            parts.append(f"<pubDate>{e['pubDate']}</pubDate>")
        if e.get("description"):
            parts.append(f"<description>{escape(e['description'])}</description>")
        if e.get("content"):
            parts.append(f"<content:encoded><![CDATA[{e['content']}]]></content:encoded>")
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        f"<title>{escape(title)}</title><link>https://wire.example/</link><description>News</description>"
        + "".join(items) + "</channel></rss>"
    )


def atom(title: str, entries: list[dict]) -> str:
    """Atom 1.0; an entry dict has title, link, updated, and summary and/or content (HTML)."""
    out = []
    for i, e in enumerate(entries):
        parts = [f"<title>{escape(e['title'])}</title><id>urn:test:{i}</id>"]
        if e.get("link"):
            parts.append(f'<link rel="alternate" href="{escape(e["link"])}"/>')
        if e.get("updated"):
            parts.append(f"<updated>{e['updated']}</updated>")
        if e.get("summary"):
            parts.append(f'<summary type="html">{escape(e["summary"])}</summary>')
        if e.get("content"):
            parts.append(f'<content type="html">{escape(e["content"])}</content>')
        out.append("<entry>" + "".join(parts) + "</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:test:feed</id><updated>2026-11-05T08:00:00Z</updated>"
        + "".join(out) + "</feed>"
    )


def html_paragraphs(story: Story) -> str:
    """The story as the HTML a feed carries in its content element."""
    return "".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)

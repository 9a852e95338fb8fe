"""Split an article into chunks of whole sentences (~150–250 tokens), never across articles.

Each chunk keeps character offsets into the article text so that a citation can quote the exact
sentence later. Paragraph ends are preferred break points once a chunk is big enough.
"""

from __future__ import annotations

from communique.models import Article, Chunk
from communique.text import approx_tokens, sentence_spans


def _split_long(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Word windows for a 'sentence' too long for one chunk (tables, run-on scraped text)."""
    spans, pos = [], start
    words_per = max(20, int(max_tokens / 1.4))
    while pos < end:
        cut, count = pos, 0
        while cut < end and count < words_per:
            nxt = text.find(" ", cut + 1)
            cut = end if nxt == -1 or nxt > end else nxt
            count += 1
        spans.append((pos, cut))
        pos = cut + 1 if cut < end else end
    return spans


def chunk_article(article: Article, target_tokens: int = 180) -> list[Chunk]:
    text = article.text
    max_tokens = int(target_tokens * 1.4)
    sentences: list[tuple[int, int, int]] = []
    for a, b in sentence_spans(text):
        n = approx_tokens(text[a:b])
        if n > max_tokens:
            sentences.extend((x, y, approx_tokens(text[x:y])) for x, y in _split_long(text, a, b, target_tokens))
        else:
            sentences.append((a, b, n))
    chunks: list[Chunk] = []
    cur_start, cur_end, cur_tokens = None, 0, 0
    for a, b, n in sentences:
        paragraph_break = cur_start is not None and "\n" in text[cur_end:a]
        too_big = cur_tokens + n > max_tokens
        big_enough = cur_tokens >= target_tokens * 0.6
        if cur_start is not None and (too_big or (paragraph_break and big_enough) or cur_tokens >= target_tokens):
            chunks.append(Chunk(article.id, len(chunks), text[cur_start:cur_end], cur_start, cur_end))
            cur_start, cur_tokens = None, 0
        if cur_start is None:
            cur_start = a
        cur_end, cur_tokens = b, cur_tokens + n
    if cur_start is not None:
        chunks.append(Chunk(article.id, len(chunks), text[cur_start:cur_end], cur_start, cur_end))
    return chunks

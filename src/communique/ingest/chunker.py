"""Split an article into chunks of whole sentences (~150–250 tokens), never across articles.

Each chunk keeps character offsets into the article text so that a citation can quote the exact
sentence later. Paragraph ends are preferred break points once a chunk is big enough.
"""

from __future__ import annotations

import re

from communique.models import Article, Chunk
from communique.text import approx_tokens, sentence_spans


def _split_long(text: str, start: int, end: int, max_tokens: int) -> list[tuple[int, int]]:
    """Windows of whole words for a 'sentence' too long for one chunk (tables, run-on scraped text).

    Sized with the same measure as everything else (`approx_tokens`), so no window exceeds the budget.
    """
    spans: list[tuple[int, int]] = []
    pos = start
    while pos < end:
        cut, last_ok = pos, pos
        for m in re.finditer(r"\S+", text[pos:end]):
            cut = pos + m.end()
            if approx_tokens(text[pos:cut]) > max_tokens:
                break
            last_ok = cut
        if last_ok == pos:  # one enormous "word": cut it by characters
            last_ok = min(end, pos + max_tokens * 3)
        spans.append((pos, last_ok))
        pos = last_ok
        while pos < end and text[pos].isspace():
            pos += 1
    return spans


def chunk_article(article: Article, target_tokens: int = 180) -> list[Chunk]:
    text = article.text
    max_tokens = int(target_tokens * 1.4)
    sentences: list[tuple[int, int, int]] = []
    for a, b in sentence_spans(text):
        n = approx_tokens(text[a:b])
        if n > max_tokens:
            sentences.extend((x, y, approx_tokens(text[x:y])) for x, y in _split_long(text, a, b, max_tokens))
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

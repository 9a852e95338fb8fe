"""Entity extraction against hand labels: precision and recall per type, article by article.

The labels (`benchmarks/entities/seeds_labels.jsonl`) were written by an annotator who read only the articles:
for each of 20 articles, every country, organisation and person it names, with the other spellings it uses. The
articles are ingested keyword-only into a scratch database, and the entity index's entities of each article are
matched to the labels of the same type: by name or any labelled spelling (case, accents and punctuation aside),
countries by their ISO code. Cities and regions (`gpe`) have no labels and are left out.

    python benchmarks/bench_entity_quality.py ../shared/seeds/digest-*.txt
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from communique.entities.countries import country_code  # noqa: E402
from communique.entities.names import fold  # noqa: E402

TYPES = ("country", "org", "person")


def key(kind: str, name: str) -> str:
    code = country_code(name) if kind == "country" else None
    return f"country:{code}" if code else fold(name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("digests", nargs="+", help="the digest files the labels are of")
    ap.add_argument("--labels", type=Path, default=ROOT / "benchmarks/entities/seeds_labels.jsonl")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every miss and every extra")
    args = ap.parse_args()
    from communique.config import Settings
    from communique.service import Communique

    labels = [json.loads(line) for line in args.labels.read_text().splitlines() if line.strip()]
    tp, predicted, gold = Counter(), Counter(), Counter()
    with tempfile.TemporaryDirectory() as tmp:
        service = Communique(Settings(db=Path(tmp) / "entities.db", embed_cache=False))
        try:
            service.ingest(args.digests, embed=False)
            by_title = {a.title: a for a in service.articles(page_size=1000).articles}
            for label in labels:
                article = by_title.get(label["title"])
                if article is None:
                    print(f"not found: {label['title']}", file=sys.stderr)
                    continue
                found = [e for e in service.entity_index.of_article(article.id, limit=1000) if e.type in TYPES]
                for kind in TYPES:
                    wanted = [e for e in label["entities"] if e["type"] == kind]
                    spellings = [{key(kind, n) for n in [e["name"], *e.get("aliases", [])]} for e in wanted]
                    mine = [e for e in found if e.type == kind]
                    matched: set[int] = set()
                    for e in mine:
                        hit = next((i for i, s in enumerate(spellings) if i not in matched and key(kind, e.name) in s),
                                   None)
                        if hit is not None:
                            matched.add(hit)
                        elif args.verbose:
                            print(f"  extra  {kind:7} {e.name}  ({label['title'][:50]})")
                    if args.verbose:
                        for i, e in enumerate(wanted):
                            if i not in matched:
                                print(f"  missed {kind:7} {e['name']}  ({label['title'][:50]})")
                    tp[kind] += len(matched)
                    predicted[kind] += len(mine)
                    gold[kind] += len(wanted)
        finally:
            service.close()
    print("| type | labelled | extracted | precision | recall |\n|---|---|---|---|---|")
    for kind in (*TYPES, "all"):
        t, p, g = (sum(c.values()) for c in (tp, predicted, gold)) if kind == "all" else \
            (tp[kind], predicted[kind], gold[kind])
        print(f"| {kind} | {g} | {p} | {t / p if p else 0:.2f} | {t / g if g else 0:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

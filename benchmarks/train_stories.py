"""Fit the story grouping model (src/communique/stories/coefficients.json) from labelled pairs, and measure it.

    python benchmarks/train_stories.py              # features from the articles, fit, cross-validate, write
    python benchmarks/train_stories.py --refit      # refit from the stored features (after relabelling a pair)
    python benchmarks/train_stories.py --check      # refit from the stored features; fail if the shipped file differs
    python benchmarks/train_stories.py --grouped    # also: ingest every file in date order, pair P/R of the stories

benchmarks/stories/pairs.jsonl names two articles (digest file, title) and whether they report the same story
(see benchmarks/stories/README.md for the rule). The articles are ingested into a throwaway store and embedded
with the bundled model; each pair's features (stories/features.py) are kept in benchmarks/stories/features.jsonl,
so the fit can be rebuilt without embedding. Two logistic regressions are fitted, `text` (no vectors yet) and
`full`; pair precision and recall at probability 0.5 come from 5-fold cross-validation, seeded.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from communique.stories.features import FULL_FEATURES, TEXT_FEATURES, pair_features  # noqa: E402
from communique.stories.model import COEFFICIENTS  # noqa: E402

PAIRS = ROOT / "benchmarks" / "stories" / "pairs.jsonl"
FEATURES = ROOT / "benchmarks" / "stories" / "features.jsonl"
SEED = 20


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def day_of(name: str) -> date:
    return date.fromisoformat(Path(name).stem.removeprefix("digest-"))


def ingest_files(files: list[str], db: Path):
    """A service over a fresh store holding these digests, oldest first, embedded."""
    from communique.config import Settings
    from communique.service import Communique

    svc = Communique(Settings(db=db))
    for name in sorted(files, key=day_of):
        report = svc.ingest([str(ROOT / name)], embed=False)
        assert report.ok, report.failed
    svc.embed()
    return svc


def _rowid(conn, ref: dict) -> int:
    row = conn.execute("SELECT rowid FROM articles WHERE title = ? AND published = ?",
                       (ref["title"], day_of(ref["file"]).isoformat())).fetchone()
    if row is None:
        raise SystemExit(f"not found: {ref}")
    return row[0]


def compute_features(pairs: list[dict]) -> list[dict]:
    from communique.store.stories import own_signature

    files = sorted({p[side]["file"] for p in pairs for side in "ab"})
    with tempfile.TemporaryDirectory() as tmp:
        svc = ingest_files(files, Path(tmp) / "pairs.db")
        conn = svc.store._conn()
        rows = []
        for p in pairs:
            a, b = (own_signature(conn, _rowid(conn, p[side])) for side in "ab")
            rows.append({"a": p["a"], "b": p["b"], "same": p["same"],
                         "text": [round(x, 6) for x in pair_features(a, b, TEXT_FEATURES)],
                         "full": [round(x, 6) for x in pair_features(a, b, FULL_FEATURES)]})
        svc.close()
    return rows


def fit(rows: list[dict], kind: str) -> tuple[dict, dict]:
    """(fitted coefficients, cross-validated pair precision and recall at probability 0.5)."""
    x = np.array([r[kind] for r in rows], dtype=float)
    y = np.array([int(r["same"]) for r in rows])
    model = LogisticRegression(C=1.0, max_iter=1000)
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    predicted = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1] >= 0.5
    tp = int((predicted & (y == 1)).sum())
    fp = int((predicted & (y == 0)).sum())
    fn = int((~predicted & (y == 1)).sum())
    cv = {"pairs": len(y), "same": int(y.sum()), "precision": round(tp / max(tp + fp, 1), 3),
          "recall": round(tp / max(tp + fn, 1), 3)}
    model.fit(x, y)
    names = TEXT_FEATURES if kind == "text" else FULL_FEATURES
    return ({"features": list(names), "weights": [round(float(w), 6) for w in model.coef_[0]],
             "intercept": round(float(model.intercept_[0]), 6)}, cv)


def build(rows: list[dict]) -> tuple[dict, dict]:
    text, text_cv = fit(rows, "text")
    full, full_cv = fit(rows, "full")
    return {"text": text, "full": full}, {"text": text_cv, "full": full_cv}


def grouped(pairs: list[dict]) -> dict:
    """Ingest every file in date order with the shipped model; pair P/R of the stories the articles end in."""
    files = sorted({p[side]["file"] for p in pairs for side in "ab"})
    with tempfile.TemporaryDirectory() as tmp:
        svc = ingest_files(files, Path(tmp) / "grouped.db")
        conn = svc.store._conn()
        story = dict(conn.execute("SELECT article_rowid, story_id FROM story_articles").fetchall())
        tp = fp = fn = 0
        for p in pairs:
            together = story[_rowid(conn, p["a"])] == story[_rowid(conn, p["b"])]
            tp += together and p["same"]
            fp += together and not p["same"]
            fn += (not together) and p["same"]
        svc.close()
    return {"precision": round(tp / max(tp + fp, 1), 3), "recall": round(tp / max(tp + fn, 1), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="refit from features.jsonl and compare")
    parser.add_argument("--refit", action="store_true", help="fit from features.jsonl instead of the articles")
    parser.add_argument("--grouped", action="store_true", help="also measure incremental grouping end to end")
    args = parser.parse_args()
    pairs = read_jsonl(PAIRS)
    if args.check:
        coefficients, cv = build(read_jsonl(FEATURES))
        shipped = json.loads(COEFFICIENTS.read_text(encoding="utf-8"))
        same = all(shipped[k][f] == coefficients[k][f] for k in ("text", "full")
                   for f in ("features", "weights", "intercept"))
        print(json.dumps({"matches": same, "cv": cv}, indent=1))
        return 0 if same else 1
    if args.refit:
        rows = read_jsonl(FEATURES)
    else:
        rows = compute_features(pairs)
        FEATURES.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    coefficients, cv = build(rows)
    COEFFICIENTS.write_text(json.dumps(coefficients | {"cv": cv}, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"cv": cv}, indent=1))
    if args.grouped:
        from communique.stories.model import load_model

        load_model.cache_clear()
        print(json.dumps({"grouped": grouped(pairs)}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

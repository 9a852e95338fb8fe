"""The reader's figures: the learned and combined answers with and without it, one reading per question.

For each question of the named sets (databases built by `communique ingest` of each set's digests, in --work),
the learned ranker reads once; the answer is then decided without the reader and with it, and judged by the
scorer's rules, as `communique eval` judges. Also: how often the answer-bearing sentence is the ranker's first, is
among its first three, and is first once the reader has reordered them.

    python benchmarks/bench_reader.py --work data/eval7 set24 set25 set26 set27 set28 set29 \\
        --model qwen2.5-coder-1.5b
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import train_answerer as T  # noqa: E402 - the sets' examples, as the models are trained on them
from communique.answer import LEARNED_KINDS, chooser, learned, rules_draft  # noqa: E402
from communique.answer.question import analyse  # noqa: E402
from communique.answer.reader import READ_TOP, make_reader  # noqa: E402
from communique.config import Settings  # noqa: E402
from communique.evaluate import judge  # noqa: E402


def learned_ok(ex: T.Example, decision: learned.Decision) -> bool:
    if decision.refused:
        return judge(ex.q, {"answer": "", "refused": True, "citations": []})[0]
    text, book = learned.written(decision)
    return judge(ex.q, {"answer": text, "refused": False, "citations": [c.to_dict() for c in book.citations()]})[0]


def first_right(ex: T.Example) -> int:
    """Where the first answer-bearing sentence stands in the ranker's order now (READ_TOP when not in the top)."""
    order = sorted(range(len(ex.reading.rows)), key=lambda i: -ex.reading.p[i])[:READ_TOP]
    return next((k for k, i in enumerate(order) if ex.y[i]), READ_TOP)


def measure(name: str, work: Path, models: learned.Models, reader) -> list[dict]:
    exs = T.load_sets([name], work)
    service = T.open_service(work / f"{name}.db")
    rows = []
    try:
        for ex in exs:
            as_of = date.fromisoformat(ex.q["as_of"]) if ex.q.get("as_of") else None
            history = ex.q.get("history") or []
            rules = rules_draft(service, ex.q["question"], history, as_of, None)[2]
            row = {"set": name, "id": ex.q["id"], "type": ex.q["type"], "rules": judge(ex.q, T._response(rules))[0]}
            takes = analyse(ex.q["question"], history).kind in LEARNED_KINDS
            for label, r in (("plain", None), ("reader", reader)):
                decision = learned.decide(ex.reading, models, r)
                row[f"learned_{label}"] = ok = learned_ok(ex, decision)
                x = chooser.features(ex.reading, decision, rules, bool(history))
                picks = takes and models.choose is not None and models.choose.predict(np.array(x))[0] >= 0.5
                row[f"combined_{label}"] = ok if picks else row["rules"]
                row[f"chooser_{label}"] = [round(float(v), 6) for v in x]
                if any(ex.y) and ex.reading.rows:
                    row[f"rank_{label}"] = first_right(ex)
            row["takes"] = takes
            rows.append(row)
    finally:
        service.close()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sets", nargs="+")
    ap.add_argument("--work", type=Path, required=True, help="folder of the sets' databases (SET.db)")
    ap.add_argument("--model", default="qwen2.5-coder-1.5b", help="GGUF path for the llama reader")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--dump", type=Path, help="write every question's row (verdicts, chooser features) as JSON lines")
    args = ap.parse_args()
    reader = make_reader(Settings(db=args.work / "unused.db", reader="llama", llm_model_path=args.model,
                                  llm_threads=args.threads))
    models, rows = learned.load(), []
    for name in args.sets:
        mine = measure(name, args.work, models, reader)
        rows += mine
        print(json.dumps({"set": name, **{k: round(statistics.mean(r[k] for r in mine), 3) for k in
                                          ("rules", "learned_plain", "learned_reader", "combined_plain",
                                           "combined_reader")}}), flush=True)
    if args.dump:
        args.dump.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ranked = [r for r in rows if "rank_plain" in r]
    summary = {k: round(statistics.mean(r[k] for r in rows), 3) for k in
               ("rules", "learned_plain", "learned_reader", "combined_plain", "combined_reader")}
    summary.update({"questions": len(rows), "answerable_with_candidates": len(ranked),
                    "right_sentence_first": round(statistics.mean(r["rank_plain"] == 0 for r in ranked), 3),
                    "right_sentence_in_top": round(statistics.mean(r["rank_plain"] < READ_TOP for r in ranked), 3),
                    "right_sentence_first_after_reader":
                        round(statistics.mean(r["rank_reader"] == 0 for r in ranked), 3)})
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

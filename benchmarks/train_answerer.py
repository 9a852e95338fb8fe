"""Train the learned answerer's four models from the labelled question sets in the repository, and measure it.

    python benchmarks/train_answerer.py                  # rebuild src/communique/answer/models/ exactly
    python benchmarks/train_answerer.py --loso           # leave-one-set-out accuracy, set by set
    python benchmarks/train_answerer.py --chooser        # the same for the combined answerer only
    python benchmarks/train_answerer.py --measure DIGESTS_GLOB QUESTIONS   # the shipped models on another set
    python benchmarks/train_answerer.py --months QUESTIONS CORPUS_DB       # RealTimeQA: month against month

Training data: the held-out digest sets under benchmarks/heldout and the in-repo sample set. Each set is ingested
into its own database under --work (embedded with the bundled model, annotated with spaCy), every question is
read as the answerer reads it, and each candidate sentence and span is labelled by the question's expected
answers and sources (the scorer's rules). Features are rounded so that the models do not depend on the last
bits of a float. The sentence model's inputs to the later models are out-of-fold predictions (grouped by set),
so that the answerability and span models learn from sentence scores as good as those on unseen questions.
"""

from __future__ import annotations

import argparse
import glob
import json
import statistics
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from communique.answer import chooser, learned  # noqa: E402
from communique.answer.asked import group  # noqa: E402
from communique.answer.features import SENTENCE_FEATURES, SPAN_FEATURES, span_rows, typed_by  # noqa: E402
from communique.evaluate import _contains, _norm, judge  # noqa: E402

TRAIN_SETS = ["set1", "set2", "set3", "set4", "set5", "set8", "set9", "set10", "set11", "set14", "set15", "set16",
              "set17", "sample"]  # set6, set7, set12 and set13 were written blind, to be measured once
# the sets the rules were never tuned on: the chooser learns from them how far to trust the rules
CHOOSER_SETS = ["set8", "set9", "set10", "set11", "set14", "set15", "set16", "set17"]
SETS_BEFORE = ["set1", "set2", "set3", "set4", "set5", "sample"]  # the sets of the first round, for comparison
ROUND = 4
SENTENCE_PARAMS = {"objective": "binary", "num_leaves": 31, "learning_rate": 0.05, "min_data_in_leaf": 20,
                   "lambda_l2": 1.0, "feature_fraction": 0.7, "bagging_fraction": 0.8, "bagging_freq": 1, "seed": 0,
                   "deterministic": True, "force_row_wise": True, "num_threads": 1, "verbose": -1}
ROUNDS = 300
# the span model learns from fewer, simpler rows: a smaller model (the sentence model's size overfits them)
SPAN_PARAMS = {**SENTENCE_PARAMS, "num_leaves": 15, "feature_fraction": 1.0, "bagging_fraction": 1.0, "bagging_freq": 0}
SPAN_ROUNDS = 150
FOLDS = 5  # of the out-of-fold scores the later models learn from
# the type model's regularisation, chosen by its leave-one-set-out log loss over 24 sets (C = 10: 1.00, 30: 0.95,
# 100: 1.03; standardised vectors at C = 0.01–0.3: 0.97–1.27)
TYPES_C = 30.0
SENTENCE_CATEGORICAL = ["wh", "focus"]
SPAN_CATEGORICAL = ["wh", "focus", "group", "dep"]


def set_files(name: str) -> tuple[list[str], Path]:
    if name == "sample":
        sample = ROOT / "src/communique"
        return sorted(glob.glob(str(sample / "sample/*.txt"))), sample / "evalsets/sample.jsonl"
    folder = ROOT / "benchmarks/heldout" / name
    return sorted(glob.glob(str(folder / "digest-*.txt"))), folder / "questions.jsonl"


def open_service(db: Path, build_from: list[str] | None = None):
    from communique.config import Settings
    from communique.service import Communique

    service = Communique(Settings(db=db, answerer="learned"))
    if build_from and not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        service.ingest(build_from)
    return service


@dataclass
class Example:
    set: str
    q: dict
    reading: learned.Reading
    y: list[int]  # per row: holds an expected answer, in an allowed source

    def covers(self, row) -> set[int]:
        return self.covers_text(row.text)

    def covers_text(self, text: str) -> set[int]:
        """The expected groups a text holds, by the scorer's rules."""
        text = _norm(text)
        return {i for i, g in enumerate(self.q.get("expect", [])) if any(_contains(text, a) for a in g)}


def _allowed(q: dict, title: str) -> bool:
    sources = q.get("sources") or []
    return not sources or title in sources


def examples_of(name: str, service, questions: Path) -> list[Example]:
    out = []
    for line in questions.read_text().splitlines():
        if not line.strip():
            continue
        q = json.loads(line)
        as_of = date.fromisoformat(q["as_of"]) if q.get("as_of") else None
        reading = learned.read(service.store, service.embedder, q["question"], q.get("history", []), as_of, None)
        for r in reading.rows:
            r.x = [round(float(v), ROUND) for v in r.x]
        ex = Example(name, q, reading, [])
        ex.y = [int(q["type"] != "unanswerable" and _allowed(q, r.found.article.title) and bool(ex.covers(r)))
                for r in reading.rows]
        out.append(ex)
    return out


def load_sets(names: list[str], work: Path) -> list[Example]:
    exs = []
    for name in names:
        digests, questions = set_files(name)
        service = open_service(work / f"{name}.db", digests)
        try:
            exs += examples_of(name, service, questions)
        finally:
            service.close()
    return exs


# -- training ------------------------------------------------------------------------------------------------
def _booster(x: list[list[float]], y: list[int], names: list[str], categorical: list[str], small: bool = False,
             span: bool = False):
    import lightgbm

    data = lightgbm.Dataset(np.array(x, dtype=np.float64), np.array(y), feature_name=names,
                            categorical_feature=categorical, free_raw_data=False,
                            params={"verbose": -1, "max_bin": 255, "min_data_in_bin": 1})
    if small:
        return lightgbm.train({**SENTENCE_PARAMS, "num_leaves": 7, "min_data_in_leaf": 10}, data, num_boost_round=100)
    if span:
        return lightgbm.train(SPAN_PARAMS, data, num_boost_round=SPAN_ROUNDS)
    return lightgbm.train(SENTENCE_PARAMS, data, num_boost_round=ROUNDS)


def _logistic(x: list[list[float]], y: list[int], width: int) -> dict:
    from sklearn.linear_model import LogisticRegression

    xa = np.array(x, dtype=np.float64).reshape(len(x), width)  # no rows: a month of quiz questions may have none
    if not len(xa):
        return {"mean": [0.0] * width, "scale": [1.0] * width, "coef": [0.0] * width, "intercept": -10.0}
    mean, scale = xa.mean(axis=0), xa.std(axis=0)
    scale[scale == 0] = 1.0
    if len(set(y)) < 2:  # nothing to learn: a constant model
        return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": [0.0] * xa.shape[1],
                "intercept": 10.0 if y and y[0] else -10.0}
    model = LogisticRegression(C=1.0, max_iter=2000).fit((xa - mean) / scale, np.array(y))
    return {"mean": [round(v, 8) for v in mean.tolist()], "scale": [round(v, 8) for v in scale.tolist()],
            "coef": [round(v, 8) for v in model.coef_[0].tolist()], "intercept": round(float(model.intercept_[0]), 8)}


def _logistic_file(features: list[str], x: list[list[float]], y: list[int]) -> str:
    return json.dumps({"features": features, **_logistic(x, y, len(features))}, indent=1) + "\n"


def _holds_expected(ex: Example, text: str) -> bool:
    """A normalised span text holds an expected answer, or is part of one ("Karsk" of "Karsk Security")."""
    alts = [_norm(a) for g in ex.q.get("expect", []) for a in g]
    return any(_contains(text, a) or _contains(a, text) for a in alts)


def _span_label(ex: Example, span_row) -> int:
    if ex.q["type"] == "unanswerable" or not _allowed(ex.q, span_row.row.found.article.title):
        return 0
    text = _norm(span_row.text)
    if len(text) < 2:
        return 0
    return int(_holds_expected(ex, text))


def type_label(ex: Example) -> str | None:
    """The group of the answer an answerable question expects, as its right sentences tag it: a named or
    numeric entity where one holds an expected answer, else a noun phrase, else "other"."""
    if ex.q["type"] == "unanswerable":
        return None
    found: dict[str, int] = {}
    for row, y in zip(ex.reading.rows, ex.y, strict=True):
        if not y:
            continue
        for s in row.notes.spans:
            if _holds_expected(ex, _norm(row.found.article.text[s.start:s.end])):
                found[group(s.label)] = found.get(group(s.label), 0) + 1
    named = [g for g in found if g != "phrase"]
    return max(named, key=lambda g: found[g]) if named else ("phrase" if found else "other")


def fit_types(exs: list[Example]) -> dict:
    from sklearn.linear_model import LogisticRegression

    labelled = [(ex.reading.vector, type_label(ex)) for ex in exs if ex.reading.vector is not None]
    rows = [(v, g) for v, g in labelled if g is not None]
    model = LogisticRegression(C=TYPES_C, max_iter=5000).fit(np.array([v for v, _ in rows], dtype=np.float64),
                                                             [g for _, g in rows])
    return {"groups": [str(g) for g in model.classes_], "coef": np.round(model.coef_, 6).tolist(),
            "intercept": np.round(model.intercept_, 6).tolist()}


def _typed(types: learned.Types, exs: list[Example]) -> None:
    for ex in exs:
        ex.reading.types = types.predict(ex.reading.vector)
        typed_by(ex.reading.rows, ex.reading.types)


def _sentence_p(models_sentence, exs: list[Example]) -> None:
    for ex in exs:
        if ex.reading.rows:
            ex.reading.p = models_sentence.predict(np.array([r.x for r in ex.reading.rows])).tolist()


def _later_data(exs: list[Example], span_model) -> tuple[list, ...]:
    """Training rows of the span, answerability, more and lead models, from sentence scores already set.

    `span_model` maps an example to the span model that scores it: one not trained on its set, so that the
    later models learn from span scores as good as those on unseen questions (None: span rows only)."""
    sx, sy, ax, ay, mx, my, lx, ly = [], [], [], [], [], [], [], []
    for ex in exs:
        if not ex.reading.rows:
            continue
        y_of = {id(r): y for r, y in zip(ex.reading.rows, ex.y, strict=True)}
        top = ex.reading.ranked()[:learned.TOP_SENTENCES]
        spans = span_rows(ex.reading.asked, top, ex.reading.types)
        for s in spans:
            s.x = [round(float(v), ROUND) for v in s.x]
            sx.append(s.x)
            sy.append(_span_label(ex, s))
        if span_model is None:
            continue
        span_p = span_model(ex).predict(np.array([s.x for s in spans])) if spans else np.array([])
        leads = [learned.best_spans(spans, span_p, row) for row, _ in top]
        # answer when the best sentence is right, refuse when the articles do not say; where the best sentence
        # is wrong on an answerable question, neither choice scores, so such questions teach nothing here
        if ex.q["type"] == "unanswerable" or y_of[id(top[0][0])]:
            ax.append(learned.question_features(ex.reading, [q for _, q in leads[0]]))
            ay.append(int(ex.q["type"] != "unanswerable"))
        covered = ex.covers(top[0][0]) if y_of[id(top[0][0])] else set()
        first_span = leads[0][0][0] if leads[0] and leads[0][0][1] >= 0.5 else None
        for rank, (row, p) in enumerate(top):  # do the sure spans carry what the sentence answers?
            sure = [t for t, q in leads[rank] if q >= 0.5]
            answered = ex.covers(row) if y_of[id(row)] else set()
            if sure and answered:
                lx.append(learned.lead_features(row, p, leads[rank]))
                ly.append(int(ex.covers_text(" ".join(sure)) >= answered))
        for rank in range(1, len(top)):
            lead = leads[rank][0] if leads[rank] else (None, 0.0)
            mx.append(learned.more_features(top[0], top[rank], rank, first_span, lead))
            row = top[rank][0]
            my.append(int(bool(y_of[id(row)]) and bool(ex.covers(row) - covered)))
    return sx, sy, ax, ay, mx, my, lx, ly


def fingerprint(exs: list[Example]) -> str:
    """A hash of every training row and label: equal fingerprints train equal models."""
    import hashlib

    h = hashlib.sha256()
    for ex in exs:
        h.update(json.dumps([ex.set, ex.q["id"], ex.y, [r.x for r in ex.reading.rows]]).encode())
    return h.hexdigest()


def _same_predictions(booster, rows: list[list[float]]) -> None:
    """The answerer's own reader of the trees predicts what LightGBM predicts."""
    from communique.answer.trees import TreeModel

    x = np.array(rows, dtype=np.float64)
    ours = TreeModel(booster.model_to_string()).predict(x)
    if not np.allclose(ours, booster.predict(x), atol=1e-9):
        raise AssertionError("answer/trees.py disagrees with LightGBM on the training rows")


def fit(exs: list[Example]) -> dict[str, str]:
    """The model files' texts, trained on `exs`, with a provenance note."""
    sets = sorted({ex.set for ex in exs})
    # folds of whole sets (five at most, to keep training quick), or of questions where there are too few sets
    fold = {id(ex): str(sets.index(ex.set) % FOLDS) if len(sets) >= 3 else str(i % FOLDS)
            for i, ex in enumerate(exs)}
    # out-of-fold answer types, then sentence scores, so the later models see them as on unseen questions
    for held in sorted(set(fold.values())):
        _typed(learned.Types(fit_types([ex for ex in exs if fold[id(ex)] != held])),
               [ex for ex in exs if fold[id(ex)] == held])
    for held in sorted(set(fold.values())):
        inside = [ex for ex in exs if fold[id(ex)] != held]
        model = _booster([r.x for ex in inside for r in ex.reading.rows], [y for ex in inside for y in ex.y],
                         SENTENCE_FEATURES, SENTENCE_CATEGORICAL)
        _sentence_p(model, [ex for ex in exs if fold[id(ex)] == held])
    sx, sy, *_ = _later_data(exs, None)
    span_model = _booster(sx, sy, SPAN_FEATURES, SPAN_CATEGORICAL, span=True)
    span_models = {}  # out-of-fold span models, as for the sentence scores
    for held in sorted(set(fold.values())):
        rows, labels, *_ = _later_data([ex for ex in exs if fold[id(ex)] != held], None)
        span_models[held] = _booster(rows, labels, SPAN_FEATURES, SPAN_CATEGORICAL, span=True)
    _, _, ax, ay, mx, my, lx, ly = _later_data(exs, lambda ex: span_models[fold[id(ex)]])
    sentence_model = _booster([r.x for ex in exs for r in ex.reading.rows], [y for ex in exs for y in ex.y],
                              SENTENCE_FEATURES, SENTENCE_CATEGORICAL)
    _same_predictions(sentence_model, [r.x for ex in exs for r in ex.reading.rows])
    _same_predictions(span_model, sx)
    return {
        "sentence.txt": sentence_model.model_to_string(),
        "span.txt": span_model.model_to_string(),
        "answerable.json": _logistic_file(learned.QUESTION_FEATURES, ax, ay),
        "more.txt": _booster(mx, my, learned.MORE_FEATURES, ["wh", "focus"], small=True).model_to_string(),
        "lead.json": _logistic_file(learned.LEAD_FEATURES, lx, ly),
        "types.json": json.dumps(fit_types(exs)) + "\n",
        "provenance.json": json.dumps({"trained_on": sorted({ex.set for ex in exs}), "questions": len(exs),
                                       "sentences": sum(len(ex.reading.rows) for ex in exs),
                                       "features_sha256": fingerprint(exs)}, indent=1) + "\n",
    }


@dataclass
class Choice:
    """One question of the chooser's sets: its features, and which answerer's answer was right."""

    set: str
    x: list[float]
    rules_ok: bool
    learned_ok: bool
    learned_kind: bool  # a kind the learned answerer takes (else the rules always answer)


def _response(draft) -> dict:
    return {"answer": draft.text, "refused": draft.refused, "citations": [c.to_dict() for c in draft.book.citations()]}


def choices(exs: list[Example], work: Path) -> list[Choice]:
    """Both answers to every question of the chooser's sets, judged: the rules' as they stand, the learned one by
    models trained without the question's fold (so the chooser learns how sure an answerer is on unseen news)."""
    from communique.answer import LEARNED_KINDS, rules_draft
    from communique.answer.question import analyse

    sets = sorted({ex.set for ex in exs})
    fold = {id(ex): sets.index(ex.set) % FOLDS for ex in exs}
    drafts = {}
    for name in CHOOSER_SETS:
        service = open_service(work / f"{name}.db")
        try:
            for ex in (ex for ex in exs if ex.set == name):
                as_of = date.fromisoformat(ex.q["as_of"]) if ex.q.get("as_of") else None
                drafts[id(ex)] = rules_draft(service, ex.q["question"], ex.q.get("history") or [], as_of, None)[2]
        finally:
            service.close()
    out = []
    for held in sorted(set(fold.values())):
        todo = [ex for ex in exs if fold[id(ex)] == held and ex.set in CHOOSER_SETS]
        if not todo:
            continue
        models = models_from(fit([ex for ex in exs if fold[id(ex)] != held]),
                             work / f"chooser-fold-{held}")
        for ex in todo:
            decision = learned.decide(ex.reading, models)
            rules = drafts[id(ex)]
            x = chooser.features(ex.reading, decision, rules, bool(ex.q.get("history")))
            out.append(Choice(ex.set, [round(float(v), ROUND) for v in x], judge(ex.q, _response(rules))[0],
                              judged(ex, models)[0],
                              analyse(ex.q["question"], ex.q.get("history") or []).kind in LEARNED_KINDS))
    return out


def fit_chooser(cs: list[Choice]) -> str:
    """The chooser, trained where exactly one answerer was right: P(the learned answer is the right one)."""
    rows = [c for c in cs if c.learned_kind and c.rules_ok != c.learned_ok]
    return _logistic_file(chooser.CHOOSER_FEATURES, [c.x for c in rows], [int(c.learned_ok) for c in rows])


def chooser_loso(cs: list[Choice]) -> None:
    """The combined answerer set by set: the chooser trained on the other sets' questions."""
    accs = []
    for held in CHOOSER_SETS:
        model = learned.Logistic(json.loads(fit_chooser([c for c in cs if c.set != held])))
        mine = [c for c in cs if c.set == held]
        ok = [c.learned_ok if c.learned_kind and model.predict(np.array(c.x))[0] >= 0.5 else c.rules_ok for c in mine]
        accs.append(statistics.mean(ok))
        print(json.dumps({"set": held, "rules": round(statistics.mean(c.rules_ok for c in mine), 3),
                          "learned": round(statistics.mean(c.learned_ok for c in mine), 3),
                          "combined": round(accs[-1], 3)}), flush=True)
    print(json.dumps({"combined_loso_mean_accuracy": round(statistics.mean(accs), 3)}))


def write_models(files: dict[str, str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


# -- measuring -----------------------------------------------------------------------------------------------
def judged(ex: Example, models: learned.Models) -> tuple[bool, float | None, str]:
    decision = learned.decide(ex.reading, models)
    if decision.refused:
        resp = {"answer": "", "refused": True, "citations": []}
    else:
        text, book = learned.written(decision)
        resp = {"answer": text, "refused": False, "citations": [c.to_dict() for c in book.citations()]}
    ok, precision, why = judge(ex.q, resp)
    return ok, precision, f"{why} → {resp['answer'][:160]}"


def report(name: str, exs: list[Example], models: learned.Models, verbose: bool = False) -> dict:
    results = [judged(ex, models) for ex in exs]
    unanswerable = [ok for ex, (ok, _, _) in zip(exs, results, strict=True) if ex.q["type"] == "unanswerable"]
    precisions = [p for _, p, _ in results if p is not None]
    figures = {"set": name, "questions": len(exs), "accuracy": round(statistics.mean(ok for ok, _, _ in results), 3),
               "citation_precision": round(statistics.mean(precisions), 3) if precisions else None,
               "refusal": round(statistics.mean(unanswerable), 3) if unanswerable else None}
    if verbose:
        for ex, (ok, _, why) in zip(exs, results, strict=True):
            if not ok:
                print(f"  ✗ {ex.q['id']} [{ex.q['type']}] {ex.q['question'][:90]}\n      {why}")
    print(json.dumps(figures), flush=True)
    return figures


def models_from(files: dict[str, str], folder: Path) -> learned.Models:
    write_models(files, folder)
    learned.load.cache_clear()
    return learned.load(str(folder))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, default=ROOT / "data/answerer", help="databases of the question sets")
    ap.add_argument("--out", type=Path, default=learned.MODELS, help="where the models are written")
    ap.add_argument("--loso", action="store_true", help="leave-one-set-out figures instead of training")
    ap.add_argument("--chooser", action="store_true", help="only the combined answerer's leave-one-set-out figures")
    ap.add_argument("--measure", nargs=2, metavar=("DIGESTS_GLOB", "QUESTIONS"), help="measure the shipped models")
    ap.add_argument("--months", nargs=2, metavar=("QUESTIONS", "DB"), help="RealTimeQA: month against month")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every question missed")
    ap.add_argument("--compare", type=Path, help="after training, print how far these models' sentence scores lie "
                                                 "from the new ones on the training rows (JSON)")
    args = ap.parse_args()
    if args.measure:
        digests, questions = args.measure
        name = Path(questions).parent.name
        service = open_service(args.work / f"measure-{name}.db", sorted(glob.glob(digests)))
        report(name, examples_of(name, service, Path(questions)), learned.load(str(args.out)), args.verbose)
        return
    if args.months:
        questions, db = args.months
        service = open_service(Path(db))
        exs = examples_of("rtqa", service, Path(questions))
        months = sorted({ex.q["as_of"][:7] for ex in exs})
        for ex in exs:
            ex.set = ex.q["as_of"][:7]
        for held in months:
            models = models_from(fit([ex for ex in exs if ex.set != held]), args.work / f"months-{held}")
            report(f"rtqa {held} (trained on the other months)", [ex for ex in exs if ex.set == held], models,
                   args.verbose)
        return
    exs = load_sets(TRAIN_SETS, args.work)
    if args.chooser:
        chooser_loso(choices(exs, args.work))
        return
    if args.loso:
        figures = []
        for held in TRAIN_SETS:
            models = models_from(fit([ex for ex in exs if ex.set != held]), args.work / f"loso-{held}")
            figures.append(report(held, [ex for ex in exs if ex.set == held], models, args.verbose))
        print(json.dumps({"loso_mean_accuracy": round(statistics.mean(f["accuracy"] for f in figures), 3)}))
        chooser_loso(choices(exs, args.work))
        return
    files = fit(exs)
    files["choose.json"] = fit_chooser(choices(exs, args.work))
    write_models(files, args.out)
    print(f"models written to {args.out}")
    if args.compare:
        rows = np.array([r.x for ex in exs for r in ex.reading.rows])
        old, new = learned.load(str(args.compare)), learned.load(str(args.out))
        gap = float(np.abs(old.sentence.predict(rows) - new.sentence.predict(rows)).mean())
        print(json.dumps({"sentence_mean_abs_diff": gap}))


if __name__ == "__main__":
    main()

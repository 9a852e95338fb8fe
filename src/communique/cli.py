"""`communique` command line: a thin shell over `communique.service.Communique`.

Imports of the library happen inside commands, so `--help` is instant and loads no model.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from communique.ingest.watch import PollResult
    from communique.service import Communique

app = typer.Typer(
    help="Communique: a self-hosted news assistant. Ingest articles, search them, ask questions with citations.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
articles_app = typer.Typer(help="List, show and delete stored articles.", no_args_is_help=True)
app.add_typer(articles_app, name="articles")


class State:
    db: Path | None = None
    service: Communique | None = None


state = State()


def service(**overrides: object) -> Communique:
    """The process's service; `overrides` are settings a command's options set (only before it exists)."""
    if state.service is None:
        from communique.config import Settings
        from communique.service import Communique

        settings = Settings(**({"db": state.db} if state.db else {}), **overrides)
        state.service = Communique(settings)
    return state.service


def fail(message: str, code: int = 2) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} must be a date like 2026-11-23, not {value!r}")
    return None


def filters(since: str | None, until: str | None, source: list[str] | None):
    from communique.models import Filters

    return Filters(since=parse_day(since, "--since"), until=parse_day(until, "--until"), sources=source or None)


@app.callback()
def main_options(
    db: Annotated[
        Path | None,
        typer.Option("--db", help="SQLite database file (default: the data directory; env COMMUNIQUE_DB)."),
    ] = None,
) -> None:
    state.db = db


@app.command()
def ingest(
    targets: Annotated[list[str], typer.Argument(help="Files, folders, or http(s) URLs of feeds and pages.")],
    published: Annotated[str | None, typer.Option(help="Publication date for digest files (YYYY-MM-DD).")] = None,
    source: Annotated[str | None, typer.Option(help="Source name for digest files.")] = None,
    no_embed: Annotated[bool, typer.Option("--no-embed", help="Store text only; embed later.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Read articles into the store. Exit code 1 when any item failed; the rest still ingests."""
    from communique.cli_progress import IngestProgress

    svc = service()
    with IngestProgress(enabled=not as_json and sys.stderr.isatty()) as progress:
        report = svc.ingest(
            targets, published=parse_day(published, "--published"), source=source, embed=not no_embed,
            on_item=progress.item, before_embed=progress.start_embedding, on_embedded=progress.embedded,
            on_stored=progress.stored,
        )
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        for origin, error in report.failed:
            typer.echo(f"failed  {origin}: {error}", err=True)
        typer.echo(
            f"{len(report.added)} added, {len(report.updated)} updated, {len(report.unchanged)} unchanged, "
            f"{len(report.failed)} failed; {report.embedded} chunks embedded"
        )
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def watch(
    feeds: Annotated[list[str] | None, typer.Argument(help="RSS or Atom feed URLs (default: the watch_feeds setting).",
                                                       show_default=False)] = None,
    every: Annotated[str | None, typer.Option(help="Time between two polls of a feed: 30s, 5m, 30m, 2h "
                                                   "(default: the watch_every setting, 30m).")] = None,
    once: Annotated[bool, typer.Option("--once", help="Poll every feed once and exit; exit code 1 when a poll "
                                                      "failed (for cron).")] = False,
    no_embed: Annotated[bool, typer.Option("--no-embed", help="Store text only; embed later.")] = False,
) -> None:
    """Poll feeds and ingest their new entries: conditional GET, backoff on errors, state kept in the database."""
    import logging
    from datetime import datetime

    logging.getLogger("communique.watch").addHandler(logging.NullHandler())  # the lines printed here say it all

    from communique.durations import format_duration

    def show(result: PollResult) -> None:
        typer.echo(f"{datetime.now():%Y-%m-%d %H:%M:%S}  {result.summary()}")
        for origin, error in result.failed:
            typer.echo(f"  failed  {origin}: {error}")

    watcher = service().watcher(feeds, every, embed=not no_embed, on_poll=show)
    try:
        if once:
            results = watcher.poll_all()
            raise typer.Exit(1 if any(r.outcome == "error" for r in results) else 0)
        n = len(watcher.feeds)
        typer.echo(f"watching {n} feed{'s' * (n != 1)}, every {format_duration(watcher.every_s)}; Ctrl-C stops")
        stop_on_signals()
        watcher.run()
    finally:
        watcher.close()


def stop_on_signals() -> None:
    """Ctrl-C and SIGTERM (a service manager's stop) end a long-running command as an interrupt does, even when
    it was started with SIGINT ignored (as a shell's background job is): the store's writes roll back cleanly."""
    import signal

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


@app.command()
def backup(dest: Annotated[Path, typer.Argument(help="File to write the backup to.")]) -> None:
    """Copy the database, consistently, while it may be in use (the ANN index is rebuilt on restore)."""
    size = service().backup(dest)
    typer.echo(f"backed up {service().stats().articles} articles to {dest} ({size / 1e6:.1f} MB)")


@app.command()
def restore(source: Annotated[Path, typer.Argument(help="A backup made by `communique backup`.")]) -> None:
    """Replace the database by a backup. Stop `communique serve` first."""
    typer.echo(f"restored {service().restore(source)} articles from {source}")


@app.command()
def purge(before: Annotated[str, typer.Option("--before", help="Delete conversations logged before (YYYY-MM-DD).")]
          ) -> None:
    """Delete logged conversations (kept only when log_conversations is on) from before a day."""
    day = parse_day(before, "--before")
    typer.echo(f"{service().purge(day)} logged conversations deleted")


@app.command()
def embed(
    export: Annotated[Path | None, typer.Option(
        "--export", help="Write every stored vector (model, text hash, vector) to this Parquet file; embed nothing.")
    ] = None,
    import_: Annotated[Path | None, typer.Option(
        "--import", help="First fill the vector cache from a Parquet file made by --export.")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", min=1, help="Requests in flight at once, spread over the embed_url servers.")] = None,
    engine: Annotated[bool, typer.Option(
        "--engine", help="Load the embedding engine (building the native one for this CPU if needed), say which "
                         "runs, and embed nothing.")] = False,
) -> None:
    """Embed chunks that have no vector yet (resumes an interrupted ingest); move vectors between machines."""
    if export and import_:
        fail("--export and --import go in separate runs")
    svc = service(**({"embed_workers": workers} if workers else {}))
    if engine:
        typer.echo(svc.embedding_engine())
        return
    if workers and not svc.settings.embed_url:
        fail("--workers spreads requests over remote embedders: set embed_url (the local model uses every core)")
    if export:
        typer.echo(f"{svc.export_vectors(export)} vectors exported to {export}")
        if svc.stats().pending:
            typer.echo(f"{svc.stats().pending} chunks are not embedded yet, so not exported", err=True)
        return
    if import_:
        typer.echo(svc.import_vectors(import_).summary(svc.embedder.model_id))
    typer.echo(f"{svc.embed()} chunks embedded")


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in any language.")],
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Number of results.")] = 10,
    since: Annotated[str | None, typer.Option(help="Only articles published on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Only articles published on or before (YYYY-MM-DD).")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only this source (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Hybrid (keyword + semantic) search over the stored articles."""
    hits = service().search(query, k, filters(since, until, source))
    if as_json:
        typer.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False))
        return
    if not hits:
        typer.echo("No results.")
    for i, h in enumerate(hits, 1):
        when = h.published.isoformat() if h.published else "undated"
        snippet = " ".join(h.text.split())[:220]
        typer.echo(f"{i:2d}. {h.title}\n    {when} · {h.source or '-'} · score {h.score:.4f} · {h.article_id}\n"
                   f"    {snippet}…\n")


@articles_app.command("list")
def articles_list(
    q: Annotated[str | None, typer.Option(help="Only articles whose title or text contains this.")] = None,
    since: Annotated[str | None, typer.Option(help="Published on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Published on or before (YYYY-MM-DD).")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only this source (repeatable).")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List articles, newest first."""
    result = service().articles(q, filters(since, until, source), page, page_size)
    if as_json:
        typer.echo(json.dumps({"articles": [a.to_dict() | {"text": None} for a in result.articles],
                               "total": result.total, "page": result.page}, ensure_ascii=False))
        return
    for a in result.articles:
        day = a.published.isoformat() if a.published else "undated"  # a date formats "10" as a strftime pattern
        typer.echo(f"{a.id}  {day:10}  {a.title}")
    typer.echo(f"({len(result.articles)} of {result.total})")


@articles_app.command("show")
def articles_show(
    article_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Print one article."""
    from communique.errors import CommuniqueError

    try:
        a = service().article(article_id)
    except CommuniqueError as exc:
        fail(str(exc), 1)
    if as_json:
        typer.echo(json.dumps(a.to_dict(), ensure_ascii=False))
        return
    typer.echo(f"{a.title}\n{a.published or 'undated'} · {a.source or '-'} · {a.url or ''}\n\n{a.text}")


@articles_app.command("delete")
def articles_delete(article_id: str) -> None:
    """Delete one article with its chunks and vectors."""
    from communique.errors import CommuniqueError

    try:
        service().delete(article_id)
    except CommuniqueError as exc:
        fail(str(exc), 1)
    typer.echo(f"deleted {article_id}")


@app.command()
def entities(
    query: Annotated[str | None, typer.Argument(help="Only entities whose name or a spelling contains this.")] = None,
    kind: Annotated[str | None, typer.Option("--type", help="Only this type: country, gpe, org or person.")] = None,
    page: Annotated[int, typer.Option(min=1)] = 1,
    page_size: Annotated[int, typer.Option(min=1, max=100)] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Countries, places, organisations and people the articles name, most written about first."""
    from communique.errors import CommuniqueError

    try:
        result = service().entities(query, kind, page, page_size)
    except CommuniqueError as exc:
        fail(str(exc))
    if as_json:
        typer.echo(json.dumps({"entities": [e.to_dict() for e in result.entities], "total": result.total,
                               "page": result.page}, ensure_ascii=False))
        return
    for e in result.entities:
        typer.echo(f"{e.id:>6}  {e.type:7}  {e.articles:5d} articles  {e.mentions:5d} mentions  {e.name}")
    typer.echo(f"({len(result.entities)} of {result.total})")


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Counts of articles, chunks and vectors; date range; sources; size on disk."""
    from dataclasses import asdict

    s = service().stats()
    if as_json:
        typer.echo(json.dumps(asdict(s) | {"pending": s.pending}, ensure_ascii=False))
        return
    typer.echo(f"backend    {s.backend}\narticles   {s.articles}\nchunks     {s.chunks}\n"
               f"embedded   {s.embedded} ({s.pending} pending)\npublished  {s.first_published} … {s.last_published}\n"
               f"size       {s.size_bytes / 1e6:.1f} MB")
    for name, n in sorted(s.sources.items(), key=lambda kv: -kv[1])[:10]:
        typer.echo(f"  {n:6d}  {name}")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question in plain language, in any major language.")],
    history: Annotated[Path | None, typer.Option(help='JSON file: earlier turns [{"role","content"}].')] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Answer as of this day (YYYY-MM-DD).")] = None,
    since: Annotated[str | None, typer.Option(help="Only articles published on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Only articles published on or before (YYYY-MM-DD).")] = None,
    source: Annotated[list[str] | None, typer.Option(help="Only this source (repeatable).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer contract as JSON.")] = False,
) -> None:
    """Answer a question from the stored articles, citing them; refuse when they do not say."""
    turns = []
    if history is not None:
        try:
            turns = json.loads(history.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            fail(f"cannot read --history {history}: {exc}")
        if not isinstance(turns, list):
            fail('--history must hold a JSON list of {"role", "content"} objects')
    answer = service().ask(question, turns, parse_day(as_of, "--as-of"), filters(since, until, source))
    if as_json:
        typer.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        return
    typer.echo(answer.answer)
    if answer.citations:
        typer.echo("\nSources:")
        for c in answer.citations:
            when = c.published.isoformat() if c.published else "undated"
            typer.echo(f"  [{c.n}] {c.title} ({when}){' ' + c.url if c.url else ''}\n      “{c.quote[:300]}”")
    if answer.followups:
        typer.echo("\nYou could also ask:")
        for f in answer.followups:
            typer.echo(f"  - {f}")


@app.command()
def timeline(
    query: Annotated[str, typer.Argument(help="The subject: a name, an event, a topic.")],
    since: Annotated[str | None, typer.Option(help="Only events on or after (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Only events on or before (YYYY-MM-DD).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Only articles published by this day.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown.")] = False,
) -> None:
    """A subject's events in date order, each one cited sentence, grouped by story."""
    result = service().timeline(query, parse_day(since, "--since"), parse_day(until, "--until"),
                                parse_day(as_of, "--as-of"))
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    elif markdown:
        from communique.news.markdown import timeline_markdown

        typer.echo(timeline_markdown(result))
    else:
        typer.echo(result.text())


@app.command()
def brief(
    topic: Annotated[str | None, typer.Option(help="Only stories about this.")] = None,
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD; default: a week before --until).")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD; default: --as-of, else today).")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Write the briefing as of this day.")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown to paste into a newsletter.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with the Markdown in it).")] = False,
) -> None:
    """A digest of every story of a period, newest first, one or two cited sentences each."""
    result = service().brief(topic, parse_day(since, "--since"), parse_day(until, "--until"),
                             parse_day(as_of, "--as-of"))
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    elif markdown:
        from communique.news.markdown import brief_markdown

        typer.echo(brief_markdown(result))
    else:
        typer.echo(result.text())


@app.command("eval")
def evaluate(
    questions: Annotated[Path, typer.Argument(help="JSONL question file (id, type, question, expect, sources…).")],
    verbose: Annotated[bool, typer.Option("--verbose", help="Print every question, not only failures.")] = False,
) -> None:
    """Score the answer engine on a question file: accuracy, citation precision, refusals, latency."""
    from communique.evaluate import load_questions, run

    def show(j) -> None:
        if not j.ok or verbose:
            typer.echo(f"{'ok  ' if j.ok else 'FAIL'} {j.id} [{j.type}] {j.why}\n     answer: {j.answer[:240]!r}")

    report = run(service(), load_questions(questions), on_result=show)
    for kind, (ok, n) in sorted(report.by_type().items()):
        typer.echo(f"{kind:14s} {ok}/{n}")
    typer.echo(report.summary())


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default 8000).")] = None,
) -> None:
    """Serve the chat page, the HTTP API and the OpenAI-compatible endpoint."""
    from communique.serve import run

    svc = service()
    run(svc, host or svc.settings.host, port or svc.settings.port)


@app.command()
def migrate(
    source: Annotated[str, typer.Option("--from", help="Store to copy from: sqlite:PATH or milvus:URI.")],
    target: Annotated[str, typer.Option("--to", help="Store to copy into: sqlite:PATH or milvus:URI.")],
    batch: Annotated[int, typer.Option(min=1, max=200, help="Articles read per page.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Copy articles, chunks and vectors from one store to another, without re-embedding."""
    from communique.store.migrate import migrate_specs

    def progress(report, total: int) -> None:
        if not as_json and sys.stderr.isatty():
            typer.echo(f"\r{report.articles}/{total} articles", err=True, nl=report.articles >= total)

    report = migrate_specs(source, target, service().settings, batch=batch, on_page=progress)
    typer.echo(json.dumps(report.to_dict()) if as_json else report.summary())


def main() -> None:
    from communique.errors import CommuniqueError

    try:
        app()
    except CommuniqueError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo("interrupted; run the same command again to resume", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()

"""The `communique` command line, through typer's runner and once as the installed console script."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from builders import PNG_HEADER, SHORT_STORIES, STORIES, digest
from communique.cli import app

COUNTS = "{} added, {} updated, {} unchanged, {} failed; {} chunks embedded"


def commands(group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every (command path, command) of a typer/click group, sub-groups included."""
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from commands(command, (*prefix, name))


ALL_COMMANDS = list(commands(typer.main.get_command(app)))


def test_command_tree_has_the_foundation_commands() -> None:
    names = {" ".join(path) for path, _ in ALL_COMMANDS}
    assert {"ingest", "embed", "search", "stats", "articles", "articles list", "articles show",
            "articles delete"} <= names


@pytest.mark.parametrize(("path", "command"), ALL_COMMANDS, ids=[" ".join(p) for p, _ in ALL_COMMANDS])
def test_every_command_has_help(cli, path: tuple[str, ...], command) -> None:
    summary = (command.help or command.short_help or "").strip()
    assert len(summary) > 10, f"{' '.join(path)} has no help text"
    result = cli(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert summary.split()[0] in result.output
    for param in command.params:
        if param.param_type_name == "option" and param.name != "help":
            assert (param.help or "").strip() or param.name in {"page", "page_size"}, (path, param.name)


def test_console_script_help_and_errors(tmp_path: Path) -> None:
    exe = shutil.which("communique", path=str(Path(sys.executable).parent)) or shutil.which("communique")
    assert exe, "the communique console script is not installed"
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    db = tmp_path / "never" / "created.db"
    help_run = subprocess.run([exe, "--db", str(db), "--help"], capture_output=True, text=True, env=env, timeout=60)
    assert help_run.returncode == 0, help_run.stderr
    for path, _ in ALL_COMMANDS:
        if len(path) == 1:
            assert path[0] in help_run.stdout
    assert not db.parent.exists()  # --help opens no database
    # A user mistake caught by the library: message, exit 2, no traceback.
    bad = subprocess.run([exe, "--db", str(tmp_path / "x.db"), "search", "   "], capture_output=True, text=True,
                         env=env, timeout=60)
    assert bad.returncode == 2
    assert "error: the query is empty" in bad.stderr
    assert "Traceback" not in bad.stderr + bad.stdout


# -- ingest -----------------------------------------------------------------------------------------------
def test_ingest_sample_dir(cli, sample_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    result = cli("--db", db, "ingest", sample_dir, "--no-embed")
    assert result.exit_code == 0, result.output
    assert COUNTS.format(30, 0, 0, 0, 0) in result.stdout
    again = cli("--db", db, "ingest", sample_dir, "--no-embed", "--json")
    assert again.exit_code == 0
    report = json.loads(again.stdout)
    assert (len(report["added"]), len(report["unchanged"]), report["failed"]) == (0, 30, [])
    stats = json.loads(cli("--db", db, "stats", "--json").stdout)
    assert (stats["articles"], stats["embedded"], stats["pending"]) == (30, 0, stats["chunks"])
    assert (stats["first_published"], stats["last_published"]) == ("2026-10-26", "2026-11-09")


def test_ingest_published_and_source_options(cli, sample_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    result = cli("--db", db, "ingest", sample_dir / "digest-2026-11-02.txt", "--published", "2026-11-03",
                 "--source", "Diplo Weekly", "--no-embed")
    assert result.exit_code == 0 and COUNTS.format(10, 0, 0, 0, 0) in result.stdout
    listed = json.loads(cli("--db", db, "articles", "list", "--json").stdout)
    assert {(a["published"], a["source"]) for a in listed["articles"]} == {("2026-11-03", "Diplo Weekly")}
    since = json.loads(cli("--db", db, "articles", "list", "--since", "2026-11-04", "--json").stdout)
    assert since["total"] == 0


@pytest.mark.slow
def test_ingest_embeds_and_embed_resumes(cli, tmp_path: Path) -> None:
    path = tmp_path / "digest-2026-11-16.txt"
    path.write_text(digest(SHORT_STORIES[:2]), encoding="utf-8")
    db = tmp_path / "c.db"
    result = cli("--db", db, "ingest", path, "--no-embed", "--source", "Diplo Weekly")
    assert result.exit_code == 0 and COUNTS.format(2, 0, 0, 0, 0) in result.stdout
    chunks = json.loads(cli("--db", db, "stats", "--json").stdout)["chunks"]
    embedded = cli("--db", db, "embed")
    assert embedded.exit_code == 0 and embedded.stdout.strip() == f"{chunks} chunks embedded"
    assert cli("--db", db, "embed").stdout.strip() == "0 chunks embedded"
    (tmp_path / "digest-2026-11-23.txt").write_text(digest(SHORT_STORIES[2:]), encoding="utf-8")
    result = cli("--db", db, "ingest", tmp_path / "digest-2026-11-23.txt", path)
    assert result.exit_code == 0
    stats = json.loads(cli("--db", db, "stats", "--json").stdout)
    assert COUNTS.format(1, 0, 2, 0, stats["chunks"] - chunks) in result.stdout
    assert stats["pending"] == 0 and stats["sources"] == {"Diplo Weekly": 2, "(none)": 1}


def test_ingest_folder_with_a_bad_file(cli, tmp_path: Path) -> None:
    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "digest-2026-11-16.txt").write_text(digest(STORIES), encoding="utf-8")
    (folder / "scan.pdf").write_bytes(PNG_HEADER)
    db = tmp_path / "c.db"
    result = cli("--db", db, "ingest", folder, "--no-embed")
    assert result.exit_code == 1
    assert f"failed  {folder / 'scan.pdf'}: binary file, not text" in result.stderr
    assert COUNTS.format(3, 0, 0, 1, 0) in result.stdout
    assert "Traceback" not in result.output
    listed = json.loads(cli("--db", db, "articles", "list", "--json").stdout)
    assert sorted(a["title"] for a in listed["articles"]) == sorted(s.title for s in STORIES)


def test_ingest_json_report_lists_failures(cli, tmp_path: Path) -> None:
    result = cli("--db", tmp_path / "c.db", "ingest", tmp_path / "missing.txt", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == {
        "added": [], "updated": [], "unchanged": [], "embedded": 0,
        "failed": [{"origin": str(tmp_path / "missing.txt"), "error": "no such file or folder"}],
    }


# -- search, articles, stats on the embedded sample --------------------------------------------------------
@pytest.mark.slow
def test_search_json(cli, sample_db_file: Path) -> None:
    result = cli("--db", sample_db_file, "search", "Ghana 5G spectrum auction", "--k", "3", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert len(hits) == 3
    assert hits[0]["title"] == "Ghana’s 5G auction raises 318 million dollars"
    assert set(hits[0]) >= {"chunk_id", "article_id", "score", "text", "start", "end", "title", "url",
                            "published", "source"}
    assert hits[0]["published"] == "2026-10-26" and hits[0]["source"] == "Diplo Weekly"


@pytest.mark.slow
def test_search_text_output_and_filters(cli, sample_db_file: Path) -> None:
    result = cli("--db", sample_db_file, "search", "Valletta Accord", "--k", "5")
    assert result.exit_code == 0
    assert result.stdout.lstrip().startswith("1. ") and "Valletta" in result.stdout
    filtered = json.loads(cli("--db", sample_db_file, "search", "Valletta Accord", "--since", "2026-11-03",
                              "--until", "2026-11-30", "--json").stdout)
    assert filtered and {h["published"] for h in filtered} == {"2026-11-09"}
    by_source = json.loads(cli("--db", sample_db_file, "search", "Valletta Accord", "--source", "Geneva Wire",
                               "--json").stdout)
    assert by_source and {h["source"] for h in by_source} == {"Geneva Wire"}
    none = cli("--db", sample_db_file, "search", "Valletta Accord", "--since", "2030-01-01")
    assert none.exit_code == 0 and "No results." in none.stdout


@pytest.mark.slow
def test_articles_list_show_delete(cli, sample_db_file: Path) -> None:
    db = ("--db", sample_db_file)
    listed = json.loads(cli(*db, "articles", "list", "--json", "--page-size", "5").stdout)
    assert listed["total"] == 30 and len(listed["articles"]) == 5 and listed["page"] == 1
    assert [a["published"] for a in listed["articles"]] == ["2026-11-09"] * 5  # newest first
    assert all(a["text"] is None for a in listed["articles"])
    text = cli(*db, "articles", "list", "--q", "Lumaro")
    assert text.exit_code == 0 and "Denmark bans Lumaro chatbot on government devices" in text.stdout
    assert text.stdout.strip().endswith("of 4)")
    assert re.search(r"\b2026-10-26 +Denmark bans Lumaro", text.stdout), text.stdout  # the day, not "10"

    valletta = json.loads(cli(*db, "articles", "list", "--q", "Valletta", "--json").stdout)
    assert valletta["total"] == 3
    target = valletta["articles"][0]
    shown = json.loads(cli(*db, "articles", "show", target["id"], "--json").stdout)
    assert shown["id"] == target["id"] and shown["title"] == target["title"] and len(shown["text"]) > 500
    plain = cli(*db, "articles", "show", target["id"])
    assert plain.exit_code == 0 and plain.stdout.startswith(f"{target['title']}\n{target['published']}")

    deleted = cli(*db, "articles", "delete", target["id"])
    assert deleted.exit_code == 0 and deleted.stdout.strip() == f"deleted {target['id']}"
    for args in (("show", target["id"]), ("delete", target["id"])):
        gone = cli(*db, "articles", *args)
        assert gone.exit_code == 1
        assert f"error: no article with id '{target['id']}'" in gone.stderr
        assert gone.exception is None or isinstance(gone.exception, SystemExit)
    assert json.loads(cli(*db, "stats", "--json").stdout)["articles"] == 29


@pytest.mark.slow
def test_stats(cli, sample_db_file: Path) -> None:
    result = cli("--db", sample_db_file, "stats", "--json")
    assert result.exit_code == 0
    s = json.loads(result.stdout)
    assert (s["articles"], s["backend"], s["pending"]) == (30, "sqlite", 0)
    assert s["embedded"] == s["chunks"] > 30
    assert s["sources"] == {"Diplo Weekly": 20, "Geneva Wire": 10}
    assert s["size_bytes"] > 0
    text = cli("--db", sample_db_file, "stats")
    assert "articles   30" in text.stdout and "Geneva Wire" in text.stdout


# -- user mistakes: a clear message, a non-zero exit, no traceback -----------------------------------------
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("search", "Valletta", "--since", "last week"), "--since must be a date like 2026-11-23, not 'last week'"),
        (("search", "Valletta", "--until", "2026-02-30"), "--until must be a date like"),
        (("articles", "list", "--since", "11/02/2026"), "--since must be a date like"),
        (("ingest", "nothing.txt", "--published", "yesterday"), "--published must be a date like"),
    ],
)
def test_bad_dates_are_clear_errors(cli, tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = cli("--db", tmp_path / "c.db", *args)
    assert result.exit_code == 2
    assert f"error: {message}" in result.stderr
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_out_of_range_option_is_a_usage_error(cli, tmp_path: Path) -> None:
    result = cli("--db", tmp_path / "c.db", "search", "x", "--k", "0")
    assert result.exit_code == 2
    assert "--k" in result.stderr and "Traceback" not in result.output


def test_backup_and_restore_round_trip(cli, sample_db_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    shutil.copyfile(sample_db_file, db)
    copy = tmp_path / "backups" / "monday.db"
    made = cli("--db", db, "backup", copy)
    assert made.exit_code == 0 and "backed up 30 articles" in made.stdout
    before = json.loads(cli("--db", db, "search", "Lumaro ban", "--json").stdout)
    victim = before[0]["article_id"]
    assert cli("--db", db, "articles", "delete", victim).exit_code == 0
    assert json.loads(cli("--db", db, "stats", "--json").stdout)["articles"] == 29
    restored = cli("--db", db, "restore", copy)
    assert restored.exit_code == 0 and "restored 30 articles" in restored.stdout
    assert json.loads(cli("--db", db, "stats", "--json").stdout)["articles"] == 30
    after = json.loads(cli("--db", db, "search", "Lumaro ban", "--json").stdout)
    assert [h["article_id"] for h in after] == [h["article_id"] for h in before]
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    refused = cli("--db", db, "restore", junk)
    assert refused.exit_code != 0 and "not a Communique database" in f"{refused.output}{refused.exception}"
    assert json.loads(cli("--db", db, "stats", "--json").stdout)["articles"] == 30

"""Privacy by default: no question outlives its answer unless the owner logs conversations, and then only for
the retention period, or until `communique purge`."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

import communique.cli as cli_module
from communique.cli import app
from communique.config import Settings
from communique.conversations import ConversationLog, log_path
from communique.service import Communique

pytestmark = pytest.mark.slow
QUESTION = "Which countries restricted the Lumaro app?"


def _service(db: Path, **overrides) -> Communique:
    return Communique(Settings(db=db, **overrides))


def test_questions_are_not_kept_by_default(sample_db_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "private.db"
    shutil.copyfile(sample_db_file, db)
    svc = _service(db)
    try:
        assert not svc.ask(QUESTION).refused
    finally:
        svc.close()
    assert not log_path(db).exists()


def test_logged_conversations_expire_and_can_be_purged(sample_db_file: Path, tmp_path: Path) -> None:
    db = tmp_path / "logged.db"
    shutil.copyfile(sample_db_file, db)
    svc = _service(db, log_conversations=True, conversation_retention_days=7)
    try:
        answer = svc.ask(QUESTION, [{"role": "user", "content": "Hello"}])
        [entry] = svc.conversations.entries()
        assert entry["question"] == QUESTION and entry["answer"] == answer.answer and entry["cited"]
        assert "Hello" not in str(entry)  # the history is not kept, only the question asked
        svc.conversations._conn.execute(  # an entry from years ago: the retention period deletes it
            "INSERT INTO conversations (at, question, answer, refused, cited)"
            " VALUES ('2020-01-01', 'old', '', 0, '[]')")
        assert svc.conversations.expire() == 1 and len(svc.conversations.entries()) == 1
    finally:
        svc.close()
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    try:
        result = CliRunner().invoke(app, ["--db", str(db), "purge", "--before", tomorrow])
    finally:  # the CLI keeps its service for the process: close it, as the CLI's own tests do
        if cli_module.state.service is not None:
            cli_module.state.service.close()
        cli_module.state.service, cli_module.state.db = None, None
    assert result.exit_code == 0 and "1 logged conversations deleted" in result.stdout
    log = ConversationLog(log_path(db), 7)
    try:
        assert log.entries() == []
    finally:
        log.close()

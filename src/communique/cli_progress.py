"""Progress display for long ingests (rich): articles read, and chunks embedded with their rate and the time left.

Reading and embedding run at once (ingest/pipeline.py), so the embedding bar's total grows as articles are stored:
its time left counts what has been read so far, and is the whole ingest's once reading has ended.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeRemainingColumn


class IngestProgress:
    def __init__(self, enabled: bool, console: Console | None = None,
                 get_time: Callable[[], float] | None = None) -> None:
        self.enabled = enabled
        self._console, self._get_time = console, get_time
        self._progress: Progress | None = None
        self._read = self._embed = None

    def __enter__(self) -> IngestProgress:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=self._console or Console(stderr=True),
                transient=False, get_time=self._get_time,
            )
            self._progress.__enter__()
            self._read = self._progress.add_task("reading articles", total=None, rate="")
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.update(self._read, total=self._progress.tasks[self._read].completed)
            self._progress.__exit__(*exc)

    def item(self, _item, _outcome: str) -> None:
        if self._progress is not None:
            self._progress.advance(self._read)

    def start_embedding(self, pending: int) -> None:
        """Chunks an earlier run left without vectors: the embedding bar starts with them."""
        if self._progress is not None:
            self._embed = self._progress.add_task("embedding chunks", total=pending, rate="")

    def stored(self, n: int) -> None:
        """n more chunks were stored and wait for their vectors."""
        if self._progress is not None and self._embed is not None:
            task = self._progress.tasks[self._embed]
            self._progress.update(self._embed, total=(task.total or 0) + n)

    def embedded(self, n: int) -> None:
        if self._progress is not None and self._embed is not None:
            self._progress.advance(self._embed, n)
            task = self._progress.tasks[self._embed]
            if task.speed:
                self._progress.update(self._embed, rate=f"{task.speed:.1f} chunks/s")

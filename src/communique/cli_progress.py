"""Progress display for long ingests (rich): items read, then chunks embedded with rate and ETA."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeRemainingColumn


class IngestProgress:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._progress: Progress | None = None
        self._read = self._embed = None

    def __enter__(self) -> IngestProgress:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=Console(stderr=True),
                transient=False,
            )
            self._progress.__enter__()
            self._read = self._progress.add_task("reading articles", total=None, rate="")
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.__exit__(*exc)

    def item(self, _item, _outcome: str) -> None:
        if self._progress is not None:
            self._progress.advance(self._read)

    def start_embedding(self, pending: int) -> None:
        if self._progress is not None:
            self._progress.update(self._read, total=self._progress.tasks[self._read].completed)
            self._embed = self._progress.add_task("embedding chunks", total=pending, rate="")

    def embedded(self, n: int) -> None:
        if self._progress is not None and self._embed is not None:
            self._progress.advance(self._embed, n)
            task = self._progress.tasks[self._embed]
            if task.speed:
                self._progress.update(self._embed, rate=f"{task.speed:.0f} chunks/s")

"""Durations as people write them in options and settings (`30s`, `5m`, `30m`, `2h`, `1d`), and back."""

from __future__ import annotations

import re

from communique.errors import BadInput

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """Seconds in `30s`, `5m`, `2h` or `1d`; a unit is required, so `30` is never read as the wrong one."""
    m = _DURATION.fullmatch(text or "")
    seconds = float(m[1]) * _UNITS[m[2].lower()] if m else 0.0
    if seconds <= 0:
        raise BadInput(f"a duration is a positive number with a unit, like 30s, 5m, 30m or 2h; not {text!r}")
    return seconds


def format_duration(seconds: float) -> str:
    """At most the two largest units, to the second (a tenth under 10 s): 5400 → `1h30m`; 90 → `1m30s`."""
    if seconds < 10:
        return f"{round(max(0.0, seconds), 1):g}s"
    seconds = round(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return "".join(parts)

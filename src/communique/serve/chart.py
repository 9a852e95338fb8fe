"""A small bar chart of mentions per week as inline SVG: no script, no CDN, and nothing a page's CSP must allow.

Bars carry classes (coloured by app.css, so dark mode applies) and a <title> each, which browsers show as a
tooltip and screen readers read; the whole chart is one labelled image.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

WIDTH, HEIGHT, PAD_TOP, PAD_BOTTOM, PAD_LEFT = 640, 150, 12, 24, 30
MAX_WEEKS = 156  # three years; an entity written about for longer shows its latest three


def filled(weeks: list[tuple[date, int]], max_weeks: int = MAX_WEEKS) -> list[tuple[date, int]]:
    """Every week from the first to the last given (weeks without a mention count 0), the latest `max_weeks`."""
    if not weeks:
        return []
    counts = dict(weeks)
    last = max(counts)
    first = max(min(counts), last - timedelta(weeks=max_weeks - 1))
    n = (last - first).days // 7 + 1
    return [(first + timedelta(weeks=i), counts.get(first + timedelta(weeks=i), 0)) for i in range(n)]


def _day(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


def weekly_svg(weeks: list[tuple[date, int]], label: str = "Mentions per week") -> str:
    """The chart of (Monday, mentions) pairs, or a line saying there is nothing to draw."""
    series = filled(weeks)
    if not series:
        return '<p class="muted chart-empty">No dated mentions to chart.</p>'
    top = max(n for _, n in series) or 1
    plot_w, plot_h = WIDTH - PAD_LEFT, HEIGHT - PAD_TOP - PAD_BOTTOM
    step = plot_w / len(series)
    gap = min(2.0, step * 0.2)
    bars = []
    for i, (week, n) in enumerate(series):
        h = plot_h * n / top
        x, y = PAD_LEFT + i * step + gap / 2, PAD_TOP + plot_h - h
        tip = f"Week of {_day(week)}: {n} mention{'' if n == 1 else 's'}"
        bars.append(f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{max(step - gap, 0.5):.1f}" '
                    f'height="{max(h, 0):.1f}" data-week="{week.isoformat()}" data-mentions="{n}">'
                    f"<title>{escape(tip)}</title></rect>")
    base = PAD_TOP + plot_h
    summary = (f"{label}: {sum(n for _, n in series)} mentions over {len(series)} week"
               f"{'' if len(series) == 1 else 's'}, from {_day(series[0][0])} to {_day(series[-1][0])}; "
               f"at most {top} in a week.")
    axis = (f'<line class="chart-axis" x1="{PAD_LEFT}" y1="{base}" x2="{WIDTH}" y2="{base}"/>'
            f'<text class="chart-label" x="{PAD_LEFT - 6}" y="{PAD_TOP + 9}" text-anchor="end">{top}</text>'
            f'<text class="chart-label" x="{PAD_LEFT - 6}" y="{base}" text-anchor="end">0</text>'
            f'<text class="chart-label" x="{PAD_LEFT}" y="{HEIGHT - 6}">{escape(_day(series[0][0]))}</text>'
            f'<text class="chart-label" x="{WIDTH}" y="{HEIGHT - 6}" text-anchor="end">'
            f"{escape(_day(series[-1][0]))}</text>")
    return (f'<figure class="chart"><svg class="timeline-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-label="{escape(summary)}" preserveAspectRatio="xMinYMid meet">{axis}{"".join(bars)}</svg></figure>')

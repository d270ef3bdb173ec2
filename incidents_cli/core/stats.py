"""Response metrics over a period: counts, time to acknowledge and resolve, completion rates.

Pure. Every metric names where it starts and ends; back-filled times (--at) are the times
recorded, so they are what counts.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from incidents_cli.core.followup import late_by
from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import format_duration, format_time
from incidents_cli.core.timeutil import maybe_time as _time
from incidents_cli.core.vocabulary import SEVERITIES


def _summary(durations: list[timedelta]) -> dict[str, Any]:
    if not durations:
        return {"count": 0, "mean_seconds": None, "median_seconds": None}
    seconds = [d.total_seconds() for d in durations]
    return {
        "count": len(seconds),
        "mean_seconds": round(statistics.fmean(seconds), 1),
        "median_seconds": round(statistics.median(seconds), 1),
    }


def compute(
    incidents: Sequence[dict[str, Any]],
    postmortems: dict[str, dict[str, Any]],
    settings: Settings,
    since: datetime | None,
    until: datetime,
) -> dict[str, Any]:
    chosen = []
    for record in incidents:
        detected = _time(record.get("detected_at"))
        if detected is None or detected >= until or (since is not None and detected < since):
            continue
        chosen.append((detected, record))
    by_severity = Counter(str(r.get("severity") or "unset") for _, r in chosen)
    by_source = Counter(str(r.get("source")) for _, r in chosen)
    by_component: Counter[str] = Counter()
    for _, record in chosen:
        by_component.update(record.get("components") or [])
    ack: dict[str, list[timedelta]] = {s: [] for s in SEVERITIES}
    resolve: dict[str, list[timedelta]] = {s: [] for s in SEVERITIES}
    within = 0
    acknowledged = 0
    for detected, record in chosen:
        severity = record.get("severity")
        if severity not in SEVERITIES:
            continue
        acked = _time(record.get("acknowledged_at"))
        if acked is not None and acked <= until:
            ack[severity].append(acked - detected)
            acknowledged += 1
            within += acked - detected <= settings.ack_within[severity]
        resolved = _time(record.get("resolved_at"))
        if resolved is not None and resolved <= until:
            resolve[severity].append(resolved - detected)
    needing = [
        r for d, r in chosen if r.get("severity") in settings.required_for and r.get("resolved_at")
    ]
    published = [
        r for r in needing if (postmortems.get(str(r.get("id"))) or {}).get("status") == "published"
    ]
    overdue_postmortems = 0
    for record in needing:
        resolved = _time(record.get("resolved_at"))
        front = postmortems.get(str(record.get("id"))) or {}
        due = _time(front.get("due")) or (resolved + settings.due_within if resolved else None)
        if front.get("status") != "published" and due is not None and due < until:
            overdue_postmortems += 1
    every_item = [
        item
        for r in (postmortems.get(str(rec.get("id"))) for _, rec in chosen)
        if r
        for item in (r.get("action_items") or [])
        if isinstance(item, dict)
    ]
    items = [i for i in every_item if i.get("status") != "wont_do"]
    wont_do = len(every_item) - len(items)
    done = sum(1 for i in items if i.get("status") == "done")
    overdue_items = sum(
        1
        for i in every_item
        if late_by(_time(i.get("due")), str(i.get("status", "open")), until) is not None
    )

    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    return {
        "period": {
            "since": format_time(since) if since else None,
            "until": format_time(until),
            "selects": "incidents whose detected_at is in [since, until)",
        },
        "incidents": len(chosen),
        "by_severity": dict(sorted(by_severity.items())),
        "by_component": dict(sorted(by_component.items())),
        "by_source": dict(sorted(by_source.items())),
        "time_to_acknowledge": {
            "from": "detected_at",
            "to": "acknowledged_at",
            "by_severity": {s: _summary(ack[s]) for s in SEVERITIES},
        },
        "time_to_resolve": {
            "from": "detected_at",
            "to": "resolved_at",
            "by_severity": {s: _summary(resolve[s]) for s in SEVERITIES},
        },
        "acknowledged_within_window": {
            "measures": "acknowledged_at - detected_at <= the severity's ack_within",
            "acknowledged": acknowledged,
            "within": within,
            "rate": rate(within, acknowledged),
        },
        "postmortem_completion": {
            "measures": "published postmortems / resolved incidents whose severity needs one",
            "needed": len(needing),
            "published": len(published),
            "rate": rate(len(published), len(needing)),
        },
        "action_item_completion": {
            "measures": "done / action items (wont_do excluded) of these incidents' postmortems",
            "items": len(items),
            "done": done,
            "wont_do": wont_do,
            "rate": rate(done, len(items)),
        },
        "overdue": {
            "as_of": format_time(until),
            "action_items": overdue_items,
            "postmortems": overdue_postmortems,
        },
    }


def text(report: dict[str, Any]) -> str:
    period = report["period"]
    lines = [
        f"Incidents detected from {period['since'] or 'the beginning'} to {period['until']}: "
        f"{report['incidents']}",
        "  by severity:  " + _counts(report["by_severity"]),
        "  by component: " + _counts(report["by_component"]),
        "  by source:    " + _counts(report["by_source"]),
        "",
        "Time to acknowledge (detected_at -> acknowledged_at) and to resolve "
        "(detected_at -> resolved_at):",
        f"  {'severity':<10}{'n':>4}  {'mean ack':>10}  {'median ack':>10}  "
        f"{'n':>4}  {'mean resolve':>12}  {'median resolve':>14}",
    ]
    for severity in SEVERITIES:
        a = report["time_to_acknowledge"]["by_severity"][severity]
        r = report["time_to_resolve"]["by_severity"][severity]
        lines.append(
            f"  {severity:<10}{a['count']:>4}  {_d(a['mean_seconds']):>10}  "
            f"{_d(a['median_seconds']):>10}  {r['count']:>4}  {_d(r['mean_seconds']):>12}  "
            f"{_d(r['median_seconds']):>14}"
        )
    within = report["acknowledged_within_window"]
    pm = report["postmortem_completion"]
    items = report["action_item_completion"]
    overdue = report["overdue"]
    lines += [
        "",
        f"Acknowledged within the severity's window: {within['within']} of "
        f"{within['acknowledged']} ({_pct(within['rate'])})",
        f"Postmortems published: {pm['published']} of {pm['needed']} needed ({_pct(pm['rate'])})",
        f"Action items done: {items['done']} of {items['items']} ({_pct(items['rate'])})"
        + (f"; {items['wont_do']} won't do, not counted" if items["wont_do"] else ""),
        f"Overdue as of {overdue['as_of']}: {overdue['action_items']} action items, "
        f"{overdue['postmortems']} postmortems",
    ]
    return "\n".join(lines) + "\n"


def _counts(counter: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counter.items()) or "-"


def _d(seconds: float | None) -> str:
    return format_duration(timedelta(seconds=seconds)) if seconds is not None else "-"


def _pct(rate: float | None) -> str:
    return f"{rate * 100:.1f}%" if rate is not None else "n/a"

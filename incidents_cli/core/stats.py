"""Response metrics over a period: counts, time to acknowledge and resolve, completion rates.

Pure. Every metric names where it starts and ends; back-filled times (--at) are the times
recorded, so they are what counts.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from incidents_cli.core.followup import late_by
from incidents_cli.core.postmortems import postmortem_due
from incidents_cli.core.settings import Settings
from incidents_cli.core.timeutil import due_time, format_duration, format_time
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
    by_component: Counter[str] = Counter()
    for _, record in chosen:
        by_component.update(record.get("components") or [])
    fronts = [postmortems.get(str(record.get("id"))) for _, record in chosen]
    postmortem, overdue_postmortems = _postmortem_completion(chosen, postmortems, settings, until)
    items, overdue_items = _action_item_completion(
        [f for f in fronts if f], until, settings.timezone
    )
    return {
        "period": {
            "since": format_time(since) if since else None,
            "until": format_time(until),
            "selects": "incidents whose detected_at is in [since, until)",
        },
        "incidents": len(chosen),
        "by_severity": _counted(str(r.get("severity") or "unset") for _, r in chosen),
        "by_component": dict(sorted(by_component.items())),
        "by_source": _counted(str(r.get("source")) for _, r in chosen),
        **_response_times(chosen, settings, until),
        "postmortem_completion": postmortem,
        "action_item_completion": items,
        "overdue": {
            "as_of": format_time(until),
            "action_items": overdue_items,
            "postmortems": overdue_postmortems,
        },
    }


def _counted(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items()))


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _response_times(
    chosen: Sequence[tuple[datetime, dict[str, Any]]], settings: Settings, until: datetime
) -> dict[str, Any]:
    """Time to acknowledge and to resolve per severity, and acknowledgments in the window."""
    ack: dict[str, list[timedelta]] = {s: [] for s in SEVERITIES}
    resolve: dict[str, list[timedelta]] = {s: [] for s in SEVERITIES}
    within = 0
    for detected, record in chosen:
        severity = record.get("severity")
        if severity not in SEVERITIES:
            continue
        acked = _time(record.get("acknowledged_at"))
        if acked is not None and acked <= until:
            ack[severity].append(acked - detected)
            within += acked - detected <= settings.ack_within[severity]
        resolved = _time(record.get("resolved_at"))
        if resolved is not None and resolved <= until:
            resolve[severity].append(resolved - detected)
    acknowledged = sum(len(durations) for durations in ack.values())
    return {
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
            "rate": _rate(within, acknowledged),
        },
    }


def _postmortem_completion(
    chosen: Sequence[tuple[datetime, dict[str, Any]]],
    postmortems: dict[str, dict[str, Any]],
    settings: Settings,
    until: datetime,
) -> tuple[dict[str, Any], int]:
    """Postmortems published of those needed, and how many needed ones are overdue."""
    needing = [
        r for _, r in chosen if r.get("severity") in settings.required_for and r.get("resolved_at")
    ]
    published = overdue = 0
    for record in needing:
        front = postmortems.get(str(record.get("id"))) or {}
        status = str(front.get("status") or "missing")
        published += status == "published"
        overdue += late_by(postmortem_due(record, front, settings), status, until) is not None
    return {
        "measures": "published postmortems / resolved incidents whose severity needs one",
        "needed": len(needing),
        "published": published,
        "rate": _rate(published, len(needing)),
    }, overdue


def _action_item_completion(
    fronts: Sequence[dict[str, Any]], until: datetime, zone: str
) -> tuple[dict[str, Any], int]:
    """Action items done of those not dropped (wont_do), and how many are overdue."""
    every_item = [
        item
        for front in fronts
        for item in (front.get("action_items") or [])
        if isinstance(item, dict)
    ]
    items = [i for i in every_item if i.get("status") != "wont_do"]
    done = sum(1 for i in items if i.get("status") == "done")
    overdue = sum(
        1
        for i in every_item
        if late_by(due_time(i.get("due"), zone), str(i.get("status", "open")), until) is not None
    )
    return {
        "measures": "done / action items (wont_do excluded) of these incidents' postmortems",
        "items": len(items),
        "done": done,
        "wont_do": len(every_item) - len(items),
        "rate": _rate(done, len(items)),
    }, overdue


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

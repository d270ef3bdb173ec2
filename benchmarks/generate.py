"""Make a realistic incident repository of N incidents, committed as a real git history.

    python benchmarks/generate.py DIR --incidents 10000 [--seed 1]

Five years of incidents over twenty components, a mix of severities, about five public
updates and ten timeline entries each, postmortems with action items for critical and high
ones, and a handful of open incidents (detected, not yet acknowledged) at the end for the
transition benchmarks. One commit per month of history.
"""

from __future__ import annotations

import argparse
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeDumper as Dumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as Dumper  # type: ignore[assignment]


def dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=4096)


def dump_record(data: dict[str, Any]) -> str:
    """Incident files in the layout the CLI itself writes (as a real repository has them)."""
    from incidents_cli.store.yamlio import dump as tool_dump

    return tool_dump(data)


COMPONENTS = [
    ("api", "Public API", "Core"),
    ("web", "Web application", "Core"),
    ("auth", "Sign-in", "Core"),
    ("search", "Search", "Core"),
    ("checkout", "Checkout", "Commerce"),
    ("payments", "Payments", "Commerce"),
    ("invoicing", "Invoicing", "Commerce"),
    ("notifications", "Notifications", "Messaging"),
    ("email", "Email delivery", "Messaging"),
    ("webhooks", "Webhooks", "Messaging"),
    ("database", "Primary database", "Infrastructure"),
    ("cache", "Cache", "Infrastructure"),
    ("queue", "Job queue", "Infrastructure"),
    ("storage", "File storage", "Infrastructure"),
    ("edge", "CDN and TLS edge", "Infrastructure"),
    ("dns", "DNS", "Infrastructure"),
    ("mobile-api", "Mobile API", "Mobile"),
    ("push", "Push notifications", "Mobile"),
    ("reports", "Reports", "Analytics"),
    ("exports", "Data exports", "Analytics"),
]
PEOPLE = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
REGIONS = ["eu-west", "us-east", "us-west", "ap-south"]
SYMPTOMS = [
    "elevated error rates",
    "slow responses",
    "timeouts",
    "failed logins",
    "delayed jobs",
    "missing notifications",
    "failed payments",
    "stale search results",
    "5xx errors",
]
SEVERITY_WEIGHTS = [("critical", 5), ("high", 15), ("medium", 40), ("low", 40)]
ACK_WITHIN = {"critical": 5, "high": 15, "medium": 60, "low": 240}

SETTINGS = {
    "title": "Benchmark Status",
    "base_url": "https://status.example.com/",
    "timezone": "Europe/Berlin",
    "id_prefix": "INC",
    "push": False,
    "components": [{"id": c, "name": n, "group": g} for c, n, g in COMPONENTS],
    "severities": {s: {"ack_within": f"{m}m"} for s, m in ACK_WITHIN.items()},
    "postmortem": {"required_for": ["critical", "high"], "due_within": "48h"},
    "people": [{"handle": p, "name": p.title()} for p in PEOPLE],
}


def z(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def make_incident(
    rng: random.Random, number: int, detected: datetime, open_: bool
) -> dict[str, Any]:
    severity = rng.choices([s for s, _ in SEVERITY_WEIGHTS], [w for _, w in SEVERITY_WEIGHTS])[0]
    components = rng.sample([c for c, _, _ in COMPONENTS], rng.randint(1, 3))
    regions = rng.sample(REGIONS, rng.randint(1, 2))
    iid = f"INC-{number:04d}"
    title = f"{rng.choice(SYMPTOMS).capitalize()} in {components[0]}"
    record: dict[str, Any] = {"id": iid, "title": title}
    if open_:
        record.update(
            severity=severity,
            phase="detected",
            source="monitor",
            components=components,
            regions=regions,
            detected_at=z(detected),
            timeline=[
                {
                    "at": z(detected),
                    "actor": "monitor",
                    "kind": "declared",
                    "text": "Declared from monitor",
                }
            ],
        )
        return record
    ack = detected + timedelta(minutes=rng.randint(1, ACK_WITHIN[severity] * 2))
    resolved = ack + timedelta(minutes=rng.randint(10, 600))
    closed = resolved + timedelta(hours=rng.randint(1, 72))
    commander, comms, responder = rng.sample(PEOPLE, 3)
    needs_pm = severity in ("critical", "high")
    timeline: list[dict[str, Any]] = [
        {"at": z(detected), "actor": "monitor", "kind": "declared", "text": "Declared"},
        {
            "at": z(ack),
            "actor": commander,
            "kind": "acknowledged",
            "text": f"Acknowledged as {severity}",
        },
    ]
    step = (resolved - ack) / 9
    for i in range(1, 8):
        timeline.append(
            {
                "at": z(ack + step * i),
                "actor": rng.choice([commander, responder]),
                "kind": rng.choice(["note", "finding", "change", "evidence"]),
                "text": f"Checked {rng.choice(components)} dashboards: {rng.choice(SYMPTOMS)}",
                "evidence": [f"https://grafana.example.com/d/{rng.randint(1, 999)}"],
            }
        )
    timeline.append(
        {"at": z(resolved), "actor": commander, "kind": "resolved", "text": "Resolved by rollback"}
    )
    if needs_pm:
        timeline.append(
            {
                "at": z(resolved + timedelta(minutes=30)),
                "actor": commander,
                "kind": "postmortem",
                "text": f"Postmortem started: postmortems/{iid}.md",
            }
        )
    timeline.append({"at": z(closed), "actor": commander, "kind": "closed", "text": "Closed"})
    statuses = ["investigating", "identified", "monitoring", "monitoring", "resolved"]
    ustep = (resolved - detected) / 4
    updates = []
    for i, status in enumerate(statuses):
        update: dict[str, Any] = {
            "at": z(detected + ustep * i + timedelta(minutes=1)),
            "status": status,
            "message": f"{status.capitalize()}: {title.lower()}.",
        }
        if i == 0:
            update["components"] = {
                c: rng.choice(["degraded_performance", "partial_outage", "major_outage"])
                for c in components
            }
        if status == "resolved":
            update["components"] = dict.fromkeys(components, "operational")
        updates.append(update)
    record.update(
        severity=severity,
        phase="closed",
        source=rng.choice(["monitor", "customer", "support"]),
        components=components,
        regions=regions,
        detected_at=z(detected),
        acknowledged_at=z(ack),
        resolved_at=z(resolved),
        closed_at=z(closed),
        roles={"commander": commander, "communications": comms, "responders": [responder]},
        updates=updates,
        timeline=timeline,
        resolution={
            "action": rng.choice(["rollback", "hotfix", "failover", "scale"]),
            "summary": "Rolled back the change",
            "verified_in": list(regions),
        },
    )
    if needs_pm:
        record["postmortem"] = f"postmortems/{iid}.md"
    return record


def make_postmortem(rng: random.Random, record: dict[str, Any], now: datetime) -> str:
    resolved = datetime.fromisoformat(record["resolved_at"])
    items = []
    for i in range(rng.randint(1, 4)):
        due = resolved + timedelta(days=rng.randint(7, 60))
        status = "done" if due < now - timedelta(days=30) or rng.random() < 0.7 else "open"
        items.append(
            {
                "id": f"A{i + 1}",
                "title": f"Prevent {rng.choice(SYMPTOMS)}",
                "owner": rng.choice(PEOPLE),
                "due": z(due),
                "status": status,
            }
        )
    front = {
        "incident": record["id"],
        "status": "published",
        "authors": [record["roles"]["commander"]],
        "due": z(resolved + timedelta(hours=48)),
        "published_at": z(resolved + timedelta(hours=40)),
        "public": True,
        "public_summary": f"{record['title']}: a change was rolled back.",
        "action_items": items,
    }
    body = (
        "## What happened\n\nA change caused errors.\n\n## Why it happened\n\n"
        "1. Why? A bad config.\n2. Why? No validation.\n\n## How we responded\n\n"
        "### Went well\n\nFast rollback.\n\n### Could be better\n\nAlerting.\n\n"
        "## What we will do\n\nSee the action items.\n"
    )
    return "---\n" + dump(front) + "---\n" + body


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def generate(repo: Path, count: int, seed: int = 1, open_count: int = 50) -> None:
    rng = random.Random(seed)
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q")
    git(repo, "config", "user.name", "Benchmark")
    git(repo, "config", "user.email", "bench@example.com")
    for folder in ("incidents", "postmortems", "runbooks"):
        (repo / folder).mkdir(exist_ok=True)
    (repo / "incidents.yaml").write_text(dump(SETTINGS))
    (repo / "runbooks" / "database.md").write_text(
        "---\ntitle: Database\ncomponents: [database]\ntags: [db]\nowner: alice\n"
        "last_reviewed: 2026-01-01\nreview_every: 90\n---\n# Database\n"
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Settings")
    end = datetime(2026, 11, 1, tzinfo=UTC)
    start = end - timedelta(days=5 * 365)
    closed_count = max(count - open_count, 0)
    times = sorted(
        start + timedelta(seconds=rng.uniform(0, (end - start).total_seconds()))
        for _ in range(closed_count)
    )
    month = None
    for number, detected in enumerate(times, start=1):
        detected = detected.replace(microsecond=0)
        if month is not None and (detected.year, detected.month) != month:
            git(repo, "add", "-A")
            git(repo, "commit", "-qm", f"Incidents of {month[0]}-{month[1]:02d}")
        month = (detected.year, detected.month)
        record = make_incident(rng, number, detected, open_=False)
        (repo / "incidents" / f"{record['id']}.yaml").write_text(dump_record(record))
        if "postmortem" in record:
            (repo / "postmortems" / f"{record['id']}.md").write_text(
                make_postmortem(rng, record, end)
            )
    for offset in range(min(open_count, count)):
        number = closed_count + offset + 1
        detected = end + timedelta(minutes=offset)
        record = make_incident(rng, number, detected, open_=True)
        (repo / "incidents" / f"{record['id']}.yaml").write_text(dump_record(record))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "Latest incidents")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.directory, args.incidents, args.seed)


if __name__ == "__main__":
    main()

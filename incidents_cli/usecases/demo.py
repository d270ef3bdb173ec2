"""`incidents demo`: a sample repository, a few incidents walked through every phase, a site.

Everything goes through the same functions the commands use, so the demo is a real run of
the tool: every step is a commit, and the site is built from the records it leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from incidents_cli.core.errors import RefusedError
from incidents_cli.core.timeutil import format_time, now_utc
from incidents_cli.site.build import BuildResult, build_site
from incidents_cli.store.git import Repo
from incidents_cli.store.yamlio import dump, write_atomic
from incidents_cli.usecases import transitions as commands
from incidents_cli.usecases.init import init_repository
from incidents_cli.usecases.transitions import Invocation


@dataclass
class DemoResult:
    root: Path
    incidents: list[str]
    site: BuildResult


def _at(moment: datetime) -> str:
    return format_time(moment)


def _step(folder: Path, who: str, when: datetime) -> Invocation:
    return Invocation(folder, by=who, at=_at(when), push=False)


POSTMORTEM = """---
incident: {id}
status: in_review
authors: [alice, carol]
due: {due}
public: true
public_summary: |
  A database change shipped with release v2.31.0 added a query that could not use an
  index. Under normal traffic it held database connections far longer than usual,
  the API's connection pools filled up, and API and checkout requests failed for 55
  minutes. We rolled the release back, added the missing index and now test new queries
  against production-sized data before they ship.
action_items:
  - id: A1
    title: Alert when any API connection pool stays above 80% for 5 minutes
    owner: carol
    due: {due_a1}
    status: done
    link: https://example.com/pull/4211
  - id: A2
    title: Run new queries against a production-sized copy in CI (EXPLAIN must use an index)
    owner: alice
    due: {due_a2}
    status: open
  - id: A3
    title: Canary stage with automatic rollback on error rate for the API
    owner: bob
    due: {due_a3}
    status: open
---

# Postmortem: {title}

## What happened

| Time (UTC) | What |
|---|---|
| {t0} | Monitors saw API error rates rise; incident declared |
| {t3} | Alice acknowledged it as critical and took command |
| {t9} | Connection pools at 100% on every API pod |
| {t12} | Release v2.31.0 identified: a new query without an index |
| {t40} | Release rolled back in eu-west and us-east |
| {t55} | Recovery verified in both regions; resolved |

## Why it happened

1. Why did requests fail? Every API pod waited for a database connection.
2. Why were there no free connections? A new query held each one for seconds.
3. Why was the query slow? It filtered on a column with no index.
4. Why did no test catch it? Test data is a few hundred rows; production has millions.

## How we responded

### Went well

- Acknowledged in 3 minutes; the runbook for pool exhaustion pointed at recent deploys.
- Rollback took 8 minutes and needed no database change.

### Could be better

- The first public update came 6 minutes after detection.
- No alert on pool saturation: we learned of it from errors.

## What we will do

See the action items above (A1 to A3).
"""


def run_demo(folder: Path) -> DemoResult:
    if folder.exists() and any(folder.iterdir()):
        raise RefusedError(f"{folder} exists and is not empty; give `incidents demo` a new folder")
    init_repository(folder, standalone=True)  # a sample of its own, even inside a checkout
    root = folder.resolve()
    now = now_utc().replace(minute=0, second=0)
    repo = Repo.at(root)

    # 1. A critical incident, six days ago, through every phase to a published postmortem.
    t0 = now - timedelta(days=6, hours=-9)

    def m(minutes: float) -> datetime:
        return t0 + timedelta(minutes=minutes)

    first = commands.declare(
        _step(root, "monitor", t0),
        "Checkout and API requests failing",
        severity=None,
        components=["api", "database"],
        regions=["eu-west", "us-east"],
        source="monitor",
        summary="Error rate alert on api-gateway; 5xx above 20% in both regions",
    ).change.incident_id
    commands.ack(_step(root, "alice", m(3)), first, "critical")
    commands.assign(
        _step(root, "alice", m(4)),
        first,
        commander="alice",
        communications="bob",
        responders=["carol"],
    )
    commands.investigate(_step(root, "alice", m(5)), first)
    commands.update(
        _step(root, "bob", m(6)),
        first,
        status="investigating",
        message="We are investigating failed requests to the **API** and checkout.",
        components=["api=major_outage", "database=degraded_performance"],
        eta=None,
    )
    commands.note(
        _step(root, "carol", m(9)),
        first,
        "Connection pool at 100% on all API pods",
        kind="finding",
        evidence=["https://grafana.example.com/d/api-pools"],
        runbook="database-connection-pool-exhaustion",
    )
    commands.note(
        _step(root, "carol", m(12)),
        first,
        "Release v2.31.0 (09:58) added a query on orders.customer_ref without an index",
        kind="change",
        evidence=["https://github.com/example/api/pull/4188"],
        runbook=None,
    )
    commands.update(
        _step(root, "bob", m(15)),
        first,
        status="identified",
        message="A change released today overloads the database. We are rolling it back.",
        components=["api=major_outage"],
        eta=_at(m(60)),
    )
    commands.note(
        _step(root, "alice", m(16)),
        first,
        "Rolling back to v2.30.4 in both regions",
        kind="decision",
        evidence=[],
        runbook="bad-deploy-rollback",
    )
    commands.update(
        _step(root, "bob", m(40)),
        first,
        status="monitoring",
        message="The change was rolled back and error rates are dropping. We are monitoring.",
        components=["api=degraded_performance", "database=operational"],
        eta=None,
    )
    commands.resolve(
        _step(root, "alice", m(55)),
        first,
        action="rollback",
        summary="Rolled back v2.31.0 to v2.30.4",
        verified_in=["eu-west", "us-east"],
        workaround=False,
        follow_up=None,
        message="API and checkout have been working normally for 15 minutes.",
        components=["api=operational", "database=operational"],
    )
    commands.postmortem(_step(root, "alice", m(60 * 20)), first)
    postmortem = POSTMORTEM.format(
        id=first,
        title="Checkout and API requests failing",
        due=_at(m(55) + timedelta(hours=48)),
        due_a1=_at(m(55) + timedelta(days=7)),
        due_a2=_at(now + timedelta(days=10)),
        due_a3=_at(now + timedelta(days=21)),
        **{f"t{k}": m(k).strftime("%Y-%m-%d %H:%M") for k in (0, 3, 9, 12, 40, 55)},
    )
    write_atomic(root / "postmortems" / f"{first}.md", postmortem)
    repo.commit_paths(
        [f"postmortems/{first}.md"],
        f"{first} postmortem written\n\nIncident-Id: {first}\nPhase: postmortem\nActor: alice\n",
    )
    commands.publish_postmortem(_step(root, "alice", m(60 * 40)), first)
    commands.close(_step(root, "alice", m(60 * 41)), first)

    # 2. A medium incident three days ago, resolved with a hotfix, no postmortem needed.
    t1 = now - timedelta(days=3, hours=-14)
    second = commands.declare(
        _step(root, "dave", t1),
        "Sign-in is slow for some users",
        severity="medium",
        components=["auth"],
        regions=[],
        source="support",
        summary="Support tickets: 30s logins",
    ).change.incident_id
    commands.ack(_step(root, "bob", t1 + timedelta(minutes=11)), second, None)
    commands.update(
        _step(root, "bob", t1 + timedelta(minutes=14)),
        second,
        status="investigating",
        message="Some users see slow sign-ins. We are looking into it.",
        components=["auth=degraded_performance"],
        eta=None,
    )
    commands.resolve(
        _step(root, "bob", t1 + timedelta(minutes=70)),
        second,
        action="hotfix",
        summary="Raised the session cache size",
        verified_in=[],
        workaround=False,
        follow_up=None,
        message="Sign-in times are back to normal.",
        components=["auth=operational"],
    )
    commands.close(_step(root, "bob", t1 + timedelta(hours=3)), second)

    # 3. A high incident going on right now.
    t2 = now_utc() - timedelta(minutes=40)
    third = commands.declare(
        _step(root, "support", t2),
        "Card payments failing for some customers",
        severity="high",
        components=["payments"],
        regions=["eu-west"],
        source="customer",
        summary="Customers report declined cards at checkout",
    ).change.incident_id
    commands.ack(_step(root, "carol", t2 + timedelta(minutes=4)), third, None)
    commands.assign(
        _step(root, "carol", t2 + timedelta(minutes=5)),
        third,
        commander="carol",
        communications="bob",
        responders=["alice"],
    )
    commands.investigate(_step(root, "carol", t2 + timedelta(minutes=6)), third)
    commands.note(
        _step(root, "alice", t2 + timedelta(minutes=12)),
        third,
        "Provider returns 503 for 40% of authorization calls from eu-west",
        kind="finding",
        evidence=["https://grafana.example.com/d/payments-provider"],
        runbook="third-party-provider-outage",
    )
    commands.update(
        _step(root, "bob", t2 + timedelta(minutes=15)),
        third,
        status="identified",
        message=(
            "Some card payments fail because of an issue at our payment provider. "
            "Orders are saved and will be charged once it recovers."
        ),
        components=["payments=partial_outage"],
        eta=_at(now + timedelta(hours=1)),
    )

    # 4. Scheduled maintenance: one done last week, one coming up.
    windows = {
        "MNT-0001": {
            "id": "MNT-0001",
            "title": "Load balancer certificate rotation",
            "start": _at(now - timedelta(days=8)),
            "end": _at(now - timedelta(days=8, hours=-1)),
            "components": ["edge"],
            "message": "No downtime expected.",
        },
        "MNT-0002": {
            "id": "MNT-0002",
            "title": "Primary database upgrade to PostgreSQL 17",
            "start": _at(now + timedelta(days=2, hours=2)),
            "end": _at(now + timedelta(days=2, hours=3)),
            "components": ["database", "api"],
            "message": "Writes may pause for **up to 2 minutes** during the switchover.",
        },
    }
    for key, window in windows.items():
        write_atomic(root / "maintenance" / f"{key}.yaml", dump(window))
    repo.commit_paths(
        [f"maintenance/{key}.yaml" for key in windows], "Schedule maintenance windows\n"
    )
    result = build_site(root, root / "_site")
    return DemoResult(root, [first, second, third], result)

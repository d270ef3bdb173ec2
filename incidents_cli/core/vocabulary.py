"""The words of the domain, in one place: phases, severities, sources, kinds and statuses.

Click choices, the transitions, the rules and the site read these tuples; a test checks
that each equals the enum of the same field in the shipped schemas. Plain tuples, so
importing this costs nothing (the CLI's --help reads it).
"""

from __future__ import annotations

PHASES = ("detected", "acknowledged", "investigating", "resolved", "postmortem", "closed")
OPEN_PHASES = PHASES[:-1]
RESOLVED_PHASES = ("resolved", "postmortem", "closed")
"""Phases in which the incident is over for the public: it has a resolution time."""

SEVERITIES = ("critical", "high", "medium", "low")
SOURCES = ("monitor", "customer", "support", "internal")
NOTE_KINDS = ("note", "finding", "change", "evidence", "action", "decision")
UPDATE_STATUSES = ("investigating", "identified", "monitoring", "resolved")
"""The statuses of a public update, as Atlassian Statuspage names them."""

COMPONENT_STATUSES = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)
RESOLUTION_ACTIONS = ("rollback", "hotfix", "failover", "scale", "upstream", "other")
POSTMORTEM_STATUSES = ("draft", "in_review", "published")
ACTION_ITEM_STATUSES = ("open", "done", "wont_do")
"""wont_do: decided against (with a reason): never overdue, left out of completion rates."""
SETTLED_ACTION_ITEM_STATUSES = ACTION_ITEM_STATUSES[1:]
ALERT_FORMATS = ("alertmanager", "grafana", "generic")
"""The webhook payloads `incidents ingest` reads."""
ALERT_STATUSES = ("firing", "resolved")

CHANNEL_TYPES = ("slack", "teams", "discord", "webhook", "email")
"""The kinds of place `incidents notify` can tell (notify: in the settings)."""
AUDIENCES = ("public", "internal", "support")
"""Who a channel speaks to: what the status site shows; the team; customer support."""
NOTIFY_EVENTS = (
    "declared",
    "acknowledged",
    "severity_changed",
    "role_assigned",
    "public_update",
    "resolved",
    "reopened",
    "postmortem_published",
    "escalation_due",
    "update_due",
    "maintenance_announced",
    "maintenance_started",
    "maintenance_ended",
)
"""What a notification is about, in the order notices of one moment are sent."""
SMTP_SECURITY = ("starttls", "tls", "none")

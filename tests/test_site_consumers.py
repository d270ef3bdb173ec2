"""The Statuspage v2 API of the built site, read by real clients and checked by a schema.

- tests/data/statuspage-v2.schema.json: the v2 shapes, written from Statuspage's
  documentation and from payloads real pages serve; every api/v2 file must match it.
- statuspage-prometheus-exporter (PyPI, in the test extras) runs once against the site
  served on 127.0.0.1 and writes Prometheus metrics; the test reads them back.
- statuscheck (PyPI; it pins click 7, so it lives in .venv-statuscheck, made by .ci/run or,
  when missing, here) parses the served summary.json with its Statuspage reader.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from prometheus_client.parser import text_string_to_metric_families

from .conftest import ROOT, run_cli

SCHEMA = json.loads((ROOT / "tests" / "data" / "statuspage-v2.schema.json").read_text())
STATUSCHECK_VENV = ROOT / ".venv-statuscheck"


def schema_errors(name: str, data: Any) -> list[str]:
    shape = {**SCHEMA, "$ref": f"#/$defs/{SCHEMA['x-documents'][name]}"}
    return [
        f"{name}: {'/'.join(str(p) for p in e.absolute_path)}: {e.message}"
        for e in Draft202012Validator(shape).iter_errors(data)
    ]


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo = tmp_path_factory.mktemp("demo") / "demo"
    assert run_cli("demo", str(demo)).code == 0
    return demo / "_site"


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def served(demo_site: Path) -> Iterator[str]:
    """The built site over HTTP on 127.0.0.1, as a static host would serve it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(demo_site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_schema_is_valid_and_every_document_is_named() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert sorted(SCHEMA["x-documents"]) == sorted(
        [
            "summary.json",
            "status.json",
            "components.json",
            "incidents.json",
            "incidents/unresolved.json",
            "scheduled-maintenances.json",
            "scheduled-maintenances/upcoming.json",
            "scheduled-maintenances/active.json",
        ]
    )


def test_the_schema_accepts_a_payload_in_the_real_api_s_shape() -> None:
    example = json.loads(
        (ROOT / "tests" / "data" / "statuspage-v2-summary.example.json").read_text()
    )
    assert schema_errors("summary.json", example) == []
    broken = json.loads(json.dumps(example))
    broken["incidents"][0]["components"][0] = {"id": "x", "name": "API"}  # the old shape
    assert schema_errors("summary.json", broken)


def test_every_api_file_matches_the_statuspage_v2_schema(demo_site: Path) -> None:
    api = demo_site / "api" / "v2"
    files = sorted(p.relative_to(api).as_posix() for p in api.rglob("*.json"))
    assert files == sorted(SCHEMA["x-documents"])
    errors = []
    for name in files:
        errors += schema_errors(name, json.loads((api / name).read_text()))
    assert errors == []


def test_incidents_and_maintenances_carry_full_component_objects(demo_site: Path) -> None:
    api = demo_site / "api" / "v2"
    summary = json.loads((api / "summary.json").read_text())
    by_id = {c["id"]: c for c in summary["components"]}
    seen = 0
    for item in summary["incidents"] + summary["scheduled_maintenances"]:
        for component in item["components"]:
            assert component == by_id[component["id"]]  # the same object as the list's
            assert isinstance(component["created_at"], str)
            seen += 1
    assert seen >= 2
    every = json.loads((api / "incidents.json").read_text())["incidents"]
    assert all(isinstance(c["status"], str) for i in every for c in i["components"])


def test_statuspage_prometheus_exporter_reads_the_served_site(served: str, tmp_path: Path) -> None:
    services = tmp_path / "services.json"
    services.write_text(
        json.dumps({"example": {"name": "Example Status", "url": f"{served}/api/v2/summary.json"}})
    )
    metrics = tmp_path / "metrics" / "statuspage.prom"
    env = {
        **os.environ,
        "RUN_MODE": "once",
        "SERVICES_JSON_PATH": str(services),
        "METRICS_TEXTFILE_PATH": str(metrics),
        "NO_PROXY": "127.0.0.1",
    }
    env.pop("SLACK_WEBHOOK_URL", None)
    exporter = Path(sys.executable).parent / "statuspage-prometheus-exporter"
    run = subprocess.run(
        [str(exporter)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert "error" not in run.stderr.lower(), run.stderr
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(metrics.read_text()):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))

    def value(name: str, **labels: str) -> float:
        found = [v for got, v in samples.get(name, []) if labels.items() <= got.items()]
        assert len(found) == 1, (name, labels, samples.get(name))
        return found[0]

    assert value("statuspage_probe_check", service_name="Example Status") == 1
    assert value("statuspage_service_status", service_name="Example Status") == 0  # an incident
    components = {
        labels["component_name"]: v for labels, v in samples["statuspage_component_status"]
    }
    assert components["Payments"] == 0
    assert components["Public API"] == 1
    # Groups are components too in the API; the exporter lists every one.
    assert {"Core", "Infrastructure", "Integrations"} <= set(components)
    incidents = [labels for labels, _ in samples["statuspage_incident_info"]]
    assert [i["incident_id"] for i in incidents] == ["INC-0003"]
    assert incidents[0]["impact"] == "major"
    assert incidents[0]["affected_components"] == "Payments"
    assert incidents[0]["shortlink"] == "https://status.example.com/incidents/INC-0003.html"
    assert incidents[0]["started_at"].endswith("Z")
    maintenance = [labels for labels, _ in samples["statuspage_maintenance_info"]]
    assert [m["maintenance_id"] for m in maintenance] == ["MNT-0002"]
    assert maintenance[0]["affected_components"]


@pytest.fixture(scope="module")
def statuscheck_python() -> Path:
    python = STATUSCHECK_VENV / "bin" / "python"
    if not python.exists():  # .ci/run makes it; a developer's first run makes it here
        subprocess.run([sys.executable, "-m", "venv", str(STATUSCHECK_VENV)], check=True)
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "-q",
                "-r",
                str(ROOT / "tests" / "consumers" / "statuscheck.txt"),
            ],
            check=True,
        )
    return python


STATUSCHECK_READER = """
import json, sys
from statuscheck.services.bases._statuspageio import BaseStatusPageAPI

class Ours(BaseStatusPageAPI):
    name = "Example Status"
    status_url = sys.argv[1]
    def _get_base_url(self):
        return sys.argv[1] + "/api/v2/"

service = Ours()
summary = service.get_summary()
service._print_summary(verbose=True)
print(json.dumps({
    "status": [summary.status.code, summary.status.name, summary.status.is_ok],
    "components": {c.name: c.status for c in summary.components},
    "incidents": [[i.id, i.status, [[c.name, c.status] for c in i.components]]
                  for i in summary.incidents],
}))
"""


def test_statuscheck_parses_the_served_summary(served: str, statuscheck_python: Path) -> None:
    run = subprocess.run(
        [str(statuscheck_python), "-c", STATUSCHECK_READER, served],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_PROXY": "127.0.0.1"},
    )
    assert run.returncode == 0, run.stderr
    printed, _, last = run.stdout.rstrip("\n").rpartition("\n")
    data = json.loads(last)
    assert data["status"] == ["major", "Major outage", False]
    assert data["components"]["Payments"] == "Partial outage"
    assert data["components"]["Public API"] == "Operational"
    assert data["incidents"][0] == ["INC-0003", "identified", [["Payments", "Partial outage"]]]
    assert [i[0] for i in data["incidents"]] == ["INC-0003", "MNT-0002"]
    assert "Current Example Status status: Major outage" in printed
    assert "- [identified] Card payments failing for some customers" in printed
    assert "    - Payments [Partial outage]" in printed

"""A real Prometheus Alertmanager on 127.0.0.1, and what its webhook receiver sends.

The ingest tests and the fixtures under tests/data/alerts/ use payloads that a real
Alertmanager produced, not hand-written imitations: this starts Debian's
``prometheus-alertmanager`` (or an upstream ``alertmanager``) with a temporary storage folder,
a web port chosen free at start, clustering off, and one webhook receiver pointing at a small
recording HTTP server, also on 127.0.0.1. Alerts are posted to its v2 API; the payloads it then
delivers to the webhook are returned as parsed JSON.

Grouping is by ``alertname`` and ``service`` (not ``region``), so one alert in two regions is
one group: the shape the ingest command's region confirmation is about.

Regenerate the fixtures with ``python -m tests.alertmanager_harness tests/data/alerts``.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
BINARIES = ("prometheus-alertmanager", "alertmanager")
SKIP_REASON = (
    "Prometheus Alertmanager is not installed (apt-get install prometheus-alertmanager; "
    ".ci/run installs it)"
)


def alertmanager_binary() -> str | None:
    """The path of an Alertmanager binary on PATH, or None."""
    for name in BINARIES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class _Recorder(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that keeps every JSON body POSTed to it."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__((HOST, 0), _RecordingHandler)
        self.payloads: list[dict[str, Any]] = []
        self.arrived = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/hook"


class _RecordingHandler(BaseHTTPRequestHandler):
    server: _Recorder

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"null")
        with self.server.arrived:
            self.server.payloads.append(body)
            self.server.arrived.notify_all()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


def _config(webhook_url: str, group_wait: str, group_interval: str) -> dict[str, Any]:
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": "incidents",
            "group_by": ["alertname", "service"],
            "group_wait": group_wait,
            "group_interval": group_interval,
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "incidents",
                "webhook_configs": [{"url": webhook_url, "send_resolved": True}],
            }
        ],
    }


class Alertmanager:
    """A running Alertmanager and the payloads its webhook has delivered so far."""

    def __init__(self, process: subprocess.Popen[bytes], api: str, recorder: _Recorder) -> None:
        self.process = process
        self.api = api
        self._recorder = recorder

    def post(self, alerts: list[Mapping[str, Any]]) -> None:
        """POST alerts to /api/v2/alerts, as Prometheus does."""
        request = urllib.request.Request(
            f"{self.api}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, response.status

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        """Block until the webhook has received ``count`` payloads; return all of them."""
        deadline = time.monotonic() + timeout
        with self._recorder.arrived:
            while len(self._recorder.payloads) < count:
                left = deadline - time.monotonic()
                if left <= 0 or self.process.poll() is not None:
                    raise TimeoutError(
                        f"Alertmanager delivered {len(self._recorder.payloads)} of {count} "
                        "webhook payloads"
                    )
                self._recorder.arrived.wait(min(left, 0.2))
            return [json.loads(json.dumps(p)) for p in self._recorder.payloads]


def _wait_ready(process: subprocess.Popen[bytes], api: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Alertmanager exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{api}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    raise TimeoutError("Alertmanager did not become ready")


@contextmanager
def running_alertmanager(
    group_wait: str = "1s", group_interval: str = "1s", webhook_url: str | None = None
) -> Iterator[Alertmanager]:
    """Start Alertmanager and its webhook recorder; stop both and remove the storage after.
    With ``webhook_url``, the webhook goes there instead (the recorder then hears nothing)."""
    binary = alertmanager_binary()
    if binary is None:
        raise FileNotFoundError(SKIP_REASON)
    recorder = _Recorder()
    serving = threading.Thread(target=recorder.serve_forever, daemon=True)
    serving.start()
    with tempfile.TemporaryDirectory(prefix="alertmanager-") as folder:
        config = Path(folder) / "alertmanager.yml"
        # JSON is YAML: Alertmanager reads it as is.
        config.write_text(
            json.dumps(_config(webhook_url or recorder.url, group_wait, group_interval))
        )
        port = _free_port()
        api = f"http://{HOST}:{port}"
        log = (Path(folder) / "alertmanager.log").open("wb")
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.path={Path(folder) / 'data'}",
                f"--web.listen-address={HOST}:{port}",
                f"--web.external-url={api}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_ready(process, api)
            yield Alertmanager(process, api, recorder)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
            recorder.shutdown()
            recorder.server_close()


def alert(
    region: str,
    *,
    starts_at: datetime,
    ends_at: datetime | None = None,
    alertname: str = "HighErrorRate",
    service: str = "api",
    severity: str = "critical",
) -> dict[str, Any]:
    """One alert as Prometheus posts it to /api/v2/alerts."""
    body: dict[str, Any] = {
        "labels": {
            "alertname": alertname,
            "service": service,
            "region": region,
            "severity": severity,
        },
        "annotations": {
            "summary": "API error rate above 5%",
            "description": f"5xx responses above 5% for 5 minutes in {region}",
        },
        "startsAt": starts_at.isoformat().replace("+00:00", "Z"),
        "generatorURL": "http://prometheus.example.com/graph?g0.expr=job%3Aerrors%3Arate5m+%3E+0.05",
    }
    if ends_at is not None:
        body["endsAt"] = ends_at.isoformat().replace("+00:00", "Z")
    return body


def capture_lifecycle() -> dict[str, dict[str, Any]]:
    """One group's life: firing in one region, then in a second, resolved in the first, then
    resolved everywhere."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3)
    payloads: dict[str, dict[str, Any]] = {}
    with running_alertmanager() as manager:
        manager.post([alert("eu-west", starts_at=start)])
        payloads["alertmanager-firing-one-region"] = manager.wait_for(1)[-1]
        second = start + timedelta(minutes=1)
        manager.post([alert("eu-west", starts_at=start), alert("us-east", starts_at=second)])
        payloads["alertmanager-firing-two-regions"] = manager.wait_for(2)[-1]
        first_end = datetime.now(UTC).replace(microsecond=0)
        manager.post(
            [
                alert("eu-west", starts_at=start, ends_at=first_end),
                alert("us-east", starts_at=second),
            ]
        )
        payloads["alertmanager-one-region-resolved"] = manager.wait_for(3)[-1]
        end = datetime.now(UTC).replace(microsecond=0)
        manager.post([alert("us-east", starts_at=second, ends_at=end)])
        payloads["alertmanager-resolved"] = manager.wait_for(4)[-1]
    return payloads


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m tests.alertmanager_harness FOLDER\n")
        return 2
    folder = Path(argv[0])
    folder.mkdir(parents=True, exist_ok=True)
    for name, payload in capture_lifecycle().items():
        (folder / f"{name}.json").write_text(json.dumps(payload, indent=2) + "\n")
        sys.stdout.write(f"wrote {folder / name}.json\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

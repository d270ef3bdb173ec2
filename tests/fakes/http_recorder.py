"""A real HTTP server on 127.0.0.1 that records every request, for webhook tests.

Threaded (``http.server.ThreadingHTTPServer``) so a slow client never blocks another. Each
request is kept whole: method, path, headers and the raw body, so a test can check exact
bytes and recompute a signature. The status code to answer can be set per path, to make one
channel fail while the others succeed.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return value
        return None


class HttpRecorder:
    """``with HttpRecorder() as server: server.url("/slack")``; ``server.requests``."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.status: dict[str, int] = {}
        self.budget: dict[str, tuple[int, int]] = {}
        self.holds: dict[str, tuple[int, threading.Event, threading.Event]] = {}
        self._lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with recorder._lock:
                    recorder.requests.append(
                        Recorded(self.command, self.path, dict(self.headers.items()), body)
                    )
                    hold = recorder.holds.get(self.path)
                    count = len([r for r in recorder.requests if r.path == self.path])
                    code = recorder.status.get(self.path, 200)
                    if self.path in recorder.budget:
                        left, failure = recorder.budget[self.path]
                        code = 200 if left > 0 else failure
                        recorder.budget[self.path] = (left - 1, failure)
                if hold is not None and count == hold[0]:
                    hold[1].set()  # the request is here ...
                    hold[2].wait(timeout=30)  # ... and gets no answer until released
                    return
                reply = b"ok" if code < 400 else b"failed on purpose"
                self.send_response(code)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_POST = do_PUT = do_GET = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail(self, path: str, code: int = 500) -> None:
        with self._lock:
            self.status[path] = code

    def fail_after(self, path: str, successes: int, code: int = 500) -> None:
        """Answer ``path`` normally ``successes`` times, then fail: a server dying mid-run."""
        with self._lock:
            self.budget[path] = (successes, code)

    def hold(self, path: str, number: int) -> tuple[threading.Event, threading.Event]:
        """Keep the ``number``-th request to ``path`` waiting for an answer: returns (arrived,
        release) events, so a test can kill the client while its request is in flight."""
        arrived, release = threading.Event(), threading.Event()
        with self._lock:
            self.holds[path] = (number, arrived, release)
        return arrived, release

    def heal(self, path: str) -> None:
        with self._lock:
            self.status.pop(path, None)
            self.budget.pop(path, None)

    def at(self, path: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def __enter__(self) -> HttpRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for _, _, release in self.holds.values():
            release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def __iter__(self) -> Iterator[Recorded]:
        return iter(list(self.requests))

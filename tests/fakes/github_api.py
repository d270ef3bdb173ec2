"""A fake GitHub REST API on 127.0.0.1, for the tests of `incidents actions sync`.

It answers the endpoints the tracker uses, in the shapes GitHub documents (REST API version
2022-11-28): the repository, issues (list with state/labels/per_page/page and Link-header
pagination, get, create, update with state and state_reason), issue comments (list, create),
labels (get, create) and the assignee check; and repository dispatch events, which monitors
create to start the alert workflow. Every request is recorded, so a test can assert exactly
what was asked of GitHub. ``rate_limit_once`` answers the next request with a secondary
(403 + retry-after) or a primary (403 + x-ratelimit-remaining 0 + x-ratelimit-reset) limit.

Like GitHub, the ``next`` links of a listing point at ``/repositories/{id}/...``, not at the
owner/name path the client asked for: a client must follow the Link header as given.

What people do on github.com (close an issue as not planned with a comment, reopen it) is done
with the methods ``close``/``reopen``/``comment``, which are not recorded as requests.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

DOCS = "https://docs.github.com/rest"
API_VERSION = "2022-11-28"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID "
    "0000:0000:0000000:0000000:00000000."
)


@dataclass(frozen=True)
class Request:
    """One request as the fake received it."""

    method: str
    target: str  # path and query exactly as sent, e.g. /repos/o/r/issues?state=all&page=2
    body: Any  # the parsed JSON body, or None
    authorization: str | None
    limited: bool = False  # answered with a rate limit instead
    accept: str | None = None

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.target).query))

    def __str__(self) -> str:
        return f"{self.method} {self.target}"


@dataclass
class _Limit:
    kind: str  # secondary or primary
    retry_after: int
    reset: int


@dataclass
class FakeGitHub:
    owner: str = "acme"
    name: str = "service"
    token: str = "test-token"
    login: str = "github-actions[bot]"  # who the token belongs to
    html_base: str = "https://github.com"
    repo_id: int = 4242
    default_branch: str = "main"
    now: datetime = field(default_factory=lambda: datetime(2026, 3, 20, 9, 0, tzinfo=UTC))
    assignable: set[str] = field(default_factory=set)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    labels: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    """The repository dispatch events created, as their bodies."""
    url: str = ""
    _limits: list[_Limit] = field(default_factory=list)
    _failures: list[list[Any]] = field(default_factory=list)
    _next_id: int = 1000
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # --- what a test sees -----------------------------------------------------------------

    def calls(self) -> list[str]:
        """Every request as 'METHOD /path?query', in the order received."""
        with self._lock:
            return [str(r) for r in self.requests]

    def writes(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method != "GET" and not r.limited]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def tick(self, seconds: int = 60) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now

    def rate_limit_once(
        self, kind: str = "secondary", *, retry_after: int = 1, reset: int = 0
    ) -> None:
        """Answer the next request with a rate limit of this kind (secondary or primary)."""
        assert kind in ("secondary", "primary")
        with self._lock:
            self._limits.append(_Limit(kind, retry_after, reset))

    def fail_once(self, status: int, request: str, skip: int = 0) -> None:
        """Answer a request like 'POST /repos/o/r/issues' with ``status`` once, after letting
        ``skip`` such requests through (GitHub having a bad moment mid-sync)."""
        with self._lock:
            self._failures.append([request, skip, status])

    # --- what people do on github.com (not recorded) ------------------------------------

    def close(self, number: int, reason: str = "completed", comment: str | None = None) -> None:
        with self._lock:
            if comment is not None:
                self.comment(number, comment, "alice")
            self._update(number, {"state": "closed", "state_reason": reason}, "alice")

    def reopen(self, number: int) -> None:
        with self._lock:
            self._update(number, {"state": "open"}, "alice")

    def comment(self, number: int, text: str, login: str = "alice") -> dict[str, Any]:
        with self._lock:
            return self._comment(number, text, login)

    def add_issue(self, title: str, body: str = "", labels: tuple[str, ...] = ()) -> int:
        with self._lock:
            return int(
                self._create({"title": title, "body": body, "labels": list(labels)})["number"]
            )

    def add_pull_request(self, title: str, labels: tuple[str, ...] = ()) -> int:
        """Pull requests are issues too: the issues listing returns them."""
        with self._lock:
            issue = self._create({"title": title, "body": "", "labels": list(labels)})
            number = int(issue["number"])
            issue["pull_request"] = {
                "url": f"{self.url}/repos/{self.owner}/{self.name}/pulls/{number}",
                "html_url": f"{self._repo_html}/pull/{number}",
            }
            return number

    # --- serving ----------------------------------------------------------------------

    @contextmanager
    def serve(self) -> Iterator[FakeGitHub]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

            def do_PATCH(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(
                handler, 400, {"message": "Problems parsing JSON", "documentation_url": DOCS}
            )
            return
        with self._lock:
            limit = self._limits.pop(0) if self._limits else None
            self.requests.append(
                Request(
                    handler.command,
                    handler.path,
                    body,
                    handler.headers.get("Authorization"),
                    limited=limit is not None,
                    accept=handler.headers.get("Accept"),
                )
            )
            if limit is not None:
                self._send_limit(handler, limit)
                return
            target = f"{handler.command} {urlsplit(handler.path).path}"
            for failure in self._failures:
                if failure[0] == target:
                    if failure[1] > 0:
                        failure[1] -= 1
                        break
                    self._failures.remove(failure)
                    self._send(handler, failure[2], {"message": "Server Error"})
                    return
            if handler.headers.get("Authorization") not in (
                f"Bearer {self.token}",
                f"token {self.token}",
            ):
                self._send(handler, 401, {"message": "Bad credentials", "documentation_url": DOCS})
                return
            try:
                status, payload, headers = self._route(handler.command, handler.path, body)
            except _Answer as answer:
                status, payload, headers = answer.status, answer.payload, {}
            self._send(handler, status, payload, headers)

    def _send(
        self,
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
        remaining: int = 4999,
    ) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        handler.send_response(status)
        if payload is not None:
            handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("X-GitHub-Api-Version-Selected", API_VERSION)
        handler.send_header("X-RateLimit-Limit", "5000")
        handler.send_header("X-RateLimit-Remaining", str(remaining))
        handler.send_header("X-RateLimit-Reset", str(int(self.now.timestamp()) + 3600))
        handler.send_header("X-RateLimit-Used", str(5000 - remaining))
        handler.send_header("X-RateLimit-Resource", "core")
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def _send_limit(self, handler: BaseHTTPRequestHandler, limit: _Limit) -> None:
        if limit.kind == "secondary":
            payload = {
                "message": SECONDARY_MESSAGE,
                "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api"
                "#about-secondary-rate-limits",
            }
            self._send(handler, 403, payload, {"Retry-After": str(limit.retry_after)})
            return
        payload = {
            "message": "API rate limit exceeded for installation ID 1.",
            "documentation_url": f"{DOCS}/overview/rate-limits-for-the-rest-api",
        }
        data = json.dumps(payload).encode()
        handler.send_response(403)
        handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.send_header("X-RateLimit-Limit", "5000")
        handler.send_header("X-RateLimit-Remaining", "0")
        handler.send_header("X-RateLimit-Reset", str(limit.reset))
        handler.send_header("X-RateLimit-Used", "5000")
        handler.send_header("X-RateLimit-Resource", "core")
        handler.end_headers()
        handler.wfile.write(data)

    # --- the endpoints ----------------------------------------------------------------

    _ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
        ("GET", re.compile(r""), "repo"),
        ("GET", re.compile(r"/issues"), "list_issues"),
        ("POST", re.compile(r"/issues"), "create_issue"),
        ("GET", re.compile(r"/issues/(\d+)"), "get_issue"),
        ("PATCH", re.compile(r"/issues/(\d+)"), "update_issue"),
        ("GET", re.compile(r"/issues/(\d+)/comments"), "list_comments"),
        ("POST", re.compile(r"/issues/(\d+)/comments"), "create_comment"),
        ("GET", re.compile(r"/labels/([^/]+)"), "get_label"),
        ("POST", re.compile(r"/labels"), "create_label"),
        ("GET", re.compile(r"/assignees/([^/]+)"), "check_assignee"),
        ("POST", re.compile(r"/dispatches"), "dispatch"),
    )

    def _route(self, method: str, target: str, body: Any) -> tuple[int, Any, dict[str, str]]:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        prefixes = (f"/repos/{self.owner}/{self.name}", f"/repositories/{self.repo_id}")
        rest = next((parts.path[len(p) :] for p in prefixes if parts.path.startswith(p)), None)
        if rest is None:
            raise _Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        for route_method, pattern, name in self._ROUTES:
            match = pattern.fullmatch(rest)
            if match and route_method == method:
                handler = getattr(self, f"_ep_{name}")
                result: tuple[int, Any, dict[str, str]] = handler(
                    *[unquote(g) for g in match.groups()], query=query, body=body, rest=rest
                )
                return result
        raise _Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

    def _ep_dispatch(self, *, body: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        """Create a repository dispatch event: event_type of 1 to 100 characters, a
        client_payload of at most 10 top-level properties; 204 and no body."""
        invalid = {"message": "Invalid request.", "documentation_url": DOCS, "status": "422"}
        if not isinstance(body, dict) or not isinstance(body.get("event_type"), str):
            raise _Answer(422, invalid)
        payload = body.get("client_payload", {})
        if not 0 < len(body["event_type"]) <= 100:
            raise _Answer(422, invalid)
        if not isinstance(payload, dict) or len(payload) > 10:
            raise _Answer(422, invalid)
        self.dispatches.append(body)
        return 204, None, {}

    def _ep_repo(self, **_: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, self._repo_object(), {}

    def _ep_list_issues(
        self, *, query: dict[str, str], rest: str, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            raise _validation("state", "invalid")
        wanted = [x for x in query.get("labels", "").split(",") if x]
        found = [
            issue
            for issue in self.issues.values()
            if (state == "all" or issue["state"] == state)
            and all(any(lab["name"] == w for lab in issue["labels"]) for w in wanted)
        ]
        found.sort(key=lambda i: int(i["number"]), reverse=query.get("direction", "desc") == "desc")
        return self._page(found, query, rest)

    def _ep_create_issue(self, *, body: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or not body.get("title"):
            raise _validation("title", "missing_field", "Issue")
        for login in body.get("assignees") or []:
            if login not in self.assignable:
                raise _validation("assignees", "invalid", "Issue", login)
        issue = self._create(body)
        location = f"{self.url}/repos/{self.owner}/{self.name}/issues/{issue['number']}"
        return 201, issue, {"Location": location}

    def _ep_get_issue(self, number: str, **_: Any) -> tuple[int, Any, dict[str, str]]:
        return 200, self._issue(int(number)), {}

    def _ep_update_issue(
        self, number: str, *, body: Any, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict):
            raise _validation("body", "invalid")
        if body.get("state") not in (None, "open", "closed"):
            raise _validation("state", "invalid", "Issue", body.get("state"))
        if body.get("state_reason") not in (None, "completed", "not_planned", "reopened"):
            raise _validation("state_reason", "invalid", "Issue", body.get("state_reason"))
        return 200, self._update(int(number), body, self.login), {}

    def _ep_list_comments(
        self, number: str, *, query: dict[str, str], rest: str, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        self._issue(int(number))
        return self._page(list(self.comments.get(int(number), [])), query, rest)

    def _ep_create_comment(
        self, number: str, *, body: Any, **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or not body.get("body"):
            raise _validation("body", "missing_field", "IssueComment")
        comment = self._comment(int(number), str(body["body"]), self.login)
        return 201, comment, {"Location": comment["url"]}

    def _ep_get_label(self, name: str, **_: Any) -> tuple[int, Any, dict[str, str]]:
        if name not in self.labels:
            raise _Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        return 200, self.labels[name], {}

    def _ep_create_label(self, *, body: Any, **_: Any) -> tuple[int, Any, dict[str, str]]:
        if not isinstance(body, dict) or not body.get("name"):
            raise _validation("name", "missing_field", "Label")
        if body["name"] in self.labels:
            raise _validation("name", "already_exists", "Label")
        label = self._label(str(body["name"]), body.get("color"), body.get("description"))
        return 201, label, {}

    def _ep_check_assignee(self, login: str, **_: Any) -> tuple[int, Any, dict[str, str]]:
        if login in self.assignable:
            return 204, None, {}
        raise _Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})

    # --- the objects, in GitHub's shapes -------------------------------------------------

    @property
    def _repo_html(self) -> str:
        return f"{self.html_base}/{self.owner}/{self.name}"

    @property
    def _repo_api(self) -> str:
        return f"{self.url}/repos/{self.owner}/{self.name}"

    def _stamp(self) -> str:
        return self.now.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _user(self, login: str) -> dict[str, Any]:
        return {
            "login": login,
            "id": sum(map(ord, login)),
            "node_id": f"U_{login}",
            "url": f"{self.url}/users/{quote(login)}",
            "html_url": f"{self.html_base}/{quote(login)}",
            "type": "Bot" if login.endswith("[bot]") else "User",
            "site_admin": False,
        }

    def _repo_object(self) -> dict[str, Any]:
        return {
            "id": self.repo_id,
            "node_id": f"R_{self.repo_id}",
            "name": self.name,
            "full_name": f"{self.owner}/{self.name}",
            "owner": self._user(self.owner),
            "private": True,
            "html_url": self._repo_html,
            "url": self._repo_api,
            "default_branch": self.default_branch,
            "has_issues": True,
            "open_issues_count": sum(1 for i in self.issues.values() if i["state"] == "open"),
        }

    def _label(self, name: str, color: Any = None, description: Any = None) -> dict[str, Any]:
        label = {
            "id": self._new_id(),
            "node_id": f"LA_{name}",
            "url": f"{self._repo_api}/labels/{quote(name)}",
            "name": name,
            "description": description,
            "color": str(color or "ededed"),
            "default": False,
        }
        self.labels[name] = label
        return label

    def _create(self, body: dict[str, Any]) -> dict[str, Any]:
        number = max([*self.issues, 0]) + 1
        labels = [self.labels.get(n) or self._label(n) for n in body.get("labels") or []]
        issue = {
            "id": self._new_id(),
            "node_id": f"I_{number}",
            "url": f"{self._repo_api}/issues/{number}",
            "repository_url": self._repo_api,
            "labels_url": f"{self._repo_api}/issues/{number}/labels{{/name}}",
            "comments_url": f"{self._repo_api}/issues/{number}/comments",
            "events_url": f"{self._repo_api}/issues/{number}/events",
            "html_url": f"{self._repo_html}/issues/{number}",
            "number": number,
            "state": "open",
            "state_reason": None,
            "title": str(body["title"]),
            "body": body.get("body"),
            "user": self._user(self.login),
            "labels": labels,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "locked": False,
            "active_lock_reason": None,
            "comments": 0,
            "closed_at": None,
            "closed_by": None,
            "created_at": self._stamp(),
            "updated_at": self._stamp(),
            "author_association": "NONE",
        }
        self._assign(issue, body.get("assignees") or [])
        self.issues[number] = issue
        self.comments[number] = []
        return issue

    def _assign(self, issue: dict[str, Any], logins: list[str]) -> None:
        issue["assignees"] = [self._user(str(login)) for login in logins]
        issue["assignee"] = issue["assignees"][0] if issue["assignees"] else None

    def _issue(self, number: int) -> dict[str, Any]:
        if number not in self.issues:
            raise _Answer(404, {"message": "Not Found", "documentation_url": DOCS, "status": "404"})
        return self.issues[number]

    def _update(self, number: int, body: dict[str, Any], login: str) -> dict[str, Any]:
        issue = self._issue(number)
        for key in ("title", "body"):
            if key in body:
                issue[key] = body[key]
        if "labels" in body:
            issue["labels"] = [self.labels.get(n) or self._label(n) for n in body["labels"]]
        if "assignees" in body:
            self._assign(issue, list(body["assignees"]))
        state = body.get("state")
        # state_reason is ignored unless the state changes, as GitHub documents
        if state == "closed" and issue["state"] != "closed":
            issue["state"] = "closed"
            issue["state_reason"] = body.get("state_reason") or "completed"
            issue["closed_at"] = self._stamp()
            issue["closed_by"] = self._user(login)
        elif state == "open" and issue["state"] != "open":
            issue["state"] = "open"
            issue["state_reason"] = "reopened"
            issue["closed_at"] = None
            issue["closed_by"] = None
        issue["updated_at"] = self._stamp()
        return issue

    def _comment(self, number: int, text: str, login: str) -> dict[str, Any]:
        issue = self._issue(number)
        comment_id = self._new_id()
        comment = {
            "id": comment_id,
            "node_id": f"IC_{comment_id}",
            "url": f"{self._repo_api}/issues/comments/{comment_id}",
            "html_url": f"{self._repo_html}/issues/{number}#issuecomment-{comment_id}",
            "body": text,
            "user": self._user(login),
            "created_at": self._stamp(),
            "updated_at": self._stamp(),
            "issue_url": issue["url"],
            "author_association": "MEMBER",
        }
        self.comments[number].append(comment)
        issue["comments"] = len(self.comments[number])
        issue["updated_at"] = self._stamp()
        return comment

    def _page(
        self, found: list[dict[str, Any]], query: dict[str, str], rest: str
    ) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(query.get("per_page", "30")), 100)
        page = max(int(query.get("page", "1")), 1)
        last = max((len(found) + per_page - 1) // per_page, 1)
        chunk = found[(page - 1) * per_page : page * per_page]
        # GitHub's links name the repository by id, whatever path the client used
        base = f"{self.url}/repositories/{self.repo_id}{rest}"

        def link(to: int, rel: str) -> str:
            return f'<{base}?{urlencode({**query, "page": str(to)})}>; rel="{rel}"'

        links = []
        if page > 1:
            links += [link(page - 1, "prev"), link(1, "first")]
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        return 200, chunk, ({"Link": ", ".join(links)} if links else {})


class _Answer(Exception):
    def __init__(self, status: int, payload: Any) -> None:
        super().__init__(status)
        self.status = status
        self.payload = payload


def _validation(field_name: str, code: str, resource: str = "Issue", value: Any = None) -> _Answer:
    error: dict[str, Any] = {"resource": resource, "code": code, "field": field_name}
    if value is not None:
        error["value"] = value
    return _Answer(
        422, {"message": "Validation Failed", "errors": [error], "documentation_url": DOCS}
    )

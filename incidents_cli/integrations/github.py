"""GitHub's REST API: the one module that talks to it (repository, issues, comments, labels).

It reads ``GITHUB_TOKEN`` and ``GITHUB_API_URL`` as GitHub Actions sets them, follows the
``Link`` header for pagination, and waits out rate limits the way GitHub documents: a
``retry-after`` header is the number of seconds to wait; ``x-ratelimit-remaining: 0`` means
wait until ``x-ratelimit-reset`` (epoch seconds); a secondary limit without either header
waits a minute, doubling on each repeat. A small loop and not tenacity: the wait is dictated
by the response's headers, not by a backoff policy, so tenacity would need a custom wait and
a custom retry test, more code than the loop. ``sleep`` and ``clock`` are parameters so tests
wait milliseconds.

Every failure leaves as one ``GitHubError`` line saying what GitHub answered and what to do.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from incidents_cli.core.errors import IncidentsError
from incidents_cli.core.tracker import Comment, Issue

DEFAULT_API_URL = "https://api.github.com"  # GitHub's documented default
TOKEN_ENV = "GITHUB_TOKEN"
API_URL_ENV = "GITHUB_API_URL"
API_VERSION = "2022-11-28"
PER_PAGE = 100
MAX_TRIES = 6
MAX_WAIT = 15 * 60.0  # seconds; a longer wait fails instead of holding a CI job for an hour
SECONDARY_FALLBACK = 60.0


class GitHubError(IncidentsError):
    """GitHub refused or failed a request; the message says what it answered."""


@dataclass(frozen=True)
class Repository:
    full_name: str
    html_url: str
    default_branch: str
    private: bool = False
    """Only what GitHub says is private is (a missing or odd field: public, fail closed)."""


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _json(response: httpx.Response) -> Any:
    """The JSON of a successful answer; a proxy's HTML page is one clear line, not a crash."""
    try:
        return response.json()
    except ValueError:
        where = f"{response.request.method} {_path(str(response.request.url))}"
        raise GitHubError(
            f"GitHub answered {where} with something that is not JSON; check {API_URL_ENV}"
        ) from None


def _issue(data: Any) -> Issue:
    if not isinstance(data, Mapping) or "number" not in data or "html_url" not in data:
        raise GitHubError("GitHub answered with something that is not an issue")
    return Issue(
        number=int(data["number"]),
        url=str(data["html_url"]),
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        state=str(data.get("state") or "open"),
        state_reason=data.get("state_reason"),
        closed_at=_time(data.get("closed_at")),
        updated_at=_time(data.get("updated_at")),
    )


def _comment(data: Mapping[str, Any]) -> Comment:
    created = _time(data.get("created_at"))
    assert created is not None, "GitHub comments always have created_at"
    return Comment(
        author=str((data.get("user") or {}).get("login") or ""),
        body=str(data.get("body") or ""),
        created_at=created,
    )


class GitHub:
    """A client for one repository ("OWNER/NAME")."""

    def __init__(
        self,
        repo: str,
        *,
        token: str | None,
        api_url: str = DEFAULT_API_URL,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        max_wait: float = MAX_WAIT,
        timeout: float = 30.0,
    ) -> None:
        owner, sep, name = repo.partition("/")
        if not sep or not owner or not name or "/" in name:
            raise GitHubError(f"--repo {repo!r}: write it as OWNER/NAME")
        self.repo = repo
        self.api_url = api_url.strip().rstrip("/")
        self._base = f"{self.api_url}/repos/{quote(owner)}/{quote(name)}"
        self._sleep = sleep
        self._clock = clock
        self._max_wait = max_wait
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "incidents-cli",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(headers=headers, timeout=timeout, follow_redirects=True)

    @classmethod
    def from_env(
        cls,
        repo: str,
        env: Mapping[str, str] | None = None,
        *,
        token_required: bool = True,
        **options: Any,
    ) -> GitHub:
        env = os.environ if env is None else env
        token = env.get(TOKEN_ENV) or None
        if token is None and token_required:
            raise GitHubError(
                f"{TOKEN_ENV} is not set: export a token that may write issues "
                "(in a workflow: `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}`)"
            )
        return cls(repo, token=token, api_url=env.get(API_URL_ENV) or DEFAULT_API_URL, **options)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the endpoints ---------------------------------------------------------------

    def repository(self) -> Repository:
        data = _json(self._request("GET", self._base))
        return Repository(
            str(data["full_name"]),
            str(data["html_url"]),
            str(data.get("default_branch") or ""),
            data.get("private") is True,
        )

    def issues(self, label: str, state: str = "all") -> list[Issue]:
        """Every issue with ``label`` (pull requests, which the listing includes, left out)."""
        params = {"state": state, "labels": label, "per_page": str(PER_PAGE)}
        return [
            _issue(data)
            for data in self._pages(f"{self._base}/issues", params)
            if "pull_request" not in data
        ]

    def issue(self, number: int) -> Issue | None:
        response = self._request("GET", f"{self._base}/issues/{number}", missing_ok=True)
        if response.status_code in (404, 410):
            return None
        return _issue(_json(response))

    def create_issue(self, title: str, body: str, labels: list[str], assignees: list[str]) -> Issue:
        payload: dict[str, Any] = {"title": title, "body": body, "labels": labels}
        if assignees:
            payload["assignees"] = assignees
        return _issue(_json(self._request("POST", f"{self._base}/issues", json=payload)))

    def update_issue(
        self,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: str | None = None,
        state_reason: str | None = None,
    ) -> Issue:
        payload: dict[str, Any] = {}
        for key, value in (
            ("title", title),
            ("body", body),
            ("state", state),
            ("state_reason", state_reason),
        ):
            if value is not None:
                payload[key] = value
        return _issue(_json(self._request("PATCH", f"{self._base}/issues/{number}", json=payload)))

    def comments(self, number: int) -> list[Comment]:
        url = f"{self._base}/issues/{number}/comments"
        return [_comment(data) for data in self._pages(url, {"per_page": str(PER_PAGE)})]

    def comment(self, number: int, body: str) -> Comment:
        url = f"{self._base}/issues/{number}/comments"
        return _comment(_json(self._request("POST", url, json={"body": body})))

    def ensure_label(self, name: str, color: str, description: str) -> bool:
        """Make the label unless it exists; True if it was made."""
        url = f"{self._base}/labels/{quote(name, safe='')}"
        if self._request("GET", url, missing_ok=True).status_code == 200:
            return False
        payload = {"name": name, "color": color, "description": description}
        self._request("POST", f"{self._base}/labels", json=payload)
        return True

    def can_assign(self, login: str) -> bool:
        url = f"{self._base}/assignees/{quote(login, safe='')}"
        return self._request("GET", url, missing_ok=True).status_code == 204

    # --- requests, pages and waits -----------------------------------------------------

    def _pages(self, url: str, params: dict[str, str]) -> Iterator[Any]:
        next_url: str | None = url
        query: dict[str, str] | None = params
        while next_url is not None:
            response = self._request("GET", next_url, params=query)
            page = _json(response)
            if not isinstance(page, list):
                raise GitHubError(f"GitHub answered GET {next_url} with something not a list")
            yield from page
            # the next link carries the whole query (and may name the repository by id)
            next_url = response.links.get("next", {}).get("url")
            query = None

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        missing_ok: bool = False,
    ) -> httpx.Response:
        secondary_waits = 0
        for _ in range(MAX_TRIES):
            try:
                response = self._http.request(method, url, params=params, json=json)
            except (httpx.HTTPError, httpx.InvalidURL) as error:  # InvalidURL is not one
                raise GitHubError(
                    f"cannot reach GitHub's API at {self.api_url} ({error.__class__.__name__}: "
                    f"{error}); check {API_URL_ENV} and the network"
                ) from None
            wait = self._rate_limit_wait(response, secondary_waits)
            if wait is None:
                return self._checked(method, url, response, missing_ok)
            if response.headers.get("retry-after") is None and not _primary(response):
                secondary_waits += 1
            if wait > self._max_wait:
                raise GitHubError(
                    f"GitHub's rate limit for {self.repo} lifts in {int(wait)} s, longer than "
                    f"{int(self._max_wait)} s to wait; run the sync again later"
                )
            self._sleep(wait)
        raise GitHubError(
            f"GitHub kept answering {method} {_path(url)} with a rate limit after {MAX_TRIES} "
            "tries; run the sync again later"
        )

    def _rate_limit_wait(self, response: httpx.Response, secondary_waits: int) -> float | None:
        """Seconds to wait before trying again, or None when the response is not a limit."""
        if response.status_code not in (403, 429):
            return None
        retry_after = response.headers.get("retry-after")
        if retry_after is not None and retry_after.strip().isdigit():
            return float(retry_after.strip())
        if _primary(response):
            reset = response.headers.get("x-ratelimit-reset", "")
            if reset.strip().isdigit():
                return max(float(reset) - self._clock(), 0.0) + 1.0
            return SECONDARY_FALLBACK
        if "secondary rate limit" in _message(response).lower() or response.status_code == 429:
            return SECONDARY_FALLBACK * float(2**secondary_waits)
        return None

    def _checked(
        self, method: str, url: str, response: httpx.Response, missing_ok: bool
    ) -> httpx.Response:
        status = response.status_code
        if status < 300 or (missing_ok and status in (404, 410)):
            return response
        what = f"GitHub answered {method} {_path(url)} with {status}"
        message = _message(response)
        detail = f" {message}" if message else ""
        if status == 401:
            hint = f"check {TOKEN_ENV}"
        elif status == 403:
            hint = (
                f"the token in {TOKEN_ENV} may not write issues of {self.repo} "
                "(a workflow needs `permissions: issues: write`)"
            )
        elif status == 404:
            hint = f"is {self.repo} right, and may the token in {TOKEN_ENV} see it?"
        elif status == 410:
            hint = f"issues are turned off in {self.repo}"
        elif status == 422:
            hint = "GitHub refused the request's content"
        else:
            hint = "try again later"
        raise GitHubError(f"{what}:{detail} ({hint})")


def _primary(response: httpx.Response) -> bool:
    return str(response.headers.get("x-ratelimit-remaining", "")).strip() == "0"


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200]
    if not isinstance(data, dict):
        return ""
    text = str(data.get("message") or "")
    errors = data.get("errors")
    if isinstance(errors, list) and errors:
        parts = []
        for error in errors:
            if isinstance(error, dict):
                parts.append(
                    str(error.get("message") or "")
                    or " ".join(
                        str(error[k])
                        for k in ("field", "code", "value")
                        if error.get(k) is not None
                    )
                )
            else:
                parts.append(str(error))
        text += " (" + "; ".join(p for p in parts if p) + ")"
    return " ".join(text.split())


def _path(url: str) -> str:
    return httpx.URL(url).path

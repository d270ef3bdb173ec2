"""The GitHub client against the fake GitHub API on 127.0.0.1: pages, waits, errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from incidents_cli.integrations.github import GitHub, GitHubError

from .fakes.github_api import FakeGitHub


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub().serve() as served:
        yield served


class Clock:
    """A test clock: sleeping only moves it."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client(fake: FakeGitHub, clock: Clock | None = None, token: str = "test-token") -> GitHub:
    clock = clock or Clock()
    return GitHub("acme/service", token=token, api_url=fake.url, sleep=clock.sleep, clock=clock)


def test_listing_follows_the_link_header_across_pages_and_leaves_out_pull_requests(
    fake: FakeGitHub,
) -> None:
    for n in range(1, 231):
        fake.add_issue(f"issue {n}", labels=("incident-action",) if n % 2 else ())
    pr = fake.add_pull_request("a pull request", labels=("incident-action",))
    with client(fake) as github:
        found = github.issues("incident-action")
    assert len(found) == 115
    assert pr not in {i.number for i in found}
    assert fake.calls() == [
        "GET /repos/acme/service/issues?state=all&labels=incident-action&per_page=100",
        "GET /repositories/4242/issues?state=all&labels=incident-action&per_page=100&page=2",
    ]
    assert {r.authorization for r in fake.requests} == {"Bearer test-token"}


def test_a_secondary_rate_limit_is_waited_out_for_its_retry_after(fake: FakeGitHub) -> None:
    fake.rate_limit_once("secondary", retry_after=7)
    clock = Clock()
    with client(fake, clock) as github:
        assert github.repository().html_url == "https://github.com/acme/service"
    assert clock.slept == [7.0]
    assert fake.calls() == ["GET /repos/acme/service", "GET /repos/acme/service"]
    assert [r.limited for r in fake.requests] == [True, False]


def test_a_primary_rate_limit_is_waited_out_until_its_reset(fake: FakeGitHub) -> None:
    clock = Clock()
    fake.rate_limit_once("primary", reset=int(clock.now) + 30)
    with client(fake, clock) as github:
        github.create_issue("t", "b", ["incident-action"], [])
    assert clock.slept == [31.0]
    assert fake.calls() == ["POST /repos/acme/service/issues"] * 2
    assert len(fake.issues) == 1


def test_a_rate_limit_too_long_to_wait_is_one_clear_error(fake: FakeGitHub) -> None:
    clock = Clock()
    fake.rate_limit_once("primary", reset=int(clock.now) + 3000)
    with client(fake, clock) as github, pytest.raises(GitHubError) as error:
        github.repository()
    assert "rate limit for acme/service lifts in 3001 s" in str(error.value)
    assert clock.slept == []


def test_a_bad_token_is_one_line_naming_the_variable(fake: FakeGitHub) -> None:
    with client(fake, token="wrong") as github, pytest.raises(GitHubError) as error:
        github.repository()
    assert str(error.value) == (
        "GitHub answered GET /repos/acme/service with 401: Bad credentials (check GITHUB_TOKEN)"
    )


def test_a_refused_assignee_says_what_github_refused(fake: FakeGitHub) -> None:
    with client(fake) as github, pytest.raises(GitHubError) as error:
        github.create_issue("t", "b", [], ["nobody"])
    assert "422: Validation Failed (assignees invalid nobody)" in str(error.value)


def test_an_unreachable_api_is_one_line(fake: FakeGitHub) -> None:
    github = GitHub("acme/service", token="t", api_url="http://127.0.0.1:9")
    with github, pytest.raises(GitHubError) as error:
        github.repository()
    assert str(error.value).startswith("cannot reach GitHub's API at http://127.0.0.1:9 (")


def test_the_environment_gives_token_and_api_url(fake: FakeGitHub) -> None:
    with pytest.raises(GitHubError, match="GITHUB_TOKEN is not set"):
        GitHub.from_env("acme/service", {})
    env = {"GITHUB_TOKEN": "test-token", "GITHUB_API_URL": fake.url}
    with GitHub.from_env("acme/service", env) as github:
        assert github.repository().default_branch == "main"
    with pytest.raises(GitHubError, match="write it as OWNER/NAME"):
        GitHub.from_env("acme", env)


def test_labels_are_made_once_and_issues_closed_with_a_reason(fake: FakeGitHub) -> None:
    with client(fake) as github:
        assert github.ensure_label("incident-action", "d93f0b", "Action items") is True
        assert github.ensure_label("incident-action", "d93f0b", "Action items") is False
        fake.assignable.add("alice-gh")
        assert github.can_assign("alice-gh") and not github.can_assign("bob")
        issue = github.create_issue("t", "b", ["incident-action"], ["alice-gh"])
        github.comment(issue.number, "why")
        closed = github.update_issue(issue.number, state="closed", state_reason="not_planned")
        assert (closed.state, closed.state_reason) == ("closed", "not_planned")
        assert closed.closed_at is not None
        assert [c.body for c in github.comments(issue.number)] == ["why"]
        assert github.issue(99) is None
    assert fake.labels["incident-action"]["color"] == "d93f0b"
    assert fake.issues[1]["assignees"][0]["login"] == "alice-gh"
    assert [str(r) for r in fake.writes()] == [
        "POST /repos/acme/service/labels",
        "POST /repos/acme/service/issues",
        "POST /repos/acme/service/issues/1/comments",
        "PATCH /repos/acme/service/issues/1",
    ]
    assert fake.writes()[-1].body == {"state": "closed", "state_reason": "not_planned"}


def test_an_answer_that_is_not_json_is_one_github_error() -> None:
    """A proxy or captive portal answering 200 with a web page: one line, not a crash."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from incidents_cli.integrations.github import GitHub, GitHubError

    class Portal(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"<html>Sign in to the wifi</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = GitHub("acme/status", token="t", api_url=f"http://127.0.0.1:{server.server_port}")
        with pytest.raises(GitHubError, match="not JSON"):
            client.issues("incident-action")
        client.close()
    finally:
        server.shutdown()
        server.server_close()

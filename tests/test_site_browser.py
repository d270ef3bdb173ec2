"""The status site in a real browser: headless Chromium (Debian's package) and axe-core
(from the npm registry, pinned in tests/browser/package-lock.json).

In CI (`CI` set) nothing here is skipped: .ci/run installs both, and a missing one fails
with the command that installs it; on a developer's machine the tests skip, naming it
(tests/external.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import git
import pytest

from .chromium import Chromium, axe_source
from .conftest import ROOT, run_cli

AS_OF = "2026-03-10T12:00:00Z"


def _write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _commit(repo: Path) -> None:
    g = git.Repo(repo)
    g.git.add("-A")
    g.index.commit("records")


def active_incident(number: int, severity: str, component: str, statuses: list[str]) -> str:
    """An open incident with one public update per status, the component at its worst."""
    worst = {
        "critical": "major_outage",
        "high": "partial_outage",
        "medium": "degraded_performance",
        "low": "degraded_performance",
    }[severity]
    updates = "".join(
        f"  - at: 2026-03-10T10:{10 + n:02d}:00Z\n    status: {status}\n"
        f"    message: Update {n} about {component}.\n"
        f"    components: {{{component}: {worst}}}\n"
        for n, status in enumerate(statuses)
    )
    return (
        f"id: INC-{number:04d}\ntitle: Trouble with {component}\nseverity: {severity}\n"
        f"phase: investigating\nsource: monitor\ncomponents: [{component}]\n"
        "detected_at: 2026-03-10T10:00:00Z\nacknowledged_at: 2026-03-10T10:05:00Z\n"
        f"updates:\n{updates}"
    )


MAINTENANCE_NOW = """\
id: MNT-0001
title: Database upgrade
start: 2026-03-10T11:00:00Z
end: 2026-03-10T13:00:00Z
components: [database]
message: Writes may pause.
"""

MAINTENANCE_LATER = MAINTENANCE_NOW.replace("MNT-0001", "MNT-0002").replace(
    "2026-03-10T1", "2026-03-20T1"
)

# One site per banner (overall indicator), each showing other statuses too.
SCENARIOS: dict[str, list[tuple[str, str]]] = {
    "none": [],
    "maintenance": [("maintenance/MNT-0001.yaml", MAINTENANCE_NOW)],
    "minor": [
        ("incidents/INC-0001.yaml", active_incident(1, "low", "web", ["investigating"])),
        ("maintenance/MNT-0002.yaml", MAINTENANCE_LATER),
    ],
    "major": [
        (
            "incidents/INC-0001.yaml",
            active_incident(1, "high", "payments", ["investigating", "identified"]),
        ),
        ("incidents/INC-0002.yaml", active_incident(2, "medium", "web", ["monitoring"])),
        ("maintenance/MNT-0001.yaml", MAINTENANCE_NOW),
    ],
    "critical": [
        (
            "incidents/INC-0001.yaml",
            active_incident(1, "critical", "api", ["investigating", "identified", "monitoring"]),
        ),
        ("incidents/INC-0002.yaml", active_incident(2, "high", "payments", ["identified"])),
        ("incidents/INC-0003.yaml", active_incident(3, "low", "web", ["investigating"])),
        ("maintenance/MNT-0001.yaml", MAINTENANCE_NOW),
    ],
}


def build_scenario(tmp_path: Path, name: str) -> Path:
    repo = tmp_path / f"repo-{name}"
    assert run_cli("init", str(repo)).code == 0
    for rel, text in SCENARIOS[name]:
        _write(repo, rel, text)
    _commit(repo)
    assert run_cli("validate", cwd=repo).code == 0
    out = tmp_path / f"site-{name}"
    result = run_cli("site", "build", "--out", str(out), "--as-of", AS_OF, cwd=repo)
    assert result.code == 0, result.err
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Chromium]:
    with Chromium() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    demo = tmp_path_factory.mktemp("demo") / "demo"
    assert run_cli("demo", str(demo)).code == 0
    return demo / "_site"


def _report(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"  {node['target']}: {node['summary']}")
    return "\n".join(lines)


def axe_violations(browser: Chromium, page_path: Path, *, dark: bool, width: int = 1280) -> str:
    page = browser.open(width, 900, dark=dark)
    try:
        page.goto(page_path.as_uri())
        return _report(page.axe(axe_source()))
    finally:
        page.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_every_page_type_has_no_axe_violations(
    browser: Chromium, demo_site: Path, dark: bool
) -> None:
    pages = ["index.html", "history.html"]
    pages += [p.name for p in sorted(demo_site.glob("history-*.html"))]
    pages += [f"incidents/{p.name}" for p in sorted((demo_site / "incidents").glob("*.html"))]
    found = {name: axe_violations(browser, demo_site / name, dark=dark) for name in pages}
    for name, width in (("index.html", 390), ("incidents/INC-0003.html", 390)):
        found[f"{name} at {width}px"] = axe_violations(
            browser, demo_site / name, dark=dark, width=width
        )
    assert {name: text for name, text in found.items() if text} == {}


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
@pytest.mark.parametrize("indicator", list(SCENARIOS))
def test_every_banner_and_status_colour_has_no_axe_violations(
    browser: Chromium, tmp_path: Path, indicator: str, dark: bool
) -> None:
    site = build_scenario(tmp_path, indicator)
    assert f'class="banner i-{indicator}"' in (site / "index.html").read_text()
    pages = ["index.html"] + [
        f"incidents/{p.name}" for p in sorted((site / "incidents").glob("*.html"))
    ]
    found = {name: axe_violations(browser, site / name, dark=dark) for name in pages}
    assert {name: text for name, text in found.items() if text} == {}


SCREENSHOTS = ROOT / "tests" / "screenshots"
"""Where the screenshot test leaves its pictures (the README names it; git ignores it)."""

SIZES = {"desktop": (1280, 900), "phone": (390, 844)}


def test_screenshots_of_every_page_type_and_layout_facts(
    browser: Chromium, demo_site: Path
) -> None:
    month = sorted(demo_site.glob("history-*.html"))[-1].name
    pages = {"index": "index.html", "incident": "incidents/INC-0003.html", "month": month}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    facts: dict[str, Any] = {}
    for size, (width, height) in SIZES.items():
        for scheme in ("light", "dark"):
            page = browser.open(width, height, dark=scheme == "dark")
            try:
                for name, rel in pages.items():
                    page.goto((demo_site / rel).as_uri())
                    shot = SCREENSHOTS / f"{name}-{size}-{scheme}.png"
                    page.screenshot(shot, full_page=True)
                    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
                    facts[f"{name}-{size}-{scheme}"] = page.evaluate(
                        "({scroll: document.documentElement.scrollWidth,"
                        " width: window.innerWidth, height: window.innerHeight,"
                        " banner: document.querySelector('.banner')"
                        "   ? document.querySelector('.banner').getBoundingClientRect().bottom"
                        "   : null,"
                        " bars: [...document.querySelectorAll('.bars > *')]"
                        "   .filter(b => b.getBoundingClientRect().width > 0).length /"
                        "   Math.max(1, document.querySelectorAll('.bars').length),"
                        " links: [...document.querySelectorAll('.bars a.bar')]"
                        "   .filter(b => b.getBoundingClientRect().width > 0).length})"
                    )
            finally:
                page.close()
    for key, fact in facts.items():
        assert fact["scroll"] <= fact["width"], f"{key}: scrolls sideways {fact}"
        if key.startswith("index"):
            assert 0 < fact["banner"] <= fact["height"], f"{key}: banner below the fold {fact}"
            visible_days = 30 if "-phone-" in key else 90
            assert fact["bars"] == visible_days, key
            assert fact["links"] >= 1, key  # a day with an incident is a link, on a phone too
    assert {p.name for p in SCREENSHOTS.glob("*.png")} >= {
        f"{name}-{size}-{scheme}.png"
        for name in pages
        for size in SIZES
        for scheme in ("light", "dark")
    }


def _press(page: Any, key: str, code: str, key_code: int) -> None:
    for kind in ("keyDown", "keyUp"):
        page.send(
            "Input.dispatchKeyEvent",
            {"type": kind, "key": key, "code": code, "windowsVirtualKeyCode": key_code},
        )


def test_a_day_with_an_incident_is_reached_and_opened_with_the_keyboard(
    browser: Chromium, demo_site: Path
) -> None:
    page = browser.open(390, 844)
    try:
        page.goto((demo_site / "index.html").as_uri())
        for _ in range(80):  # Tab through the page until a day's bar has the focus
            _press(page, "Tab", "Tab", 9)
            if page.evaluate("document.activeElement.classList.contains('bar')"):
                break
        else:
            raise AssertionError("no bar could be reached with Tab")
        label = page.evaluate("document.activeElement.textContent")
        assert label.count(": ") == 2, label  # "<day>: <status>: <titles>", read aloud
        _press(page, "Enter", "Enter", 13)
        browser.wait_for("Page.loadEventFired", page.session)
        url = page.evaluate("location.href")
        assert "/history-" in url and "#day-" in url, url
        anchor = url.rsplit("#", 1)[1]
        assert page.evaluate(f"!!document.getElementById('{anchor}')")
    finally:
        page.close()


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_german_site_has_no_axe_violations(
    browser: Chromium, tmp_path: Path, dark: bool
) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    settings = demo / "incidents.yaml"
    settings.write_text(settings.read_text().replace("language: en", "language: de"))
    out = tmp_path / "site"
    assert run_cli("site", "build", "--out", str(out), cwd=demo).code == 0
    pages = ["index.html", "history.html", "incidents/INC-0003.html"]
    pages += [p.name for p in out.glob("history-*.html")]
    found = {name: axe_violations(browser, out / name, dark=dark) for name in pages}
    assert {name: text for name, text in found.items() if text} == {}

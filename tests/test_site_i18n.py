"""The status site's message catalogue: every fixed string is translated, and the compiled
catalogue the site reads is the one the translation says."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from incidents_cli.site.i18n import LANGUAGES, SOURCE_LANGUAGE

from .conftest import ROOT, run_cli

# What locales/babel.cfg says, for Babel's API (the README gives the pybabel commands).
METHODS = [
    ("incidents_cli/site/**.py", "python"),
    ("templates/site/**.html", "jinja2"),
]
OPTIONS = {"templates/site/**.html": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "N_": None,
    "words": None,
    "plural": (1, 2),
}
TRANSLATED = [language for language in LANGUAGES if language != SOURCE_LANGUAGE]


def extracted() -> dict[str, tuple[str, ...]]:
    """Every message of the sources: msgid to (msgid, plural) or (msgid,)."""
    found: dict[str, tuple[str, ...]] = {}
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT), METHODS, OPTIONS, KEYWORDS, comment_tags=(), strip_comment_tags=True
    ):
        ids = (message,) if isinstance(message, str) else tuple(m for m in message if m)
        found[ids[0]] = ids
    return found


def catalogue(language: str):  # type: ignore[no-untyped-def]
    path = ROOT / "locales" / language / "LC_MESSAGES" / "site.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def test_the_sources_have_messages_to_translate() -> None:
    messages = extracted()
    assert "Past incidents" in messages  # a template
    assert "Partial outage" in messages  # a label table in Python
    assert messages["%(count)d incident"] == ("%(count)d incident", "%(count)d incidents")
    assert len(messages) > 80


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_string_is_left_untranslated(language: str) -> None:
    messages = extracted()
    po = catalogue(language)
    entries = {m.id if isinstance(m.id, str) else m.id[0]: m for m in po if m.id}
    assert sorted(set(messages) - set(entries)) == [], "run pybabel extract and update"
    assert sorted(set(entries) - set(messages)) == [], "obsolete entries: pybabel update"
    untranslated = []
    for key, message in entries.items():
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if message.fuzzy or not all(strings):
            untranslated.append(key)
        if isinstance(message.id, tuple):
            assert tuple(message.id) == messages[key], key
    assert untranslated == []
    problems = [(m.id, [str(e) for e in errors]) for m, errors in po.check()]
    assert problems == []  # placeholders: the same names in msgid and msgstr


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_the_translation(language: str) -> None:
    compiled = io.BytesIO()
    write_mo(compiled, catalogue(language))
    mo = ROOT / "locales" / language / "LC_MESSAGES" / "site.mo"
    assert mo.read_bytes() == compiled.getvalue(), "run pybabel compile -d locales -D site"


FIXED_TEXT = [
    "Components",
    "Past incidents",
    "No incidents reported.",
    "Subscribe",
    "Active incidents",
    "Scheduled maintenance",
    "Times are in",
    "incidents in 90 days",
    "Partial System Outage",
]


def test_a_german_site_shows_german_fixed_text(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    assert run_cli("demo", str(demo)).code == 0
    settings = demo / "incidents.yaml"
    settings.write_text(settings.read_text().replace("language: en", "language: de"))
    out = tmp_path / "site"
    result = run_cli("site", "build", "--out", str(out), cwd=demo)
    assert result.code == 0, result.err
    index = (out / "index.html").read_text()
    assert '<html lang="de">' in index
    for german in (
        "Komponenten",
        "Vergangene Vorfälle",
        "Keine Vorfälle gemeldet.",
        "Abonnieren",
        "Teilweiser Systemausfall",
        "Vorfälle in 90 Tagen",
    ):
        assert german in index
    pages = [index] + [p.read_text() for p in out.glob("history*.html")]
    pages += [p.read_text() for p in (out / "incidents").glob("*.html")]
    for page in pages:
        for english in FIXED_TEXT:
            assert english not in page, english
    ics = (out / "maintenance.ics").read_text()
    assert "Geplante Wartung" in ics

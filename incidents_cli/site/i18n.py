"""The status site's fixed text in the team's language (settings ``language``).

One message catalogue (gettext) for the templates and for the labels made in Python:
``locales/<language>/LC_MESSAGES/site.po`` is what people translate, ``site.mo`` what is read
here (the standard library's gettext; Babel compiles it, and a test checks that it matches
the .po and that no string is left untranslated). English is the source language.
Labels in tables are marked with ``N_`` so extraction finds them; they are translated where
they are shown.
"""

from __future__ import annotations

import gettext
import hashlib
from functools import cache

from incidents_cli.store.resources import data_dir

SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "de")
DOMAIN = "site"


def N_(text: str) -> str:  # the name extraction tools look for
    """Marks ``text`` for the catalogue; translated later, where it is shown."""
    return text


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The catalogue of ``language``; the source text for English or a language without one
    (validation allows only LANGUAGES)."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return gettext.NullTranslations()
    path = data_dir("locales") / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with path.open("rb") as handle:
        return gettext.GNUTranslations(handle)


@cache
def catalogue_key(language: str) -> str:
    """A hash of the catalogue pages are rendered with (a page reused from an earlier build
    must have been rendered with the same one)."""
    if language == SOURCE_LANGUAGE or language not in LANGUAGES:
        return SOURCE_LANGUAGE
    path = data_dir("locales") / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
    return hashlib.sha256(path.read_bytes()).hexdigest()

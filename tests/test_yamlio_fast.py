"""The fast path of bulk reading (yaml-rs, where a scan shows YAML 1.1 and 1.2 agree) gives
exactly the records of the PyYAML path: the same data, types, key order, problems and errors.

The comparison and the hypothesis strategies live in benchmarks/yaml_differential.py, which
runs the same check on whole repositories of any size.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings

from incidents_cli.core.errors import InputFileError
from incidents_cli.store import yamlio
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


differential = _load("yaml_differential")

needs_yaml_rs = pytest.mark.skipif(
    not yamlio.fast_path_available(), reason="yaml-rs has no wheel for this platform"
)

EXAMPLES = sorted(
    [*(ROOT / "tests" / "examples").rglob("*.yaml"), *(ROOT / "runbooks").glob("*.md")]
)


def assert_same_everywhere(path: Path) -> tuple[int, int]:
    """Every record file under ``path`` reads the same both ways; (files, fast ones)."""
    tally = differential.Tally()
    for text, where, offset in differential.record_texts(path):
        tally.check(text, where, offset)
    assert tally.differences == []
    return tally.texts, tally.fast


@needs_yaml_rs
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_example_reads_the_same_on_the_fast_path(path: Path) -> None:
    assert assert_same_everywhere(path)[0] == 1


@needs_yaml_rs
def test_a_generated_repository_reads_the_same_and_almost_all_of_it_fast(tmp_path: Path) -> None:
    generate = _load("generate")
    generate.generate(tmp_path / "repo", 120, seed=3, open_count=5)
    texts, fast = assert_same_everywhere(tmp_path / "repo")
    assert texts > 120
    assert fast >= texts - 1  # all but the settings (durations like `5m` look like numbers)


@needs_yaml_rs
def test_the_demo_repository_reads_the_same(tmp_path: Path) -> None:
    result = run_cli("demo", str(tmp_path / "demo"))
    assert result.code == 0, result.err
    texts, _ = assert_same_everywhere(tmp_path / "demo")
    assert texts > 3


@needs_yaml_rs
@settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(differential.yaml_documents() | differential.raw_texts())
def test_yaml_made_by_hypothesis_reads_the_same(text: str) -> None:
    tally = differential.Tally()
    tally.check(text, "hypothesis")
    assert tally.differences == []


# Where YAML 1.1 (PyYAML, and so our records) and YAML 1.2 (yaml-rs) read a text
# differently: each must be caught by the scan, not by luck.
DIFFERENT = [
    "a: yes\n",
    "a: Off\n",
    "a: 012\n",
    "a: 0o12\n",
    "a: 1_000\n",
    "a: _5\n",
    "a: 1:30\n",
    "a: 1e3\n",
    "a: +.5\n",
    "a: 0b101\n",
    "1: x\n",
    "true: x\n",
    "~: x\n",
    "._5: x\n",
    "a: =\n",
    "<<: {b: 1}\n",
    "a: [1, yes]\n",
    "a: {b: on}\n",
    "\ufeffa: 1\n",
    "a: x\u2028 b\n",
    "a: x\x85b: 1\n",
    "a: 1\r\nb: 'x\r\n y'\r\n",
    "a:\t1\n",
    "a: >+\n",
    "a: &x 1\nb: *x\n",
    "a: !foo 1\n",
    "- 1\n---\n- 2\n",
    "%YAML 1.2\n---\na: 012\n",
    'a: "\\x41"\n',
    "? a\n: 1\n",
    '"a":012\n',
    "x: {'a':012}\n",
    ": x\n",
    "a: \x7f\n",
    "a: " + "1" * 5000 + "\n",
    "".join(f"{' ' * i}k:\n" for i in range(40)) + " " * 40 + "k: 1\n",
]


@needs_yaml_rs
@pytest.mark.parametrize("text", DIFFERENT)
def test_spellings_that_yaml_1_2_reads_differently_take_the_pyyaml_path(text: str) -> None:
    assert not yamlio.fast_reads(text)
    tally = differential.Tally()
    tally.check(text, "example")
    assert tally.differences == []


SAME = [
    "id: INC-0001\ntitle: 5xx errors in web\nseverity: high\n",
    "detected_at: 2026-03-01T10:00:00Z\nday: 2026-03-01\nat: '2026-03-01T10:00:00Z'\n",
    "public: true\ndraft: False\nowner: null\nnote: ~\ncount: 12\nratio: 0.5\ndelta: -3\n",
    "components: [api, web]\nregions: []\nextra: {}\nstatus: {api: major_outage}\n",
    "updates:\n  - at: '2026-03-01T10:00:00Z'\n    message: 'Investigating: errors.'\n",
    "text: it's a plain 12 words line # with a comment\nempty:\n",
    "message: 'one\n\n  two'\nlong: a plain\n  scalar over lines\n",
    "# yaml-language-server: $schema=../schema.json\nid: INC-0002\n",
    "title: Ünïcödé ☃ 𝄞\n",
]


@needs_yaml_rs
@pytest.mark.parametrize("text", SAME)
def test_what_records_are_made_of_takes_the_fast_path_with_the_same_data(text: str) -> None:
    assert yamlio.fast_reads(text)
    doc = yamlio.parse_unplaced(text, "f.yaml")
    assert differential.identical(doc.data, yamlio.parse(text, "f.yaml").data)


@needs_yaml_rs
def test_duplicate_keys_are_still_reported_with_both_lines() -> None:
    text = "a: 1\nb:\n  c: 2\n  c: 3\n"
    assert yamlio.fast_reads(text)  # yaml-rs refuses duplicates; parse reports them
    doc = yamlio.parse_unplaced(text, "f.yaml")
    assert [(p.line, p.field) for p in doc.problems] == [(4, "b.c")]


@needs_yaml_rs
def test_a_syntax_error_has_the_same_message_and_place() -> None:
    with pytest.raises(InputFileError) as caught:
        yamlio.parse_unplaced("a: 1\n  b: 2\n", "f.yaml", line_offset=1)
    assert (caught.value.line, caught.value.column) == (3, 4)
    assert "YAML syntax error" in caught.value.message


def test_without_yaml_rs_parse_unplaced_is_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlio, "_fast_path", lambda: None)
    text = "a: 1\nb: [x, y]\n"
    assert not yamlio.fast_reads(text)
    doc = yamlio.parse_unplaced(text, "f.yaml")
    assert doc.data == {"a": 1, "b": ["x", "y"]}
    assert doc.places == yamlio.parse(text, "f.yaml").places


def test_a_number_of_thousands_of_digits_is_one_clear_error() -> None:
    with pytest.raises(InputFileError, match="too many digits") as caught:
        yamlio.parse("a: 1\nb: " + "1" * 5000 + "\n", "f.yaml")
    assert (caught.value.line, caught.value.column) == (2, 4)


def test_a_control_character_beside_an_asterisk_is_one_clear_error() -> None:
    with pytest.raises(InputFileError, match="control characters are not allowed"):
        yamlio.parse("a: \x7f**bold**\n", "f.yaml")


@needs_yaml_rs
def test_a_record_the_fast_path_reads_needs_no_pyyaml_and_one_it_refuses_imports_it() -> None:
    """PyYAML is imported where ``parse`` first needs it, not with yamlio: a rebuild whose
    changed record yaml-rs reads never pays for its import (a dozen patterns compiled)."""
    import subprocess

    script = (
        "import sys\n"
        "from incidents_cli.store import yamlio\n"
        "doc = yamlio.parse_unplaced('id: INC-0001\\ntitle: Plain\\n', 'i.yaml')\n"
        "assert doc.data == {'id': 'INC-0001', 'title': 'Plain'}, doc.data\n"
        "assert 'yaml' not in sys.modules\n"
        "doc = yamlio.parse_unplaced('id: INC-0001\\nflag: yes\\n', 'i.yaml')\n"
        "assert doc.data == {'id': 'INC-0001', 'flag': True}, doc.data\n"
        "assert 'yaml' in sys.modules\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr

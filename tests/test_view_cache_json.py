"""The view cache read by orjson (site/inputs.py): the same values as json.loads gives,
or a miss, for what orjson reads otherwise (integers outside 64 bits) or refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incidents_cli.site.inputs import _read_views, view_data


def _view(latest: object, number: object, message: str = "Looking") -> str:
    update = [number, "2026-01-01T00:00:00+00:00", "investigating", message, None, None]
    return json.dumps({"latest": ["2026-01-01T00:00:00+00:00", latest], "updates": [update]})


@pytest.mark.parametrize(
    "packed",
    [
        _view(1, 1),
        _view(10**25, 1),  # orjson would make these floats
        _view(2, -(10**20)),
        _view(1, 1, "\ud800"),  # a lone surrogate: orjson refuses it
        '{"latest": ["x", NaN], "updates": []}',
    ],
)
def test_a_view_decodes_as_json_loads_decodes_it(packed: str) -> None:
    assert repr(view_data(packed)) == repr(json.loads(packed))


@pytest.mark.parametrize(
    "text",
    [
        '{"INC-0001.yaml:abc:-": "{}", "k": "v"}',
        '{"k": 123456789012345678901234567890, "j": "\\ud800"}',
        '{"k": NaN}',
        "[1]",
        "{not json",
    ],
)
def test_a_months_file_reads_as_read_cache_mapping_reads_it(tmp_path: Path, text: str) -> None:
    from incidents_cli.store.cache_files import read_cache_mapping

    path = tmp_path / "month.json"
    path.write_text(text, encoding="utf-8")
    views, expected = _read_views(path), read_cache_mapping(path)
    assert {k: v for k, v in views.items() if isinstance(v, str)} == {
        k: v for k, v in expected.items() if isinstance(v, str)
    }  # (a value that is not a string is a miss to every caller)

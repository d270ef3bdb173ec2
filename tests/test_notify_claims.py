"""The expiry read from a notify claim on the remote (store/claims.py)."""

from __future__ import annotations

import time

import pytest

from incidents_cli.store import claims


@pytest.mark.parametrize(
    "written", [float("nan"), float("inf"), 1e308, 10**400, True, "soon", None, [1]]
)
def test_a_claim_whose_expiry_is_not_a_real_time_to_come_is_already_expired(
    written: object,
) -> None:
    """Else one damaged or foreign claim would keep every notify run off a channel."""
    assert claims._expiry(written) == 0.0


def test_a_claim_made_for_the_usual_time_keeps_its_expiry() -> None:
    soon = time.time() + claims.CLAIM_SECONDS
    assert claims._expiry(soon) == soon
    assert claims._expiry(int(soon)) == int(soon)

"""Every preset's numbers show its claim: a claim of the course cannot silently stop holding."""

import json

import pytest

from sandbox.presets import BY_KEY, PRESETS

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("key", [preset.key for preset in PRESETS])
def test_it_demonstrates_the_claim_of(key, run_in_sandbox):
    preset = BY_KEY[key]
    result, _ = run_in_sandbox(spec=preset.spec)
    baseline = run_in_sandbox(spec=preset.baseline)[0] if preset.baseline else None
    assert result["status"] == "ok", result["error"]
    assert baseline is None or baseline["status"] == "ok"
    assert preset.holds(result, baseline), preset.measure(result, baseline)


def test_the_criterion_can_fail(run_in_sandbox):
    """The ReLU preset's criterion, applied to the sigmoid run it is compared with, does not hold."""
    preset = BY_KEY["relu-he-alive"]
    sigmoid, _ = run_in_sandbox(spec=preset.baseline)
    assert not preset.holds(sigmoid, sigmoid)


def test_it_lists_the_presets_with_their_claims(sandbox_cli):
    status, _, output = sandbox_cli("presets")
    listed = json.loads(output)
    assert status == 0
    assert [entry["key"] for entry in listed] == [preset.key for preset in PRESETS]
    for entry in listed:
        assert entry["claim"]["de"] and entry["claim"]["en"]
        assert entry["criterion"]["de"] and entry["criterion"]["en"]
        assert entry["spec"]["version"] == 1
        assert all(1 <= fact <= 19 for fact in entry["facts"])


def test_the_presets_cover_the_testable_claims_of_the_course():
    covered = {fact for preset in PRESETS for fact in preset.facts}
    # deep nets, sigmoid/tanh, ReLU, saturation, initialisation, depth, loss, ReLU again,
    # batch norm, careful init, residual connections, sequence models
    assert {1, 3, 4, 6, 7, 8, 9, 14, 15, 16, 17, 19} <= covered

import json
import subprocess
import sys

import pytest

from sandbox.protocol import ProtocolError, dump_line, empty_result, finite_or_none, parse_line, validate_event
from tests.sandbox.conftest import ROOT


def child_result(**changes):
    result = {
        "type": "result",
        "status": "ok",
        "device": "cpu",
        "layers": ["layer1", "output"],
        "steps": [0, 1],
        "grad_norm": [[1e-9, 0.5], [2e-9, None]],
        "loss": [0.69, 0.68],
        "seq_grad_norm": None,
        "compute_s": 0.1,
        "error": None,
        "line": None,
    }
    return {**result, **changes}


def test_it_accepts_a_well_formed_result_from_a_child():
    assert validate_event(child_result(), from_child=True)["status"] == "ok"


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_it_rejects_the_non_finite_tokens_of_javascript(token):
    with pytest.raises(ProtocolError, match=f"{token} is not allowed"):
        parse_line(f'{{"type": "progress", "loss": {token}}}')


@pytest.mark.parametrize("line", ["[1, 2]", "not json", '"a string"', "{" * 100_000])
def test_it_rejects_lines_that_are_not_one_json_object(line):
    with pytest.raises(ProtocolError):
        parse_line(line)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "timeout"}, "status"),  # only the supervisor decides a timeout
        ({"status": "cancelled"}, "status"),
        ({"device": "tpu"}, "device"),
        ({"grad_norm": [[1e-9, 0.5]]}, "grad_norm"),
        ({"grad_norm": [[1e-9], [1e-9]]}, "grad_norm[0]"),
        ({"grad_norm": [[1e-9, -1.0], [1e-9, 0.1]]}, "grad_norm[0][1]"),
        ({"grad_norm": [[1e-9, "big"], [1e-9, 0.1]]}, "grad_norm[0][1]"),
        ({"grad_norm": [[1e-9, True], [1e-9, 0.1]]}, "grad_norm[0][1]"),
        ({"loss": [0.69]}, "loss"),
        ({"steps": [1, 1]}, "steps[1]"),
        ({"steps": [0, -1]}, "steps[1]"),
        ({"layers": ["x" * 81, "output"]}, "layers[0]"),
        ({"seq_grad_norm": [[1.0]]}, "seq_grad_norm"),
        ({"compute_s": -1}, "compute_s"),
        ({"error": "x" * 3000}, "error"),
        ({"error": "fine, really"}, "error"),  # an ok result carries no error
        ({"line": 0}, "line"),
        ({"wall_s": 0.1}, "wall_s"),  # the supervisor measures wall time, not the child
        ({"extra": 1}, "extra"),
    ],
)
def test_it_names_the_field_of_a_forged_result(changes, field):
    with pytest.raises(ProtocolError) as raised:
        validate_event(child_result(**changes), from_child=True)
    assert str(raised.value).startswith(f"{field}: ")


def test_a_clipped_result_carries_the_norm_before_and_after_the_clip_of_each_step():
    clipped = child_result(grad_norm_total=[25.0, None], grad_norm_clipped=[1.0, None])
    assert validate_event(clipped, from_child=True) == clipped


def test_a_result_without_clipping_numbers_is_still_valid():
    """A result of an older service, which knew no clipping, is read as before."""
    assert "grad_norm_total" not in child_result()
    assert validate_event(child_result(), from_child=True)["status"] == "ok"
    assert validate_event(child_result(grad_norm_total=None, grad_norm_clipped=None), from_child=True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"grad_norm_total": [25.0, 30.0]}, "grad_norm_total"),  # the clipped norm missing
        ({"grad_norm_total": [25.0, 30.0], "grad_norm_clipped": None}, "grad_norm_total"),
        ({"grad_norm_total": [25.0], "grad_norm_clipped": [1.0]}, "grad_norm_clipped"),
        ({"grad_norm_total": [25.0, 30.0], "grad_norm_clipped": [1.0, -1.0]}, "grad_norm_clipped[1]"),
        ({"grad_norm_total": [25.0, "x"], "grad_norm_clipped": [1.0, 1.0]}, "grad_norm_total[1]"),
        ({"grad_norm_total": 25.0, "grad_norm_clipped": 1.0}, "grad_norm_clipped"),
    ],
)
def test_it_names_the_field_of_forged_clipping_numbers(changes, field):
    with pytest.raises(ProtocolError) as raised:
        validate_event(child_result(**changes), from_child=True)
    assert str(raised.value).startswith(f"{field}: ")


def test_a_clipped_step_sends_both_norms_or_neither():
    step = {"type": "progress", "step": 3, "steps": 50, "loss": 0.7, "grad_norm": [0.1, None]}
    assert validate_event({**step, "grad_norm_total": 9.0, "grad_norm_clipped": 1.0}, from_child=True)
    with pytest.raises(ProtocolError, match="grad_norm_clipped: missing"):
        validate_event({**step, "grad_norm_total": 9.0}, from_child=True)
    with pytest.raises(ProtocolError, match="grad_norm_clipped: must be at least 0"):
        validate_event({**step, "grad_norm_total": 9.0, "grad_norm_clipped": -1.0}, from_child=True)
    record = {"step": 3, "loss": 0.7, "grad_norm": [0.1, None], "grad_norm_total": 9.0, "grad_norm_clipped": 1.0}
    batch = {"type": "progress", "steps": 50, "recorded": [record]}
    assert validate_event(batch) == batch
    del record["grad_norm_total"]
    with pytest.raises(ProtocolError, match=r"recorded\[0\].grad_norm_total: missing"):
        validate_event(batch)


def test_it_requires_every_field_of_a_result():
    event = child_result()
    del event["loss"]
    with pytest.raises(ProtocolError, match="loss: missing"):
        validate_event(event, from_child=True)


def test_it_checks_progress_events_from_the_child():
    good = {"type": "progress", "step": 3, "steps": 50, "loss": 0.7, "grad_norm": [0.1, None], "layers": ["a", "b"]}
    assert validate_event(good, from_child=True) == good
    with pytest.raises(ProtocolError, match="layers: must name each entry"):
        validate_event({**good, "layers": ["a"]}, from_child=True)
    with pytest.raises(ProtocolError, match="type: must be progress or result"):
        validate_event({**good, "type": "log"}, from_child=True)


def test_it_checks_progress_batches_from_the_supervisor():
    record = {"step": 3, "loss": 0.7, "grad_norm": [0.1, None]}
    good = {"type": "progress", "steps": 50, "layers": ["a", "b"], "recorded": [record]}
    assert validate_event(good) == good
    with pytest.raises(ProtocolError, match=r"recorded\[0\].step: must be an integer"):
        validate_event({**good, "recorded": [{**record, "step": -1}]})
    with pytest.raises(ProtocolError, match="recorded: must be a list of 1 to 10000 steps"):
        validate_event({**good, "recorded": [record] * 10_001})
    with pytest.raises(ProtocolError, match="step: unknown field"):
        validate_event({**good, "step": 3})  # a single step is the child's shape, not the supervisor's


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"step": 10**400}, "an integer of 401 characters is too large"),  # once an OverflowError
        ({"step": 2**31}, "step: must be an integer from 0 to 2147483647"),
        ({"grad_norm": [-(10**19), 1]}, "an integer of 21 characters is too large"),
        ({"layers": ["a\x00", "b"]}, r"layers\[0\]: must not hold a NUL character"),
        ({"layers": ["\ud800", "b"]}, r"layers\[0\]: must not hold a lone surrogate"),
    ],
)
def test_it_refuses_what_storage_or_arithmetic_cannot_take(changes, message):
    event = {"type": "progress", "step": 3, "steps": 50, "loss": 0.7, "grad_norm": [0.1, None], "layers": ["a", "b"]}
    line = json.dumps({**event, **changes})
    with pytest.raises(ProtocolError, match=message):
        validate_event(parse_line(line), from_child=True)


def test_it_sends_numbers_that_are_not_finite_as_null():
    assert finite_or_none(float("nan")) is None
    assert finite_or_none(float("inf")) is None
    assert finite_or_none(1.23456789e-20) == 1.23457e-20
    assert dump_line({"x": finite_or_none(float("-inf"))}) == b'{"x":null}\n'


def test_the_result_of_a_run_without_numbers_is_valid():
    assert validate_event(empty_result("timeout", "the run took longer than 3 s"))["status"] == "timeout"


def test_the_plain_python_parts_import_without_torch():
    script = (
        "import sys; import sandbox.client, sandbox.spec, sandbox.protocol, sandbox.presets, sandbox.settings;"
        "print('torch' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    "answer",
    [
        {"type": "result", "missing": []},
        {"type": "pong"},
        {"type": "pong", "missing": "landlock"},
        {"type": "pong", "missing": [{"layer": "landlock"}]},
        {"type": "pong", "missing": [{"layer": 1, "why": "x"}]},
    ],
)
def test_a_pong_that_is_not_one_is_refused(answer):
    from sandbox import client
    from sandbox.protocol import ProtocolError

    with pytest.raises(ProtocolError):
        client._validate_pong(answer)

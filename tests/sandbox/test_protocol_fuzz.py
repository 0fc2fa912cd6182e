"""Whatever a run sends, the validators raise ProtocolError and nothing else (Hypothesis).

Once, a progress event with a 400-digit integer made `math.isfinite` raise OverflowError,
which crashed the supervisor and left the run without limits. These properties hold for
any value and any bytes: the validators, and the supervisor's reader of the event channel
(`runner._Watch`), which must turn every line into an event or a verdict, never an
exception.
"""

import contextlib
import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.isolation import Limits
from sandbox.protocol import MAX_RECORDED_STEPS, ProtocolError, parse_line, validate_event
from sandbox.runner import _Watch

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=10**300, max_value=10**500),  # beyond a float: the OverflowError once met
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, -1, 2**31, 2**63, 10**19, 1e308, -0.0, 10**400]),
)
texts = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=20)
json_values = st.recursive(
    st.none() | st.booleans() | numbers | texts,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(texts, children, max_size=5),
    max_leaves=30,
)


VALID = {
    "child progress": {
        "type": "progress",
        "step": 3,
        "steps": 50,
        "loss": 0.7,
        "grad_norm": [0.1, None],
        "layers": ["a", "b"],
    },
    "batch": {
        "type": "progress",
        "steps": 50,
        "layers": ["a"],
        "recorded": [{"step": 1, "loss": 0.5, "grad_norm": [0.1]}],
    },
    "result": {
        "type": "result",
        "status": "ok",
        "device": "cpu",
        "layers": ["a", "b"],
        "steps": [0, 1],
        "grad_norm": [[1e-9, 0.5], [2e-9, None]],
        "loss": [0.69, 0.68],
        "seq_grad_norm": [[0.1], [0.2]],
        "compute_s": 0.1,
        "wall_s": 0.2,
        "error": None,
        "line": None,
        "log": "",
        "recorded_steps": None,
        "sandbox_error": None,
    },
}


def _paths(value, prefix=()):
    """Every place in a nested value where another value could go."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _replace(value, path, new):
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replace(copy[path[0]], path[1:], new)
    return copy


@st.composite
def mutated_events(draw):
    """A valid event with one to three places changed: reaches every check, not only the first."""
    event = VALID[draw(st.sampled_from(sorted(VALID)))]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from([path for path in _paths(event) if path]))
        event = _replace(event, path, draw(json_values))
    return event


any_event = st.one_of(json_values, mutated_events())


@FUZZ
@given(event=any_event, from_child=st.booleans())
def test_the_validators_raise_only_their_own_error(event, from_child):
    with contextlib.suppress(ProtocolError):
        validate_event(event, from_child=from_child)


@FUZZ
@given(event=any_event)
def test_a_line_that_passes_is_one_storage_can_take(event):
    """What passes holds no NUL, no lone surrogate, no integer beyond 64 bits, nothing non-finite."""
    try:
        line = json.dumps(event)
        accepted = validate_event(parse_line(line), from_child=True)
    except (ProtocolError, ValueError):  # ValueError: json.dumps of a lone surrogate cannot fail; a NaN can
        return

    def storable(value):
        if isinstance(value, str):
            return "\x00" not in value and isinstance(value.encode("utf-8"), bytes)
        if isinstance(value, bool) or value is None:
            return True
        if isinstance(value, int):
            return abs(value) < 2**63
        if isinstance(value, float):
            return math.isfinite(value)
        if isinstance(value, list):
            return all(storable(item) for item in value)
        return all(storable(key) and storable(item) for key, item in value.items())

    assert storable(accepted)


@FUZZ
@given(line=st.binary(max_size=300) | any_event.map(lambda event: json.dumps(event).encode(errors="surrogatepass")))
def test_the_parser_raises_only_its_own_error_for_any_bytes(line):
    with contextlib.suppress(ProtocolError):
        validate_event(parse_line(line), from_child=True)


@FUZZ
@given(
    chunks=st.lists(
        st.binary(max_size=200) | st.sampled_from([b"\n", b'{"type":"progress","step":1e999}\n']), max_size=20
    )
)
def test_the_supervisors_reader_turns_any_bytes_into_events_or_a_verdict(chunks):
    forwarded = []
    watch = _Watch(Limits(output_bytes=64 * 1024), forwarded.append)
    for chunk in chunks:
        watch.events(chunk)  # must not raise, whatever the chunk
        watch.printed(chunk)
        watch.flush(now=float(len(forwarded) + 1))
    watch.flush(now=1e9, last=True)
    for batch in forwarded:
        validate_event(batch)  # what it forwards, the client accepts
    assert watch.verdict is None or watch.verdict[0] in ("error", "killed")
    assert "\x00" not in watch.log_text()


def test_the_supervisor_forwards_every_step_of_an_ordinary_run_and_thins_a_flood():
    """Up to MAX_RECORDED_STEPS every step arrives; 15,000 arrive as a bounded, thinned series."""
    for recorded, expected in ((5_000, 5_000), (15_000, None)):
        forwarded = []
        watch = _Watch(Limits(output_bytes=1 << 30), forwarded.append)
        for step in range(recorded):
            line = json.dumps({"type": "progress", "step": step, "steps": recorded, "loss": 0.5, "grad_norm": [1.0]})
            watch.events(line.encode() + b"\n")
            watch.flush(now=step / 1000)  # a thousand steps a second
        watch.flush(now=1e9, last=True)
        steps = [record["step"] for batch in forwarded for record in batch["recorded"]]
        assert steps == sorted(set(steps))
        assert steps[-1] == recorded - 1  # the last step always arrives
        # At most RATE_HZ batches a second: recorded/1000 seconds of run.
        assert len(forwarded) <= recorded / 1000 * 20 + 2
        if expected is not None:
            assert steps == list(range(recorded))
        else:
            assert MAX_RECORDED_STEPS // 2 < len(steps) <= MAX_RECORDED_STEPS + 1

"""Spec runs and learner code through the service: results, progress, reproducibility."""

import os
import subprocess
from pathlib import Path

import pytest

from sandbox.presets import BY_KEY
from tests.sandbox.conftest import ROOT, STANDARD

pytestmark = pytest.mark.slow

TEMPLATES = ROOT / "sandbox" / "templates"


def test_it_records_each_layer_input_side_first_at_each_step(run_in_sandbox):
    result, _ = run_in_sandbox(spec=STANDARD)
    assert result["status"] == "ok"
    assert result["layers"] == [f"layer{i}" for i in range(1, 21)] + ["output"]
    assert result["steps"] == list(range(50))
    assert len(result["grad_norm"]) == 50
    assert all(len(row) == 21 for row in result["grad_norm"])
    assert len(result["loss"]) == 50
    first, last = result["grad_norm"][0][0], result["grad_norm"][0][19]
    assert first < last  # sigmoid: the gradient shrinks towards the input
    assert 0 < result["compute_s"] < result["wall_s"]
    assert result["seq_grad_norm"] is None
    assert result["log"] == ""


def test_it_sends_every_recorded_step_in_batches_as_the_run_goes(run_in_sandbox):
    result, events = run_in_sandbox(spec=STANDARD)
    assert events, "no progress event"
    assert events[0]["layers"] == result["layers"]
    recorded = [record for event in events for record in event["recorded"]]
    assert [record["step"] for record in recorded] == result["steps"] == list(range(50))
    assert [record["grad_norm"] for record in recorded] == result["grad_norm"]
    assert result["recorded_steps"] is None  # nothing thinned


def test_the_same_seed_gives_the_same_numbers(run_in_sandbox):
    spec = {**STANDARD, "seed": 11}
    first, _ = run_in_sandbox(spec=spec)
    second, _ = run_in_sandbox(spec=spec)
    other, _ = run_in_sandbox(spec={**STANDARD, "seed": 12})
    assert first["grad_norm"] == second["grad_norm"]
    assert first["loss"] == second["loss"]
    assert other["loss"] != first["loss"]


def test_it_records_every_nth_step(run_in_sandbox):
    result, _ = run_in_sandbox(spec={**STANDARD, "train": {"steps": 30}, "record_every": 10})
    assert result["steps"] == [0, 10, 20, 29]


@pytest.mark.parametrize("arch", ["rnn", "lstm", "gru"])
def test_recurrent_nets_record_the_gradient_along_the_sequence(arch, run_in_sandbox):
    spec = {"model": {"arch": arch, "depth": 2, "width": 16}, "data": {"seq_len": 12}, "train": {"steps": 6}}
    result, _ = run_in_sandbox(spec=spec)
    assert result["status"] == "ok", result["error"]
    assert result["layers"] == ["layer1", "layer2", "output"]
    assert len(result["seq_grad_norm"]) == 6
    assert all(len(row) == 12 for row in result["seq_grad_norm"])


@pytest.mark.parametrize(
    "spec",
    [
        {"data": {"task": "spirals"}, "model": {"activation": "gelu", "norm": "layer"}},
        {"data": {"task": "parity", "seq_len": 8}, "model": {"activation": "leaky_relu", "init": "he"}},
        {"model": {"residual": True, "norm": "batch"}, "train": {"optimizer": "adam", "lr": 0.01}},
        {"model": {"arch": "rnn", "activation": "relu", "norm": "layer"}, "data": {"task": "parity"}},
    ],
)
def test_every_kind_of_spec_runs(spec, run_in_sandbox):
    result, _ = run_in_sandbox(spec={**spec, "train": {**spec.get("train", {}), "steps": 5}})
    assert result["status"] == "ok", result["error"]


@pytest.mark.parametrize(
    "spec",
    [
        {"model": {"arch": "gru", "depth": 2, "width": 8}, "data": {"seq_len": 6}},
        {"model": {"norm": "rmsnorm"}},
        {"model": {"arch": "rnn", "norm": "rmsnorm"}, "data": {"task": "parity"}},
        {"model": {"init": "orthogonal", "activation": "relu"}},
        {"model": {"arch": "lstm", "init": "orthogonal"}},
        {"model": {"weight_scale": 4.0}},
        {"train": {"clip_norm": 0.5}},
        {"train": {"clip_value": 0.01}},
    ],
    ids=["gru", "rmsnorm", "rnn-rmsnorm", "orthogonal", "lstm-orthogonal", "weight-scale", "clip-norm", "clip-value"],
)
def test_each_new_option_runs_in_the_service_after_the_uid_drop(spec, run_in_sandbox):
    """The zygote warmed up what these need: a child that dropped its uid may not read the interpreter's files."""
    result, _ = run_in_sandbox(spec={**spec, "train": {**spec.get("train", {}), "steps": 3}})
    assert result["status"] == "ok", result["error"] or result["sandbox_error"]
    assert all(value is not None and value > 0 for row in result["grad_norm"] for value in row)


WARM_CHECK = """
import sys
from sandbox import zygote
import torch
from sandbox.experiment import run_spec
from sandbox.spec import ARCHS, INITS, NORMS, spec_validate

zygote.warm_up()
before = set(sys.modules)
for arch in ARCHS:
    for init in INITS:
        # the combinations the spec takes: batch for mlp only, none for lstm and gru
        for norm in [n for n in NORMS if (arch == "mlp" or n != "batch") and (arch in ("mlp", "rnn") or n == "none")]:
            spec = {"model": {"arch": arch, "depth": 2, "width": 4, "init": init, "norm": norm, "weight_scale": 2.0},
                    "data": {"task": "parity", "seq_len": 3},
                    "train": {"steps": 2, "clip_norm": 1.0, "clip_value": 0.5}}
            run_spec(spec_validate(spec), device=torch.device("cpu"), emit=lambda event: None)
print(sorted(set(sys.modules) - before))
"""


def test_after_the_warm_up_no_option_imports_a_module(sandbox_python):
    """What the zygote warms up covers every arch, init and norm with clipping: a run imports nothing more."""
    done = subprocess.run(
        [sandbox_python, "-c", WARM_CHECK],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "OMP_NUM_THREADS": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_clipping_records_the_norm_before_and_after_the_clip_beside_the_layers(run_in_sandbox):
    spec = {"model": {"activation": "tanh", "init": "xavier", "weight_scale": 3.0}, "train": {"steps": 8}}
    result, events = run_in_sandbox(spec={**spec, "train": {**spec["train"], "clip_norm": 1.0}})
    unclipped, _ = run_in_sandbox(spec=spec)
    assert result["status"] == "ok", result["error"]
    assert len(result["grad_norm_total"]) == len(result["grad_norm_clipped"]) == len(result["steps"]) == 8
    assert all(before > 1000 for before in result["grad_norm_total"])
    assert all(0.99 < after <= 1.0 for after in result["grad_norm_clipped"])
    # The layers' norms are before the clip, so the explosion stays visible: the first step's match the unclipped run.
    assert result["grad_norm"][0] == unclipped["grad_norm"][0]
    assert result["grad_norm"][1] != unclipped["grad_norm"][1]  # after a bounded step the runs part
    assert unclipped["grad_norm_total"] is None and unclipped["grad_norm_clipped"] is None
    recorded = [record for event in events for record in event["recorded"]]
    assert [record["grad_norm_total"] for record in recorded] == result["grad_norm_total"]
    assert [record["grad_norm_clipped"] for record in recorded] == result["grad_norm_clipped"]


def test_a_bad_spec_is_invalid_and_names_the_field(run_in_sandbox):
    result, events = run_in_sandbox(spec={"model": {"depth": 500}, "trian": {}})
    assert result["status"] == "invalid"
    assert "model.depth: must be an integer from 1 to 100 (got 500)" in result["error"]
    assert "trian: unknown field" in result["error"]
    assert events == []


def test_the_mlp_template_reproduces_its_preset_number_for_number(run_in_sandbox):
    spec = BY_KEY["sigmoid-vanishes"].spec
    preset, _ = run_in_sandbox(spec=spec)
    learner, events = run_in_sandbox(spec=spec, code=(TEMPLATES / "mlp.py").read_text())
    assert learner["status"] == "ok", learner["error"]
    assert learner["layers"] == [f"hidden.{i}" for i in range(20)] + ["output"]
    assert learner["grad_norm"] == preset["grad_norm"]
    assert learner["loss"] == preset["loss"]
    assert events


def test_the_rnn_template_reproduces_its_preset_number_for_number(run_in_sandbox):
    spec = BY_KEY["lstm-keeps-memory"].baseline
    preset, _ = run_in_sandbox(spec=spec)
    learner, _ = run_in_sandbox(spec=spec, code=(TEMPLATES / "rnn.py").read_text())
    assert learner["status"] == "ok", learner["error"]
    assert learner["loss"] == preset["loss"]
    assert learner["seq_grad_norm"] == preset["seq_grad_norm"]
    # the template keeps the input and hidden matrices apart; the preset names them one layer
    for mine, theirs in zip(learner["grad_norm"], preset["grad_norm"], strict=True):
        assert (mine[0] ** 2 + mine[1] ** 2) ** 0.5 == pytest.approx(theirs[0], rel=1e-4)
        assert mine[2] == theirs[1]


def test_a_syntax_error_is_invalid_with_its_line(run_in_sandbox):
    result, _ = run_in_sandbox(code="import torch\n\nfor step in range(3)\n    pass\n")
    assert result["status"] == "invalid"
    assert result["error"].startswith("SyntaxError: ")
    assert result["line"] == 3


def test_an_exception_is_an_error_with_the_learners_line(run_in_sandbox):
    code = "import torch\n\n\ndef broken():\n    return torch.ones(2) @ torch.ones(3)\n\n\nbroken()\n"
    result, _ = run_in_sandbox(code=code)
    assert result["status"] == "error"
    assert result["error"].startswith("RuntimeError: ")
    assert result["line"] == 5


def test_code_that_records_nothing_is_told_what_to_call(run_in_sandbox):
    result, _ = run_in_sandbox(code="x = 1\n")
    assert result["status"] == "error"
    assert "lab.track(model) and lab.log(step, loss)" in result["error"]


def test_the_learners_printing_goes_to_the_log_and_never_passes_for_an_event(run_in_sandbox):
    fake = '{"type": "result", "status": "ok"}'
    code = f"print('hello from the lab')\nprint({fake!r})\n" + (TEMPLATES / "mlp.py").read_text()
    result, _ = run_in_sandbox(spec={"train": {"steps": 3}}, code=code)
    assert result["status"] == "ok"
    assert result["log"] == f"hello from the lab\n{fake}\n"
    assert len(result["steps"]) == 3


def test_lab_log_before_track_says_so(run_in_sandbox):
    result, _ = run_in_sandbox(code="lab.log(0, 1.0)\n")
    assert result["status"] == "error"
    assert result["error"] == "RuntimeError: lab.log: call lab.track(model) first"
    assert result["line"] == 1


def test_a_cancelled_run_ends_cancelled(run_in_sandbox):
    import time

    started = time.monotonic()
    result, _ = run_in_sandbox(code="while True:\n    pass\n", should_cancel=lambda: time.monotonic() - started > 0.5)
    assert result["status"] == "cancelled"
    assert result["wall_s"] < 5


def test_templates_are_files_a_learner_can_open():
    assert {path.name for path in Path(TEMPLATES).glob("*.py")} >= {"mlp.py", "rnn.py"}


def test_the_zygote_stays_single_threaded_so_it_can_fork_safely(sandbox_service, run_in_sandbox):
    run_in_sandbox(spec={"train": {"steps": 2}})
    assert len(list(Path(f"/proc/{sandbox_service.process.pid}/task").iterdir())) == 1


def test_stopping_the_service_ends_the_run_in_progress_as_its_failure_and_cleans_up(
    sandbox_python, open_folder, tmp_path
):
    import threading
    import time

    from sandbox import client

    work_root = open_folder / "stopping"
    service = client.SandboxService(
        python=sandbox_python, socket_path=tmp_path / "own.sock", env={"SANDBOX_WORK_ROOT": str(work_root)}
    ).start()
    answers = []
    thread = threading.Thread(
        target=lambda: answers.append(client.run(service.socket_path, code="while True:\n    pass\n"))
    )
    thread.start()
    time.sleep(1.0)
    service.stop()
    thread.join(timeout=20)
    (result,) = answers
    # The service's failure, not the learner's cancel: typed so that the lab neither shows
    # "cancelled" nor charges the run.
    assert result["status"] == "error"
    assert result["sandbox_error"] == "the sandbox service is stopping"
    assert list(work_root.iterdir()) == []


def test_a_ping_is_answered_with_a_pong_naming_the_missing_layers(sandbox_service):
    import os

    from sandbox import client

    pong = client.ping(sandbox_service.socket_path)

    if os.geteuid() == 0:  # root: every layer; an ordinary user's service runs reduced (tests/conftest.py)
        assert pong == {"type": "pong", "missing": [], "isolation": "full"}
    else:
        assert pong["isolation"] == "reduced" and pong["missing"], pong


def test_a_ping_with_no_service_listening_raises(tmp_path):
    from sandbox import client

    with pytest.raises(OSError):
        client.ping(tmp_path / "nobody.sock")


def test_a_ping_of_a_service_busy_with_all_its_runs_answers_none_alive(sandbox_python, open_folder, tmp_path):
    import threading
    import time

    from sandbox import client

    service = client.SandboxService(
        python=sandbox_python,
        socket_path=tmp_path / "busy.sock",
        env={"SANDBOX_WORK_ROOT": str(open_folder / "busy"), "SANDBOX_MAX_RUNS": "1"},
    ).start()
    try:
        thread = threading.Thread(
            target=lambda: client.run(service.socket_path, code="while True:\n    pass\n", limits={"timeout_s": 4})
        )
        thread.start()
        time.sleep(1.0)
        assert client.ping(service.socket_path, timeout_s=0.5) is None
        thread.join(timeout=30)
    finally:
        service.stop()


def test_asking_for_cuda_on_a_worker_without_it_says_so(sandbox_python, run_in_sandbox):
    import subprocess

    has_cuda = subprocess.run(
        [sandbox_python, "-c", "import torch; print(torch.cuda.is_available())"], capture_output=True, text=True
    ).stdout.strip()
    if has_cuda == "True":
        pytest.skip("this machine has CUDA: bench/gpu_check.sh covers it")
    result, _ = run_in_sandbox(spec={"device": "cuda", "train": {"steps": 2}})
    assert result["status"] == "error"
    assert result["error"] == "RuntimeError: device: cuda was asked for, but this worker has no CUDA device"
    auto, _ = run_in_sandbox(spec={"device": "auto", "train": {"steps": 2}})
    assert (auto["status"], auto["device"]) == ("ok", "cpu")

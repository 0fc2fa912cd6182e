"""The commands behind `python -m sandbox`; see sandbox/__main__.py for the contract."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from sandbox import settings
from sandbox.protocol import dump_line, empty_result


def _read_spec(path: str) -> tuple[dict[str, Any] | None, str | None]:
    """The spec in a JSON file, or an error that names the file (and the line)."""
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read(1024 * 1024 + 1)
    except OSError as error:
        return None, f"{path}: cannot read it ({error.strerror})"
    except UnicodeDecodeError:
        return None, f"{path}: not UTF-8 text"
    if len(text) > 1024 * 1024:
        return None, f"{path}: larger than 1 MiB"
    try:
        spec = json.loads(text, parse_constant=lambda token: float("nan"))
    except json.JSONDecodeError as error:
        return None, f"{path}:{error.lineno}: not valid JSON: {error.msg}"
    return spec, None


def _read_code(path: str) -> tuple[str | None, str | None]:
    try:
        with open(path, encoding="utf-8") as file:
            return file.read(), None
    except OSError as error:
        return None, f"{path}: cannot read it ({error.strerror})"
    except UnicodeDecodeError:
        return None, f"{path}: not UTF-8 text"


def command_run(arguments: argparse.Namespace) -> int:
    requests: list[dict[str, Any] | str] = []
    if arguments.code:
        code, problem = _read_code(arguments.code)
        spec, spec_problem = _read_spec(arguments.specs[0]) if arguments.specs else ({}, None)
        if len(arguments.specs) > 1:
            spec_problem = "run --code takes at most one SPEC.json"
        requests.append(problem or spec_problem or {"code": code, "spec": spec})
    else:
        if not arguments.specs:
            print("sandbox run: give one or more SPEC.json files, or --code FILE.py", file=sys.stderr)
            return 2
        for path in arguments.specs:
            spec, problem = _read_spec(path)
            requests.append(problem or {"spec": spec})
    out = sys.stdout.fileno()
    sys.stdout.flush()
    all_ok = True
    runnable = [request for request in requests if isinstance(request, dict)]
    if runnable:
        from sandbox import zygote  # imports torch: only when there is something to run

        zygote.warm_up()
    work_root = _work_root() if runnable else ""
    for request in requests:
        if isinstance(request, str):
            os.write(out, dump_line(empty_result("invalid", request)))
            all_ok = False
            continue
        all_ok = zygote.run_requests([request], limits=_limits(), work_root=work_root, out_fd=out) and all_ok
    return 0 if all_ok else 1


def _limits():
    try:
        return settings.limits_from_env()
    except settings.SettingsError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        sys.exit(2)


def _work_root() -> str:
    try:
        return settings.checked_work_root()
    except settings.SettingsError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        sys.exit(2)


def command_presets(arguments: argparse.Namespace) -> int:
    from sandbox.presets import PRESETS

    json.dump([preset.as_json() for preset in PRESETS], sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


# Processes the service itself may have beside its runs: the zygote, a supervisor per run,
# a `check` or health probe exec-ed into the container.
PIDS_MARGIN = 16


def _probe(limits, work_root: str) -> dict[str, Any]:
    """Run PROBE confined, as a learner's code would be; what it saw and what a run here lacks."""
    from sandbox import isolation, zygote

    read_fd, write_fd = os.pipe()
    zygote.run_requests([{"code": PROBE}], limits=limits, work_root=work_root, out_fd=write_fd)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as output:
        (result,) = [json.loads(line) for line in output if b'"result"' in line]
    root = os.geteuid() == 0
    report: dict[str, Any] = {"landlock_abi": isolation.landlock_abi(), "root": root}
    report["apparmor"] = isolation.apparmor_label()
    try:
        report["child"] = json.loads(result["log"].splitlines()[0])
    except (IndexError, ValueError, KeyError):
        report["child"] = result
    report["missing"] = layers_missing(report["child"], root=root, landlock_abi=report["landlock_abi"])
    return report


def shared_process_cap_problem(limits, max_runs: int) -> str | None:
    """Where runs have no control group, they share the container's pids.max: it must hold them all."""
    from sandbox import cgroups

    if cgroups.availability()[0]:
        return None
    cap = cgroups.shared_pids_max()
    needed = max_runs * limits.processes + PIDS_MARGIN
    if cap is None or cap >= needed:
        return None
    return (
        f"SANDBOX_MAX_RUNS × SANDBOX_PROCESSES + {PIDS_MARGIN} = {max_runs} × {limits.processes} + {PIDS_MARGIN}"
        f" = {needed} exceeds the container's pids.max ({cap}), which the runs share without a control group"
        " of their own: lower SANDBOX_MAX_RUNS or SANDBOX_PROCESSES, or raise pids_limit"
    )


def command_serve(arguments: argparse.Namespace) -> int:
    from sandbox import zygote

    limits = _limits()
    try:
        mode = settings.isolation_mode()
    except settings.SettingsError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    max_runs = arguments.max_runs or settings.max_runs()
    zygote.warm_up()
    work_root = _work_root()
    problem = shared_process_cap_problem(limits, max_runs)
    if problem:
        print(f"sandbox: refusing to start: {problem}", file=sys.stderr, flush=True)
        return 2
    missing = _probe(limits, work_root)["missing"]
    for item in missing:
        print(f"sandbox: layer missing here: {item['layer']}: {item['why']}", file=sys.stderr, flush=True)
    if missing and mode != "reduced":
        print(
            f"sandbox: refusing to start: {missing[0]['layer']} is missing ({missing[0]['why']});"
            " give the setting named, or set SANDBOX_ISOLATION=reduced to run without "
            + ", ".join(item["layer"] for item in missing),
            file=sys.stderr,
            flush=True,
        )
        return 2
    if missing:
        print("sandbox: reduced isolation (SANDBOX_ISOLATION=reduced)", file=sys.stderr, flush=True)
    zygote.serve(
        arguments.socket,
        limits=limits,
        work_root=work_root,
        max_runs=max_runs,
        ready_fd=arguments.ready_fd,
        missing=missing,
    )
    return 0


# Run inside a confined child by `check`: it reports what it can see of its own confinement.
PROBE = """
import json, os, socket
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines() if ":" in line)
try:
    socket.socket()
    network = "sockets allowed"
except PermissionError:
    network = "socket creation denied"
try:
    interfaces = [line.split(":")[0].strip() for line in open("/proc/self/net/dev").readlines()[2:]]
except OSError:
    interfaces = "unreadable"
try:
    open("/etc/hostname").read()
    outside = "readable"
except OSError:
    outside = "denied"
try:
    user_namespace = open("/proc/self/uid_map").read().split() != ["0", "0", "4294967295"]
except OSError:
    user_namespace = None
print(json.dumps({
    "uid": os.getuid(),
    "pid": os.getpid(),
    "procfs_self": os.readlink("/proc/self"),
    "hostname": socket.gethostname(),
    "user_namespace": user_namespace,
    "private_tmpfs": os.stat(".").st_dev != os.stat("..").st_dev,
    "capabilities": status["CapEff"].strip(),
    "seccomp": status["Seccomp"].strip() == "2",
    "no_new_privs": status["NoNewPrivs"].strip() == "1",
    "network": network,
    "interfaces": interfaces,
    "read_outside": outside,
    "environment": sorted(os.environ),
    "cgroups": sorted({line.split(":", 2)[2] for line in open("/proc/self/cgroup").read().splitlines()
                       if "memory" in line or "pids" in line}),
}))
"""

PROCFS_REMEDY = (
    "the kernel refuses a fresh procfs in a user namespace while /proc has masked or read-only paths"
    " (Docker masks some: security_opt systempaths=unconfined lifts it; the service's uid is not 0,"
    " so the unmasked files stay closed to it by their modes)"
)


def layers_missing(child: dict[str, Any], *, root: bool, landlock_abi: int) -> list[dict[str, str]]:
    """The layers of DESIGN.md section 4 a run here does not get, each with the reason."""
    from sandbox import cgroups, isolation

    user_namespace = child.get("hostname") == isolation.RUN_HOSTNAME.decode()
    own_pid_namespace = child.get("pid") == 1
    cgroups_given, cgroups_why = cgroups.availability()  # reads /proc and the cgroup tree: once
    if root:
        namespaces_why = "the kernel refused it"
    elif own_pid_namespace:
        label = isolation.apparmor_label()
        namespaces_why = (
            isolation.user_namespace_obstacle()
            if label and not label.startswith("unconfined")
            else "the kernel refused a mount in the run's user namespace"
        )
    elif user_namespace:
        namespaces_why = (
            "the run's user namespace was made too late for a PID namespace"
            f" (the supervisor's own failed: {isolation.user_namespace_obstacle()})"
        )
    else:
        namespaces_why = isolation.user_namespace_obstacle()
    procfs_why = PROCFS_REMEDY if own_pid_namespace and child.get("private_tmpfs") else namespaces_why
    if root:
        apart = ("a uid of its own", child.get("uid", 0) >= isolation.UNPRIVILEGED_UID_BASE, "the uid drop failed")
    else:
        # Decided (sandbox/README.md): no CAP_SETUID for the container, so one kernel uid for
        # every run; a user namespace per run keeps ptrace, /proc/<pid>/mem and process counts apart.
        apart = ("a user namespace of its own", bool(child.get("user_namespace")) and own_pid_namespace, namespaces_why)
    checks = [
        ("PID namespace", own_pid_namespace, namespaces_why),
        ("private tmpfs", bool(child.get("private_tmpfs")), namespaces_why),
        ("fresh procfs", child.get("procfs_self") == "1", procfs_why),
        ("network namespace", child.get("interfaces") == ["lo"], namespaces_why),
        ("IPC and UTS namespaces", user_namespace, namespaces_why),
        ("cgroup namespace", child.get("cgroups") == ["/"], namespaces_why),
        apart,
        ("no capabilities", child.get("capabilities") == "0000000000000000", "the capability drop failed"),
        (
            "control group (memory and process caps for the whole run)",
            cgroups_given,
            cgroups_why,
        ),
        ("seccomp", bool(child.get("seccomp")), "x86_64 only"),
        ("no-new-privileges", bool(child.get("no_new_privs")), "prctl refused"),
        ("landlock", landlock_abi >= 1 and child.get("read_outside") == "denied", "the kernel has no Landlock"),
        ("socket creation denied", child.get("network") == "socket creation denied", "seccomp missing"),
    ]
    return [{"layer": name, "why": why} for name, present, why in checks if not present]


def command_check(arguments: argparse.Namespace) -> int:
    """Run a probe confined, as a learner's code would be, and print what it saw and what is missing."""
    import tempfile

    from sandbox import zygote

    zygote.warm_up()
    limits = _limits()
    report = _probe(limits, _work_root())
    report["temp"] = tempfile.gettempdir()
    try:
        mode = settings.isolation_mode()
    except settings.SettingsError as error:
        mode = str(error)
    problem = shared_process_cap_problem(limits, settings.max_runs())
    if problem:
        report["serve"] = f"refuses to start: {problem}"
    elif report["missing"] and mode != "reduced":
        report["serve"] = "refuses to start: a layer is missing (give the setting named, or SANDBOX_ISOLATION=reduced)"
    else:
        report["serve"] = "starts"
    report["isolation"] = "reduced" if report["missing"] else "full"
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Gradlab's experiment runner")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run specs, or learner code with --code")
    run.add_argument("specs", nargs="*", metavar="SPEC.json")
    run.add_argument("--code", metavar="FILE.py", help="a learner's Python file to run under the harness")
    run.set_defaults(handler=command_run)
    commands.add_parser("presets", help="list the presets as JSON").set_defaults(handler=command_presets)
    serve = commands.add_parser("serve", help="serve runs on a Unix socket")
    serve.add_argument("--socket", required=True, metavar="PATH")
    serve.add_argument("--max-runs", type=int, default=0, help="runs at once (default: SANDBOX_MAX_RUNS)")
    serve.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    serve.set_defaults(handler=command_serve)
    commands.add_parser("check", help="which isolation layers apply here").set_defaults(handler=command_check)
    arguments = parser.parse_args(argv)
    return arguments.handler(arguments)

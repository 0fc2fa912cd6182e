"""The compose file as Compose resolves it and each image's files as its Dockerfile lays
them out, without Docker (tests/deploy/docker.py reads both)."""

import json
import os
import re
import subprocess
import sys

import pytest

from tests.deploy import docker
from tests.deploy.docker import ROOT, Dockerfile, DockerIgnore, MissingVariable, assemble, interpolate, project

EXAMPLE = docker.read_env_file(ROOT / ".env.example")
# .env as the README has the operator make it: the example, with its three secrets filled in.
FILLED = EXAMPLE | {"SECRET_KEY": "s" * 50, "POSTGRES_PASSWORD": "pg-secret", "REDIS_PASSWORD": "redis-secret"}

# The attributes a service may have in the Compose Specification (services.md).
SERVICE_ATTRIBUTES = {
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_add",
    "cap_drop",
    "cgroup",
    "cgroup_parent",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "deploy",
    "develop",
    "device_cgroup_rules",
    "devices",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "driver_opts",
    "entrypoint",
    "env_file",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "gpus",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "ipc",
    "isolation",
    "label_file",
    "labels",
    "links",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "models",
    "network_mode",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pid",
    "pids_limit",
    "platform",
    "ports",
    "post_start",
    "pre_stop",
    "privileged",
    "profiles",
    "provider",
    "pull_policy",
    "read_only",
    "restart",
    "runtime",
    "scale",
    "secrets",
    "security_opt",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "sysctls",
    "tmpfs",
    "tty",
    "ulimits",
    "use_api_socket",
    "user",
    "userns_mode",
    "uts",
    "volumes",
    "volumes_from",
    "working_dir",
}


def services(environment=FILLED, **changes):
    return project(environment | changes)["services"]


# ---------------------------------------------------------------- Compose's variables


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("${SET}", "value"),
        ("$SET/x", "value/x"),
        ("${UNSET}", ""),
        ("${EMPTY:-fallback}", "fallback"),
        ("${EMPTY-fallback}", ""),
        ("${UNSET-fallback}", "fallback"),
        ("${SET:+other}", "other"),
        ("${EMPTY:+other}", ""),
        ("${UNSET:-${SET}-${UNSET:-deep}}", "value-deep"),
        ("$${SET} costs $$5", "${SET} costs $5"),
        ("a:$:b", "a:$:b"),
    ],
)
def test_it_interpolates_as_compose_does(text, expected):
    assert interpolate(text, {"SET": "value", "EMPTY": ""}) == expected


def test_it_stops_on_a_required_variable_with_its_message():
    with pytest.raises(MissingVariable, match="NEEDED: set it"):
        interpolate("${NEEDED:?set it}", {"NEEDED": ""})
    assert interpolate("${NEEDED?set it}", {"NEEDED": ""}) == ""


@pytest.mark.parametrize("secret", ["POSTGRES_PASSWORD", "REDIS_PASSWORD"])
def test_it_refuses_to_start_without_a_password(secret):
    with pytest.raises(MissingVariable, match=f"{secret}: set {secret} in .env"):
        services(**{secret: ""})


def test_flower_refuses_to_start_without_its_login_and_starts_with_it():
    flower = services()["flower"]  # the whole file resolves with FLOWER_BASIC_AUTH empty
    entrypoint = [*flower["entrypoint"], "echo", "flower started"]
    refused = subprocess.run(entrypoint, env={"FLOWER_BASIC_AUTH": ""}, capture_output=True, text=True)
    assert refused.returncode == 1 and "set FLOWER_BASIC_AUTH=user:password in .env" in refused.stderr
    started = subprocess.run(entrypoint, env={"FLOWER_BASIC_AUTH": "admin:x"}, capture_output=True, text=True)
    assert started.returncode == 0 and started.stdout == "flower started\n"
    assert services(FLOWER_BASIC_AUTH="admin:x")["flower"]["environment"] == {"FLOWER_BASIC_AUTH": "admin:x"}


def test_it_connects_to_this_machines_database_and_redis_by_default():
    resolved = services()
    for name in ("web", "worker", "scheduler", "worker-gpu"):
        environment = resolved[name]["environment"]
        assert environment["DATABASE_URL"] == "postgres://gradlab:pg-secret@db:5432/gradlab"
        assert environment["REDIS_URL"] == "redis://:redis-secret@redis:6379/0"
    assert resolved["flower"]["command"][2] == "redis://:redis-secret@redis:6379/0"


def test_a_worker_machine_names_the_main_machines_database_and_redis():
    remote = {"DATABASE_URL": "postgres://gradlab:pw@10.0.0.2:5432/gradlab", "REDIS_URL": "redis://:pw@10.0.0.2:6379/0"}
    resolved = services(**remote)
    for name in ("worker", "worker-gpu"):
        assert {key: resolved[name]["environment"][key] for key in remote} == remote


def test_it_publishes_the_web_and_flower_on_this_machine_only_unless_told():
    resolved = services()
    assert resolved["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert resolved["flower"]["ports"] == ["127.0.0.1:5555:5555"]
    assert services(GRADLAB_BIND="0.0.0.0", GRADLAB_PORT="80")["web"]["ports"] == ["0.0.0.0:80:8000"]  # noqa: S104
    for name in ("db", "redis", "worker", "sandbox", "scheduler"):
        assert "ports" not in resolved[name], name


def test_the_shared_services_file_publishes_the_database_and_redis_on_the_private_address_only():
    override = ROOT / "compose" / "shared-services.yml"
    resolved = project(FILLED | {"PRIVATE_ADDRESS": "10.0.0.2"}, override)["services"]
    assert resolved == {"db": {"ports": ["10.0.0.2:5432:5432"]}, "redis": {"ports": ["10.0.0.2:6379:6379"]}}
    with pytest.raises(MissingVariable, match="PRIVATE_ADDRESS"):
        project(FILLED, override)


def test_every_service_uses_only_attributes_compose_knows():
    for name, service in services().items():
        unknown = set(service) - SERVICE_ATTRIBUTES
        assert not unknown, f"{name}: {sorted(unknown)}"


def test_every_build_target_is_a_stage_of_its_dockerfile():
    for service in services().values():
        build = service.get("build")
        if build:
            dockerfile = Dockerfile(ROOT / build["context"] / build["dockerfile"], build.get("args"))
            dockerfile.chain(build.get("target"))  # raises KeyError for a stage that is not there


# ---------------------------------------------------------------- .dockerignore


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".env", True),
        (".env.example", False),
        (".git/config", True),
        ("var/gradlab.sqlite3", True),
        ("platform/locale/de/LC_MESSAGES/django.mo", True),
        ("platform/locale/de/LC_MESSAGES/django.po", False),
        ("platform/lab/__pycache__/views.cpython-313.pyc", True),
        ("platform/lab/views.py", False),
        (".venv-sandbox/bin/python", True),
    ],
)
def test_it_reads_the_dockerignore_file_as_docker_does(path, ignored):
    assert DockerIgnore(ROOT).ignored(path) is ignored


def test_an_exception_line_takes_a_path_back(tmp_path):
    (tmp_path / ".dockerignore").write_text("docs\n!docs/keep.md\n*.log\n")
    rules = DockerIgnore(tmp_path)
    assert rules.ignored("docs/other.md") and not rules.ignored("docs/keep.md")
    assert rules.ignored("app.log") and not rules.ignored("logs/app.log")


# ---------------------------------------------------------------- each image's files


def image_of(name, folder):
    service = services()[name]
    build = service["build"]
    dockerfile = Dockerfile(ROOT / build["context"] / build["dockerfile"], build.get("args"))
    venv = ROOT / (".venv-sandbox" if "sandbox" in name else ".venv")
    return assemble(dockerfile, build.get("target"), folder / name, venv=venv)


@pytest.mark.parametrize("name", ["web", "worker", "sandbox", "scheduler", "worker-gpu", "sandbox-gpu"])
def test_each_image_holds_the_files_its_commands_name(name, tmp_path):
    image = image_of(name, tmp_path)
    service = services()[name]
    named = [*service["command"], *service.get("healthcheck", {}).get("test", [])]
    for part in named:
        if part.endswith((".py", ".sh")) or part == "manage.py":
            assert (image.cwd / part).is_file(), f"{name}: {part} is not in the image"
    assert image.user and image.user not in ("root", "0")


def test_the_app_images_carry_the_code_and_the_course_but_nothing_local(tmp_path):
    files = image_of("web", tmp_path).files()
    assert {"app/manage.py", "app/compose/scripts/web.sh", "app/content/vanishing-gradient/course.yaml"} <= files
    assert any(path.startswith("app/platform/static/vendor/") for path in files)
    assert not [path for path in files if path.startswith(("app/tests/", "app/var/", "app/.")) or "/." in path]
    assert not [path for path in files if path.endswith((".mo", ".pyc", ".sqlite3"))]


def test_the_sandbox_image_carries_the_sandbox_only(tmp_path):
    files = image_of("sandbox", tmp_path).files()
    tops = {path.split("/")[1] for path in files}
    assert tops == {"sandbox", "compose"}, tops
    assert "app/sandbox/templates/mlp.py" in files and "app/compose/sandbox/healthcheck.py" in files


# ---------------------------------------------------------------- each image's packages

GLIBC = {"bookworm": 36, "trixie": 41}  # the Debian release of the python:*-slim-* images


def package_stages():
    for path in sorted({ROOT / "compose/app/Dockerfile", ROOT / "compose/sandbox/Dockerfile"}):
        dockerfile = Dockerfile(path)
        for stage in dockerfile.stages:
            for instruction, argument in stage.steps:
                if instruction == "RUN" and "pip install" in argument:
                    base = dockerfile.chain(stage.name)[0].base
                    files = re.findall(r"-r /build/(requirements/\S+\.txt)", argument)
                    yield pytest.param(base, files, id=f"{path.parent.name}-{stage.name}")


def pip_for_image(base: str, *arguments: str) -> subprocess.CompletedProcess:
    """pip as the image's Python and glibc would run it, binary wheels only, this machine's
    own pip configuration (its local wheels) left out."""
    version, release = re.fullmatch(r"python:(\d+\.\d+)\.\d+-slim-(\w+)", base).groups()
    platforms = [f"manylinux_2_{minor}_x86_64" for minor in range(5, GLIBC[release] + 1)]
    platforms += ["manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64"]
    options = ["--only-binary=:all:", "--python-version", version, "--implementation", "cp"]
    options += ["--abi", "cp" + version.replace(".", ""), *[f"--platform={platform}" for platform in platforms]]
    environment = os.environ | {"PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "", "PIP_NO_INPUT": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pip", *arguments[:1], *options, *arguments[1:]],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment,
    )


def pins_in(*files: str) -> list[str]:
    lines = [line for name in files for line in (ROOT / name).read_text().splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "-r"))]


@pytest.mark.slow
@pytest.mark.parametrize(("base", "files"), list(package_stages()))
def test_every_package_an_image_installs_has_a_wheel_for_its_python(base, files, tmp_path):
    """The slim images have no compiler: pip must find a wheel for the image's Python and
    glibc for every pinned package. The CPU build of torch comes from the PyTorch index,
    which this machine cannot reach: it is the one pin not checked here."""
    pins = [pin for pin in pins_in(*files) if not pin.startswith("torch==")]
    assert pins, files
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("\n".join(pins) + "\n")
    done = pip_for_image(base, "download", "--quiet", "--dest", str(tmp_path / "wheels"), "-r", str(requirements))
    problems = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert done.returncode == 0, "\n".join(problems) or done.stderr[-2000:]
    assert len(list((tmp_path / "wheels").glob("*.whl"))) >= len(pins)


@pytest.mark.slow
def test_the_gpu_sandbox_image_takes_a_cuda_build_of_torch_and_a_wheel_for_everything(tmp_path):
    """Resolved, not downloaded (pip reads each wheel's metadata): several GB otherwise."""
    build = services()["sandbox-gpu"]["build"]
    base = Dockerfile(ROOT / build["context"] / build["dockerfile"]).images()[0]
    pins = pins_in("requirements/sandbox.txt")
    report = tmp_path / "report.json"
    done = pip_for_image(
        base, "install", "--dry-run", "--quiet", "--ignore-installed", "--target", str(tmp_path / "target"),
        "--report", str(report), "--index-url", build["args"]["TORCH_INDEX"], *pins,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    installs = {item["metadata"]["name"].lower(): item for item in json.loads(report.read_text())["install"]}
    torch = installs["torch"]["metadata"]
    assert torch["version"] == next(pin for pin in pins if pin.startswith("torch==")).removeprefix("torch==")
    assert any(name.startswith(("nvidia-cudnn", "nvidia-cuda-runtime")) for name in installs), sorted(installs)

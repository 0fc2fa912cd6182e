"""The compose file and its Dockerfiles, read without Docker: structure, safety, completeness."""

import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.deploy.docker import Dockerfile, assemble

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SANDBOXES = ["sandbox", "sandbox-gpu"]
SECRET_WORDS = ("SECRET", "PASSWORD", "DATABASE", "REDIS", "TOKEN", "KEY")


def dockerfiles() -> dict[str, Path]:
    found = {}
    for name, service in SERVICES.items():
        build = service.get("build")
        if build:
            found[name] = ROOT / build["context"] / build["dockerfile"]
    return found


def instructions(path: Path) -> list[tuple[str, str]]:
    return [step for stage in Dockerfile(path).stages for step in stage.steps]


def test_it_builds_every_image_from_a_dockerfile_that_exists():
    assert dockerfiles(), "no service builds an image"
    for name, path in dockerfiles().items():
        assert path.is_file(), f"{name}: {path} is missing"


@pytest.mark.parametrize("path", sorted(set(dockerfiles().values())), ids=lambda path: path.parent.name)
def test_it_copies_only_files_that_exist(path):
    for instruction, argument in instructions(path):
        if instruction == "COPY" and "--from=" not in argument:
            *sources, _target = argument.split()
            for source in sources:
                assert (ROOT / source).exists(), f"{path.name}: COPY {source} names nothing in the repository"


@pytest.mark.parametrize("path", sorted(set(dockerfiles().values())), ids=lambda path: path.parent.name)
def test_it_builds_in_stages_from_pinned_images_and_runs_as_a_user(path):
    dockerfile = Dockerfile(path)
    assert len(dockerfile.stages) >= 2, "not multi-stage"
    images = dockerfile.images()
    assert images and all(re.search(r":\d+\.\d+\.\d+-", image) for image in images), images
    steps = instructions(path)
    users = [argument for instruction, argument in steps if instruction == "USER"]
    assert users and "root" not in users and "0" not in users


def test_it_keeps_torch_and_matplotlib_out_of_the_web_image(tmp_path):
    web = assemble(Dockerfile(ROOT / "compose/app/Dockerfile"), "web", tmp_path, venv=ROOT / ".venv")
    [(stage, _venv)] = web.copied_from_stages
    installs = re.findall(
        r"-r /build/(requirements/\S+)", dict(Dockerfile(ROOT / "compose/app/Dockerfile").stage(stage).steps)["RUN"]
    )
    assert installs == ["requirements/base.txt"], installs
    lines = (ROOT / "requirements/base.txt").read_text().splitlines()
    packages = {line.split("==")[0].lower() for line in lines if line and not line.startswith(("#", "-r"))}
    assert not packages & {"torch", "matplotlib", "numpy"}, packages


@pytest.mark.parametrize("name", SANDBOXES)
def test_it_gives_the_sandbox_no_network_no_privileges_and_no_secrets(name):
    sandbox = SERVICES[name]
    assert sandbox["network_mode"] == "none"
    assert sandbox["read_only"] is True
    assert sandbox["cap_drop"] == ["ALL"]
    assert "no-new-privileges:true" in sandbox["security_opt"]
    assert any(mount.startswith("/tmp:") for mount in sandbox["tmpfs"])  # noqa: S108 - the container's own
    assert sandbox["mem_limit"] and sandbox["pids_limit"]
    assert "env_file" not in sandbox and "ports" not in sandbox
    assert all(key.startswith("SANDBOX_") for key in sandbox["environment"]), sandbox["environment"]
    assert not any(word in key for key in sandbox["environment"] for word in SECRET_WORDS)
    assert "privileged" not in sandbox and "cap_add" not in sandbox


def test_it_gives_the_gpu_sandbox_one_gpu_and_one_run_at_a_time():
    sandbox, worker = SERVICES["sandbox-gpu"], SERVICES["worker-gpu"]
    [device] = sandbox["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and device["capabilities"] == ["gpu"]
    assert sandbox["environment"]["SANDBOX_MAX_RUNS"] == "1"
    assert sandbox["profiles"] == ["gpu"] and worker["profiles"] == ["gpu"]
    command = worker["command"]
    assert command[command.index("--queues") + 1] == "gpu" and command[command.index("--concurrency") + 1] == "1"


def test_it_reaches_the_sandbox_only_through_a_shared_socket_volume():
    for worker, sandbox in (("worker", "sandbox"), ("worker-gpu", "sandbox-gpu")):
        [shared] = set(SERVICES[worker]["volumes"]) & set(SERVICES[sandbox]["volumes"])
        assert shared.endswith(":/run/gradlab") and shared.split(":")[0] in COMPOSE["volumes"]
        assert SERVICES[worker]["environment"]["LAB_SANDBOX_SOCKET"] == "/run/gradlab/sandbox.sock"


def test_it_waits_for_healthy_services_wherever_one_needs_another():
    for name, service in SERVICES.items():
        for needed, condition in (service.get("depends_on") or {}).items():
            wanted = "service_healthy" if "healthcheck" in SERVICES[needed] else "service_started"
            assert condition["condition"] == wanted, f"{name} -> {needed}"
            if needed in ("db", "redis", "sandbox", "sandbox-gpu"):
                assert "healthcheck" in SERVICES[needed]


def test_it_keeps_the_database_and_redis_on_named_volumes():
    assert "pgdata:/var/lib/postgresql/data" in SERVICES["db"]["volumes"]
    assert "redisdata:/data" in SERVICES["redis"]["volumes"]
    assert {"pgdata", "redisdata"} <= set(COMPOSE["volumes"])


def test_it_puts_flower_behind_a_login():
    flower = SERVICES["flower"]
    assert flower["profiles"] == ["monitoring"]
    assert "FLOWER_BASIC_AUTH" in flower["environment"]


def test_it_lists_every_setting_in_the_example_environment():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M)) | set(
        re.findall(r"\b([A-Z][A-Z0-9_]+)\b", example)
    )
    compose_files = [ROOT / "docker-compose.yml", *sorted((ROOT / "compose").glob("*.yml"))]
    compose_text = "".join(path.read_text() for path in compose_files)
    compose_variables = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", compose_text))
    source = "".join(path.read_text() for path in (ROOT / "platform").rglob("*.py"))
    source += (ROOT / "sandbox" / "settings.py").read_text()
    settings_read = set(re.findall(r'env_(?:str|bool|int|float|list)\("([A-Z_]+)"', source))
    settings_read |= set(re.findall(r'"(SANDBOX_[A-Z_]+)"', source))
    missing = (compose_variables | settings_read) - listed
    assert not missing, f".env.example does not mention {sorted(missing)}"


def test_it_keeps_local_files_out_of_the_build_context():
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", ".venv-sandbox", "var", "node_modules", ".env"} <= set(ignored)

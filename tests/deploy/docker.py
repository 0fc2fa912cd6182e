"""The compose file and the Dockerfiles read as Docker reads them, without Docker.

- `project(environment)`: docker-compose.yml with its variables interpolated the way
  Compose does (`${VAR}`, `:-`, `-`, `:?`, `?`, `:+`, `+`, nested, `$$`).
- `Dockerfile`: stages, ARG defaults, ENV, WORKDIR, COPY and RUN of one build target.
- `DockerIgnore`: which files of the build context reach the builder.
- `assemble(...)`: the files a target's COPY steps put into the image, laid out under a
  folder here, with the image's environment mapped onto that folder; the tests run the
  build's own steps and every service's command from there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
OPERATORS = (":-", ":?", ":+", "-", "?", "+")
BASE_PATH = "/usr/local/bin:/usr/bin:/bin"  # the python images' PATH
# RUN steps run here (paths mapped into the image's folder), and those that are read:
# the image's accounts, whose ids chown then uses.
BUILD_COMMANDS = {"python", "rm", "mkdir", "chown", "chmod"}
USER_COMMANDS = {"groupadd", "useradd"}


class MissingVariable(ValueError):
    """A `${VAR:?message}` whose variable is not set: Compose refuses to start."""


# ---------------------------------------------------------------- interpolation


def interpolate(text: str, environment: dict[str, str]) -> str:
    value, end = _interpolate(text, 0, environment, closing=False)
    assert end == len(text)
    return value


def _interpolate(text: str, start: int, environment: dict, *, closing: bool) -> tuple[str, int]:
    """Expand from `start` up to the end, or (closing) up to the unmatched `}`."""
    out, i = [], start
    while i < len(text):
        char = text[i]
        if closing and char == "}":
            return "".join(out), i
        if char != "$":
            out.append(char)
            i += 1
            continue
        following = text[i + 1 : i + 2]
        if following == "$":
            out.append("$")
            i += 2
        elif following == "{":
            value, i = _braced(text, i + 2, environment)
            out.append(value)
        elif match := NAME.match(text, i + 1):
            out.append(environment.get(match.group(), ""))
            i = match.end()
        else:
            out.append("$")
            i += 1
    if closing:
        raise ValueError(f"unclosed ${{ in {text!r}")
    return "".join(out), i


def _braced(text: str, start: int, environment: dict) -> tuple[str, int]:
    match = NAME.match(text, start)
    if not match:
        raise ValueError(f"bad variable at {text[start - 2 :]!r}")
    name, i = match.group(), match.end()
    if text[i : i + 1] == "}":
        return environment.get(name, ""), i + 1
    operator = next((op for op in OPERATORS if text.startswith(op, i)), None)
    if operator is None:
        raise ValueError(f"unsupported expansion at {text[start - 2 :]!r}")
    operand, end = _interpolate(text, i + len(operator), environment, closing=True)
    is_set = name in environment
    present = is_set and (environment[name] != "" if operator.startswith(":") else True)
    if operator.endswith("-"):
        value = environment[name] if present else operand
    elif operator.endswith("?"):
        if not present:
            raise MissingVariable(f"{name}: {operand}")
        value = environment[name]
    else:  # "+": the replacement when set
        value = operand if present else ""
    return value, end + 1


def _interpolate_tree(node, environment: dict):
    if isinstance(node, str):
        return interpolate(node, environment)
    if isinstance(node, list):
        return [_interpolate_tree(item, environment) for item in node]
    if isinstance(node, dict):  # values only, as Compose does
        return {key: _interpolate_tree(value, environment) for key, value in node.items()}
    return node


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of an .env file (comments and blank lines ignored)."""
    values = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not NAME.fullmatch(key):
            raise ValueError(f"{path.name}, line {number}: not KEY=VALUE: {line!r}")
        values[key] = value
    return values


def project(environment: dict[str, str], path: Path = ROOT / "docker-compose.yml") -> dict:
    """The compose file as `docker compose config` resolves it: merged anchors, variables set."""
    raw = yaml.safe_load(path.read_text())  # safe_load resolves the `<<` merges
    return _interpolate_tree(raw, environment)


# ---------------------------------------------------------------- .dockerignore


class DockerIgnore:
    """Docker's rules: patterns relative to the context, `*` within a name, `**` across
    folders, `!` takes a path back, the last matching line wins, a folder takes its contents."""

    def __init__(self, context: Path):
        self.rules: list[tuple[re.Pattern, bool]] = []
        path = context / ".dockerignore"
        lines = path.read_text().splitlines() if path.is_file() else []
        for line in lines:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            pattern = str(PurePosixPath(line.lstrip("!").strip("/")))
            self.rules.append((re.compile(_glob_to_regex(pattern)), keep))

    def ignored(self, relative: str) -> bool:
        parts = PurePosixPath(relative).parts
        prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
        result = False
        for pattern, keep in self.rules:
            if any(pattern.fullmatch(prefix) for prefix in prefixes):
                result = not keep
        return result


def _glob_to_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


# ---------------------------------------------------------------- Dockerfiles


@dataclass
class Stage:
    name: str
    base: str
    steps: list[tuple[str, str]] = field(default_factory=list)


class Dockerfile:
    def __init__(self, path: Path, build_args: dict[str, str] | None = None):
        self.path = path
        text = re.sub(r"\\\n", " ", path.read_text())
        lines = [line.strip() for line in text.splitlines()]
        args = dict(build_args or {})
        self.stages: list[Stage] = []
        for line in lines:
            if not line or line.startswith("#"):
                continue
            instruction, _, argument = line.partition(" ")
            instruction, argument = instruction.upper(), argument.strip()
            if instruction == "ARG":
                name, _, default = argument.partition("=")
                args.setdefault(name, default)
                if self.stages:
                    self.stages[-1].steps.append((instruction, argument))
            elif instruction == "FROM":
                words = argument.split()
                base = interpolate(words[0], args)
                name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(self.stages))
                self.stages.append(Stage(name=name, base=base))
            else:
                self.stages[-1].steps.append((instruction, argument))

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"{self.path.name} has no stage {name!r}")

    def chain(self, target: str | None = None) -> list[Stage]:
        """The stages the target is built on, the base first."""
        stage = self.stage(target) if target else self.stages[-1]
        names = {stage.name for stage in self.stages}
        chain = [stage]
        while chain[0].base in names:
            chain.insert(0, self.stage(chain[0].base))
        return chain

    def images(self) -> list[str]:
        names = {stage.name for stage in self.stages}
        return [stage.base for stage in self.stages if stage.base not in names]


# ---------------------------------------------------------------- an image's files, laid out here


@dataclass
class Image:
    """A build target's files under `root` (the image's `/`), with its environment."""

    root: Path
    workdir: str
    environment: dict[str, str]
    runs: list[str]
    copied_from_stages: list[tuple[str, str]]
    user: str | None
    users: dict[str, tuple[int, int]] = field(default_factory=dict)
    groups: dict[str, int] = field(default_factory=dict)

    def host(self, image_path: str) -> Path:
        return self.root / image_path.lstrip("/")

    @property
    def cwd(self) -> Path:
        return self.host(self.workdir)

    def map(self, value: str) -> str:
        """An absolute path inside the image -> the same file here; anything else unchanged."""
        return str(self.host(value)) if value.startswith("/") else value

    def files(self) -> set[str]:
        return {path.relative_to(self.root).as_posix() for path in self.root.rglob("*") if not path.is_dir()}

    def build(self, *, base_path: str = BASE_PATH) -> None:
        """Run the target's RUN steps with the image's environment only, paths mapped into
        its folder. groupadd and useradd are read (names to ids), chown and chmod are run
        with the ids: as root, like Docker's builder."""
        for run in self.runs:
            for step in (part.strip() for part in run.split("&&")):
                words = step.split()
                command = next(word for word in words if not re.fullmatch(r"[A-Z_]+=\S*", word))
                if command in USER_COMMANDS:
                    self._add_account(command, words)
                    continue
                if command not in BUILD_COMMANDS:
                    raise AssertionError(f"RUN {step!r}: a command these tests cannot run here")
                mapped = " ".join(self.map(self._ids(word) if command == "chown" else word) for word in words)
                done = subprocess.run(
                    ["sh", "-c", mapped],
                    cwd=self.cwd,
                    env=self.environment_with(base_path),
                    capture_output=True,
                    text=True,
                    timeout=300,
                )
                if done.returncode:
                    raise AssertionError(f"RUN {step!r} failed ({done.returncode}):\n{done.stderr[-3000:]}")

    def _add_account(self, command: str, words: list[str]) -> None:
        options = {word: words[i + 1] for i, word in enumerate(words[:-1]) if word in ("--uid", "--gid")}
        if command == "groupadd":
            self.groups[words[-1]] = int(options["--gid"])
        else:
            gid = options["--gid"]
            self.users[words[-1]] = (int(options["--uid"]), self.groups[gid] if gid in self.groups else int(gid))

    def _ids(self, word: str) -> str:
        if ":" not in word or word.startswith("/"):
            return word
        user, group = word.split(":")
        uid = self.users[user][0] if user in self.users else int(user)
        return f"{uid}:{self.groups[group] if group in self.groups else int(group)}"

    @property
    def uid_gid(self) -> tuple[int, int]:
        """The USER the image runs as, as numbers (after `build`)."""
        assert self.user, "the image names no USER"
        return self.users[self.user] if self.user in self.users else (int(self.user), int(self.user))

    def environment_with(self, base_path: str = BASE_PATH) -> dict[str, str]:
        return {key: value.replace("$PATH", base_path) for key, value in self.environment.items()}


def assemble(dockerfile: Dockerfile, target: str | None, into: Path, *, venv: Path, context: Path = ROOT) -> Image:
    """Carry out the target's COPY steps from the context into `into` (the image's root).

    `COPY --from=<stage> /opt/venv` brings the packages: here, the venv given, which the
    image's PATH is mapped onto. RUN steps are returned for the caller to run or name.
    """
    ignore = DockerIgnore(context)
    workdir, environment, runs, from_stages, user = "/", {}, [], [], None
    into.mkdir(parents=True, exist_ok=True)
    for stage in dockerfile.chain(target):
        for instruction, argument in stage.steps:
            if instruction == "WORKDIR":
                workdir = str(PurePosixPath(workdir, argument))
                (into / workdir.lstrip("/")).mkdir(parents=True, exist_ok=True)
            elif instruction == "ENV":
                for key, value in _env_pairs(argument):
                    environment[key] = interpolate(value, environment | {"PATH": "$PATH"})
            elif instruction == "COPY":
                words = [word for word in argument.split() if not word.startswith("--chown")]
                if words[0].startswith("--from="):
                    from_stages.append((words[0].removeprefix("--from="), words[1]))
                    continue
                *sources, destination = words
                target_path = into / str(PurePosixPath(workdir, destination)).lstrip("/")
                for source in sources:
                    _copy(context, source, target_path, ignore, into_folder=destination.endswith("/"))
            elif instruction == "RUN":
                runs.append(argument)
            elif instruction == "USER":
                user = argument
    for key, value in environment.items():
        environment[key] = _map_paths(value, into, venv)
    return Image(into, workdir, environment, runs, from_stages, user)


def _env_pairs(argument: str) -> list[tuple[str, str]]:
    return [(key, value) for key, value in re.findall(r"([_A-Za-z][_A-Za-z0-9]*)=(\S*)", argument)]


def _map_paths(value: str, into: Path, venv: Path) -> str:
    parts = []
    for part in value.split(":"):
        if part.startswith("/opt/venv"):
            part = str(venv) + part.removeprefix("/opt/venv")
        elif part.startswith("/") and part != "$PATH":
            part = str(into / part.lstrip("/"))
        parts.append(part)
    return ":".join(parts)


def _copy(context: Path, source: str, destination: Path, ignore: DockerIgnore, *, into_folder: bool) -> None:
    origin = context / source
    if not origin.exists() or ignore.ignored(source):
        raise FileNotFoundError(f"COPY {source}: not in the build context (missing or in .dockerignore)")
    if origin.is_file():
        target = destination / origin.name if into_folder else destination
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(origin, target)
        return
    for path in sorted(origin.rglob("*")):
        relative = path.relative_to(context).as_posix()
        if path.is_dir() or ignore.ignored(relative):
            continue
        target = destination / path.relative_to(origin)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)

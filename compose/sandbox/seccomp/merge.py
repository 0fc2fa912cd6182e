"""Write profile.json: Docker's default seccomp profile plus our additions, nothing else.

    python compose/sandbox/seccomp/merge.py          # writes profile.json beside it
    python compose/sandbox/seccomp/merge.py --check  # exit 1 when profile.json is not that

docker-default.json is moby's profiles/seccomp/default.json as vendored (see VENDORED.md);
additions.json holds what the sandbox's zygote needs for user namespaces. The compose
file points the sandbox at profile.json (`security_opt: seccomp=...`).
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def merged() -> dict:
    default = json.loads((HERE / "docker-default.json").read_text())
    additions = json.loads((HERE / "additions.json").read_text())
    return {**default, "syscalls": default["syscalls"] + additions["syscalls"]}


def text() -> str:
    return json.dumps(merged(), indent=2) + "\n"


if __name__ == "__main__":
    target = HERE / "profile.json"
    if sys.argv[1:] == ["--check"]:
        sys.exit(0 if target.exists() and target.read_text() == text() else "profile.json is stale: run merge.py")
    target.write_text(text())

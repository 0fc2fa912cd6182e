"""Healthy when the sandbox service accepts a connection on its socket (no network, no curl)."""

import socket
import sys

path = sys.argv[1] if len(sys.argv) > 1 else "/run/gradlab/sandbox.sock"
try:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(3)
        probe.connect(path)
except OSError as error:
    sys.exit(f"the sandbox service does not answer on {path}: {error}")

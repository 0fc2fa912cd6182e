#!/usr/bin/env bash
# The sandbox on a GPU machine: every preset on CUDA, three hostile cases, the overhead.
# Usage: bench/gpu_check.sh [PYTHON]   (a Python with a CUDA build of torch; default .venv-sandbox)
set -euo pipefail
cd "$(dirname "$0")/.."
python="${1:-.venv-sandbox/bin/python}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: not found"
"$python" -m sandbox check | sed -n '1,12p'
exec "$python" bench/gpu_check.py "$python"

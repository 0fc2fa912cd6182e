"""A run's numbers as files to download, CSV and JSON: plain Python, served by the web process."""

from __future__ import annotations

import io
import json
from typing import Any

from gradlab import csvfiles


def data_csv(*, result: dict[str, Any]) -> str:
    """One row per recorded step: step, loss, then the gradient norm of each layer; None is an empty cell."""
    out = io.StringIO()
    writer = csvfiles.writer(out)
    writer.writerow(["step", "loss", *result["layers"]])  # layer names may come from learner code
    for step, loss, row in zip(result["steps"], result["loss"], result["grad_norm"], strict=True):
        writer.writerow([step, _csv_number(loss), *(_csv_number(value) for value in row)])
    return out.getvalue()


def data_json(*, result: dict[str, Any]) -> str:
    """The run's numbers, without its status, log or error."""
    keys = ("layers", "steps", "grad_norm", "loss", "seq_grad_norm", "device", "compute_s")
    return json.dumps({key: result[key] for key in keys}, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _csv_number(value: float | None) -> float | str:
    return "" if value is None else value

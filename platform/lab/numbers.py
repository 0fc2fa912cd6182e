"""A run's numbers as files to download, CSV and JSON: plain Python, served by the web process."""

from __future__ import annotations

import io
import json
from typing import Any

from gradlab import csvfiles

# A clipped run's norm of the whole gradient before and after the clip, one per recorded step
# (None without clipping, and absent from runs stored before clipping existed).
CLIP_SERIES = ("grad_norm_total", "grad_norm_clipped")


def data_csv(*, result: dict[str, Any]) -> str:
    """One row per recorded step: step, loss, then the gradient norm of each layer; None is an empty cell.

    A clipped run adds two last columns: the norm of the whole gradient before the clip and after it."""
    out = io.StringIO()
    writer = csvfiles.writer(out)
    clipped = [result[key] for key in CLIP_SERIES if result.get(key) is not None]
    # Layer names may come from learner code; the two added columns' names are ours.
    writer.writerow(["step", "loss", *result["layers"], *(CLIP_SERIES if clipped else ())])
    for index, (step, loss, row) in enumerate(zip(result["steps"], result["loss"], result["grad_norm"], strict=True)):
        extra = [_csv_number(series[index]) for series in clipped]
        writer.writerow([step, _csv_number(loss), *(_csv_number(value) for value in row), *extra])
    return out.getvalue()


def data_json(*, result: dict[str, Any]) -> str:
    """The run's numbers, without its status, log or error; a clipped run's norms before and after the clip too."""
    keys = ["layers", "steps", "grad_norm", "loss", "seq_grad_norm", "device", "compute_s"]
    keys += [key for key in CLIP_SERIES if result.get(key) is not None]
    return json.dumps({key: result[key] for key in keys}, indent=2, sort_keys=True, allow_nan=False) + "\n"


def _csv_number(value: float | None) -> float | str:
    return "" if value is None else value

"""What the lab's pages show: run states in words, preset cards, measured figures."""

from typing import Any

from django.utils import formats
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from courses.translation import ORIGINAL_LANGUAGE, current_language
from lab import selectors
from lab.charts import live_chart
from lab.forms import CHOICE_LABELS
from lab.models import ExperimentRun, Prediction, RunEvent
from sandbox import presets

PLOT_TITLES = {
    "gradient_profile": lambda: _("Gradient norm per layer"),
    "heatmap": lambda: _("Gradient norm per layer over training"),
    "loss": lambda: _("Training loss"),
    "sequence": lambda: _("Gradient norm through time"),
    "clipping": lambda: _("Gradient norm before and after clipping"),
}


def preset_cards(*, language: str) -> list[dict[str, Any]]:
    """The presets in `language` (a code of settings.LANGUAGES, as current_language() gives)."""
    return [
        {
            "key": preset.key,
            "claim": translated(preset.claim, language=language),
            "criterion": translated(preset.criterion, language=language),
            "facts": preset.facts,
            "has_baseline": preset.baseline is not None,
        }
        for preset in presets.PRESETS
    ]


# The presets back facts of the first course, by their numbers (1-19 from the source article, then the course's own).
PRESETS_COURSE = "vanishing-gradient"


def presets_for_lesson(*, course: str, numbers: set[int], language: str) -> list[dict[str, Any]]:
    if course != PRESETS_COURSE:
        return []
    return [card for card in preset_cards(language=language) if numbers & set(card["facts"])]


def translated(texts: dict[str, str], *, language: str | None = None) -> str:
    """A {"de": …, "en": …} text in the reader's language; the original where one is missing."""
    return texts.get(language or current_language()) or texts[ORIGINAL_LANGUAGE]


def run_label(run: ExperimentRun) -> str:
    """The name the learner gave it ("#11 my deep net"), "#12 sigmoid-vanishes", or what the
    spec is: "#13 MLP · 20 layers · relu · he"."""
    if run.name:
        return f"#{run.id} {run.name}"
    if run.kind == ExperimentRun.Kind.CODE:
        return _("#%(id)s own code") % {"id": run.id}
    if run.preset:
        return f"#{run.id} {run.preset}"
    model = run.spec["model"]
    depth = model["depth"]
    parts = [
        model["arch"].upper(),
        ngettext("%(count)d layer", "%(count)d layers", depth) % {"count": depth},
        str(CHOICE_LABELS[model["activation"]]),
        str(CHOICE_LABELS[model["init"]]),
    ]
    if model["norm"] != "none":
        parts.append(str(CHOICE_LABELS[model["norm"]]))
    if model.get("residual"):
        parts.append(_("residual"))
    return f"#{run.id} " + " · ".join(parts)


def status_text(run: ExperimentRun, position: int | None) -> str:
    if run.status == ExperimentRun.Status.QUEUED:
        return _("Waiting in the queue: place %(position)d.") % {"position": position or 1}
    if run.status == ExperimentRun.Status.RUNNING:
        if run.cancel_requested_at:
            return _("Cancelling…")
        return _("Running.")
    return {
        ExperimentRun.Status.SUCCEEDED: _("Finished."),
        ExperimentRun.Status.FAILED: _("Failed."),
        ExperimentRun.Status.TIMED_OUT: _("Stopped: it ran out of time (%(seconds)g s).") % {"seconds": run.limit_s},
        ExperimentRun.Status.CANCELLED: _("Cancelled."),
    }[run.status]


def number(value: float, *, digits: int | None = None, significant: int | None = None) -> str:
    """A number as the reader's language writes it (3,2 in German); -0.0 never."""
    if significant is not None:
        text = f"{value:.{significant}g}"
        if "e" in text:  # 1.3e-17 stays scientific; the decimal mark still follows the language
            mantissa, exponent = text.split("e")
            return f"{formats.number_format(float(mantissa))}e{int(exponent)}"
        return formats.number_format(float(text))
    rounded = round(value, digits or 0) + 0.0  # + 0.0 turns -0.0 into 0.0
    return formats.number_format(rounded, decimal_pos=digits)


def measured(run: ExperimentRun) -> list[tuple[str, str]]:
    """The figures a learner looks for: how much smaller the gradient is at the far end."""
    if not run.result:
        return []
    figures = []
    hidden_layers = len(run.result.get("layers") or []) - 1
    ratio = selectors.depth_ratio(run.result) if hidden_layers >= 2 else None
    if ratio is not None:
        figures.append((_("first ÷ last hidden layer gradient"), number(ratio, significant=2)))
    sequence = selectors.sequence_ratio(run.result) if run.recurrent else None
    if sequence is not None:
        figures.append((_("first ÷ last time step gradient"), number(sequence, significant=2)))
    orders = selectors.orders_of_magnitude(sequence if sequence is not None else ratio)
    if orders is not None:
        figures.append((_("orders of magnitude smaller"), number(orders, digits=1)))
    before = [value for value in run.result.get("grad_norm_total") or [] if value is not None]
    after = [value for value in run.result.get("grad_norm_clipped") or [] if value is not None]
    if before and after:
        figures.append((_("largest gradient norm before clipping"), number(max(before), significant=3)))
        figures.append((_("largest gradient norm after clipping"), number(max(after), significant=3)))
    last_loss = next((value for value in reversed(run.result.get("loss") or []) if value is not None), None)
    if last_loss is not None:
        figures.append((_("final loss"), number(last_loss, significant=4)))
    figures.append((_("compute time"), f"{number(run.result.get('compute_s') or 0, digits=2)} s"))
    return figures


def status_context(*, run: ExperimentRun, viewer, position: int | None) -> dict[str, Any]:
    """What the status region shows: the state in words, and cancel, start again, edit, delete."""
    is_code = run.kind == ExperimentRun.Kind.CODE
    return {
        "run": run,
        "position": position,
        "status_text": status_text(run, position),
        "is_owner": run.owner_id == viewer.id,
        # Code goes back to the editor: running a mistake again as it is would only repeat it.
        "can_edit": is_code and run.is_final,
        "can_retry": not is_code and run.is_final and run.status != ExperimentRun.Status.SUCCEEDED,
    }


def code_html(code: str, *, mark_line: int | None = None) -> SafeString:
    """Learner code, highlighted and escaped by Pygments, numbered, each line a span
    `#code-line-N`; `mark_line` (the line of the error) is marked."""
    formatter = HtmlFormatter(
        linenos="inline", linespans="code-line", hl_lines=[mark_line] if mark_line else [], wrapcode=True
    )
    # stripnl=False: leading blank lines stay, or every line number after them would be off.
    return mark_safe(highlight(code, PythonLexer(stripnl=False), formatter))  # noqa: S308 - Pygments escapes it


def code_context(*, run: ExperimentRun) -> dict[str, Any]:
    """The code a run ran, for its page (not for its live regions: highlighting is not free)."""
    if run.kind != ExperimentRun.Kind.CODE:
        return {"code_html": None}
    line = run.error_line if run.is_final else None
    return {"code_html": code_html(run.code, mark_line=line)}


def progress_context(*, run: ExperimentRun, events: list[RunEvent]) -> dict[str, Any]:
    """What the progress region shows: the bar and the live chart, from the stored events."""
    progress = selectors.progress_of(events)
    return {
        "run": run,
        "progress": progress,
        "percent": round(100 * (1.0 if run.status == ExperimentRun.Status.SUCCEEDED else progress["done"])),
        "chart": live_chart(progress=progress) if progress["steps"] else None,
    }


def final_context(*, run: ExperimentRun) -> dict[str, Any]:
    """What the results region shows once the run is final: figures, verdicts, plots."""
    preset = presets.BY_KEY.get(run.preset)
    return {
        "run": run,
        "plots": [(name, PLOT_TITLES[name]()) for name in run.plots.values_list("name", flat=True)],
        "measured": measured(run),
        # A criterion with no baseline can be judged from this run alone.
        "holds": preset.holds(run.result, None) if preset and run.result and preset.baseline is None else None,
        "prediction": _prediction(run),
    }


def run_context(*, run: ExperimentRun, viewer) -> dict[str, Any]:
    """Everything the run page shows."""
    events = list(run.events.order_by("seq"))
    return {
        **status_context(run=run, viewer=viewer, position=selectors.queue_position(run=run)),
        **progress_context(run=run, events=events),
        **final_context(run=run),
        "last_seq": events[-1].seq if events else 0,
        "preset": next((card for card in preset_cards(language=current_language()) if card["key"] == run.preset), None),
        "label": run_label(run),
    }


def _prediction(run: ExperimentRun) -> dict[str, Any] | None:
    prediction = Prediction.objects.select_related("question").filter(run=run).first()
    if prediction is None:
        return None
    return {
        "prompt": prediction.question.prompt_html,
        "value": number(prediction.value, significant=6),
        "measured": number(prediction.measured, digits=1) if prediction.measured is not None else None,
        "correct": prediction.correct,
        "tolerance": number(prediction.question.data["tolerance"], significant=6),
        "unit": translated(prediction.question.data["unit"]),
        "explanation": prediction.question.explanation_html,
    }


def sandbox_layer_label(name: str) -> str:
    """A layer the sandbox names (`python -m sandbox serve` at start), in the reader's language."""
    labels = {
        "namespaces, tmpfs and a uid per run": _("namespaces, a private working folder and a user id per run"),
        "control groups": _("control groups (one memory and process cap for the whole run)"),
        "landlock": _("Landlock (what a run may read and write)"),
        # The layers `python -m sandbox check` and a service's start name (sandbox/cli.py).
        "PID namespace": _("a PID namespace per run (no other process can be named)"),
        "private tmpfs": _("a private working folder per run (its own tmpfs)"),
        "fresh procfs": _("a /proc of its own per run"),
        "network namespace": _("a network namespace per run (no network)"),
        "IPC and UTS namespaces": _("IPC and UTS namespaces per run"),
        "cgroup namespace": _("a cgroup namespace per run"),
        "a uid of its own": _("a user id per run"),
        "a user namespace of its own": _("a user namespace per run"),
        "no capabilities": _("no capabilities in the run"),
        "control group (memory and process caps for the whole run)": _(
            "control groups (one memory and process cap for the whole run)"
        ),
        "seccomp": _("seccomp (the system calls a run may make)"),
        "no-new-privileges": _("no new privileges"),
        "socket creation denied": _("no sockets in the run"),
    }
    return labels.get(name, name)

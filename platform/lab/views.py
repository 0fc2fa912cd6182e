from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from courses.models import Course
from courses.translation import current_language
from gradlab import health, inputs
from lab import presentation, selectors, services
from lab.charts import comparison_chart, shade
from lab.forms import SpecForm
from lab.models import ExperimentRun
from quizzes import grading
from quizzes.models import Question
from sandbox import presets

MAX_COMPARED = 6
QUEUE_DOWN = gettext_lazy("Experiments cannot be queued right now: the task queue is not reachable. Try again later.")
NO_WORKER = gettext_lazy("Experiments cannot run right now: no lab worker is running. Try again later.")
NO_SANDBOX = gettext_lazy(
    "Experiments cannot run right now: the lab’s sandbox service is not running. Try again later."
)


def services_refusal() -> str:
    """Why no run can start now (no live worker, no live sandbox service, from their
    heartbeats), or "": a run queued then would wait for nobody or fail at once."""
    alive = selectors.services_alive(now=timezone.now())
    if not alive["worker"]:
        return str(NO_WORKER)
    if not alive["sandbox"]:
        return str(NO_SANDBOX)
    return ""


def _refusal() -> str:
    if health.broker_state() != "ok":
        return str(QUEUE_DOWN)
    return services_refusal()


def _home_context(
    request: HttpRequest,
    *,
    form: SpecForm | None = None,
    code: str = "",
    template: str = "mlp",
    tab: str = "",
    refusal: str = "",
):
    # A refused POST shows the form again with what it was given: the preset, the course.
    query = request.POST if request.method == "POST" else request.GET
    chosen = presets.BY_KEY.get(query.get("preset", ""))
    course = _course(query)
    if form is None:
        form = SpecForm(initial=SpecForm.initial_from(chosen.spec if chosen else {}), gpu=settings.LAB_GPU_WORKERS)
    template = request.GET.get("template", template)
    template = template if template in selectors.CODE_TEMPLATES else "mlp"
    draft = selectors.draft_for(user=request.user, template=template)
    runs = [(run, presentation.run_label(run)) for run in selectors.own_runs(user=request.user)[:50]]
    return {
        "form": form,
        "presets": presentation.preset_cards(language=current_language()),
        "chosen": chosen,
        "course": course,
        "predictions": [
            (question, presentation.translated(question.data["unit"]))
            for question in (selectors.prediction_questions(preset=chosen.key) if chosen else [])
        ],
        "tab": tab or ("code" if request.GET.get("tab") == "code" else "builder"),
        "refusal": refusal,
        # What was posted (a refusal), else the learner's draft, else the template.
        "code": code or (draft.code if draft else selectors.template_code(template)),
        "draft": draft,
        "template": template,
        "runs": runs,
        "queues": selectors.queue_lengths(),
        "broker_ok": health.broker_state() == "ok",
        "services_down": services_refusal(),
        "limits": {
            "active": settings.LAB_MAX_ACTIVE_RUNS,
            "daily_minutes": settings.LAB_DAILY_COMPUTE_S // 60,
            "used_minutes": round(selectors.compute_used_today(user=request.user, now=timezone.now()) / 60, 1),
        },
    }


@require_safe
@login_required
@never_cache  # Back must show the draft as it is now, never a copy the browser kept
def home(request: HttpRequest) -> HttpResponse:
    return TemplateResponse(request, "lab/home.html", _home_context(request))


@require_POST
@login_required
def run_create(request: HttpRequest) -> HttpResponse:
    is_code = "code" in request.POST
    code = request.POST.get("code", "")
    template = request.POST.get("template", "mlp")
    template = template if template in selectors.CODE_TEMPLATES else "mlp"
    preset = presets.BY_KEY.get(request.POST.get("preset", ""))
    course = _course(request.POST)
    form = SpecForm(None if is_code else request.POST, gpu=settings.LAB_GPU_WORKERS)
    if is_code:
        try:
            code = inputs.parse_text(code, field="code", label=_("Your code"))
        except inputs.InputError as error:
            code = code.replace(inputs.NUL, "")
            return _form_refused(request, form=form, message=error.message, code=code, template=template, is_code=True)
        try:  # kept before anything else may refuse the run: the code survives every refusal
            services.draft_save(owner=request.user, template=template, code=code)
        except services.LabError as error:
            return _form_refused(request, form=form, message=error.message, code=code, template=template, is_code=True)
        if not code.strip():
            message = _("Write some code to run first.")
            return _form_refused(request, form=form, message=message, code=code, template=template, is_code=True)
        spec = selectors.CODE_TEMPLATES[template]
    elif form.is_valid():
        spec = form.spec
        # A preset is named only while its spec is unchanged: otherwise its claim would not apply.
        if preset is not None and presets.Preset.as_json(preset)["spec"] != spec:
            preset = None
    else:
        return _form_refused(request, form=form, message=_("Please correct the marked fields."))
    if refusal := _refusal():
        return _form_refused(request, form=form, message=refusal, code=code, template=template, is_code=is_code)
    try:
        run = services.run_create(
            owner=request.user,
            spec=spec,
            code=code,
            preset=preset.key if preset else "",
            course=course,
            language=current_language(),
        )
    except services.LabError as error:
        for problem in error.problems:
            form.add_error(None, problem)
        return _form_refused(request, form=form, message=error.message, code=code, template=template, is_code=is_code)
    return _go_to(request, run)


def _course(query) -> Course | None:
    """The live course a form or link names (runs started from its lessons), if any."""
    key = inputs.parse_key(query.get("course"))
    return Course.objects.live().filter(key=key).first() if key else None


def _form_refused(
    request: HttpRequest,
    *,
    form: SpecForm | None = None,
    message: str,
    code: str = "",
    template: str = "mlp",
    is_code: bool = False,
) -> HttpResponse:
    """The lab's page again, saying why inside the region htmx swaps; 422 for a plain form post."""
    context = _home_context(
        request, form=form, code=code, template=template, tab="code" if is_code else "", refusal=message
    )
    return TemplateResponse(request, "lab/home.html", context, status=422 if not request.htmx else 200)


def _code_tab(template: str) -> str:
    return f"{reverse('lab:home')}?tab=code&template={template}#code-heading"


@require_POST
@login_required
def draft_save(request: HttpRequest) -> HttpResponse:
    """The editor's content kept as the learner's draft: as they type (htmx), or by its button."""
    template = request.POST.get("template", "")
    raw = request.POST.get("code", "")
    try:
        code = inputs.parse_text(raw, field="code", label=_("Your code"))
        draft = services.draft_save(owner=request.user, template=template, code=code)
    except (inputs.InputError, services.LabError) as error:
        if request.htmx:
            return TemplateResponse(request, "lab/home.html#draft-status", {"draft_error": error.message})
        code = raw.replace(inputs.NUL, "")
        return _form_refused(request, message=error.message, code=code, template=template, is_code=True)
    if request.htmx:
        return TemplateResponse(request, "lab/home.html#draft-status", {"draft": draft})
    messages.success(request, _("Your code is saved as your draft."))
    return redirect(_code_tab(template))


@require_POST
@login_required
def draft_reset(request: HttpRequest) -> HttpResponse:
    template = request.POST.get("template", "")
    if template not in selectors.CODE_TEMPLATES:
        raise Http404("no such template")
    services.draft_reset(owner=request.user, template=template)
    messages.success(request, _("The editor holds the template again."))
    return redirect(_code_tab(template))


def _go_to(request: HttpRequest, run: ExperimentRun) -> HttpResponse:
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = run.get_absolute_url()
        return response
    return redirect(run)


@require_POST
@login_required
def prediction_create(request: HttpRequest) -> HttpResponse:
    question_id = inputs.parse_id(request.POST.get("question"))
    if question_id is None:
        raise Http404("no such prediction question")
    question = get_object_or_404(Question.objects.live().filter(type=Question.Type.PREDICTION), pk=question_id)
    form = SpecForm(initial=SpecForm.initial_from(presets.BY_KEY[question.data["preset"]].spec))
    try:
        value = grading.parse_answer(question.type, question.data, request.POST)
    except grading.AnswerError:
        return _form_refused(request, form=form, message=_("Enter your prediction as a number, for example 6 or 2.5."))
    if refusal := _refusal():
        return _form_refused(request, form=form, message=refusal)
    try:
        run = services.prediction_make(owner=request.user, question=question, value=value, language=current_language())
    except services.LabError as error:
        return _form_refused(request, form=form, message=error.message)
    return _go_to(request, run)


@require_safe
@login_required
@vary_on_headers("HX-Request")
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    run = selectors.run_for_viewer(user=request.user, run_id=run_id)
    if request.htmx:
        # The fallback without server-sent events: poll until final; 286 tells htmx to stop.
        context = presentation.run_context(run=run, viewer=request.user) | {"polling": True}
        return TemplateResponse(request, "lab/run.html#run", context, status=286 if run.is_final else 200)
    return _run_page(request, run)


def _run_page(request: HttpRequest, run: ExperimentRun, *, status: int = 200, **extra) -> TemplateResponse:
    context = presentation.run_context(run=run, viewer=request.user) | presentation.code_context(run=run) | extra
    return TemplateResponse(request, "lab/run.html", context, status=status)


def _own_run(request: HttpRequest, run_id: int) -> ExperimentRun:
    return get_object_or_404(selectors.own_runs(user=request.user), pk=run_id)


@require_POST
@login_required
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    run = services.run_cancel(run=_own_run(request, run_id))
    if request.htmx:
        context = presentation.run_context(run=run, viewer=request.user)
        return TemplateResponse(request, "lab/run.html#run-status", context)
    return redirect(run)


@require_POST
@login_required
def run_retry(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _own_run(request, run_id)
    if refusal := _refusal():
        messages.error(request, refusal)
        return redirect(run)
    try:
        again = services.run_retry(run=run, language=current_language())
    except services.LabError as error:
        messages.error(request, error.message)
        return redirect(run)
    return _go_to(request, again)


@require_POST
@login_required
def run_edit(request: HttpRequest, run_id: int) -> HttpResponse:
    """Edit and run again: the run's code becomes the draft, and the editor opens with it."""
    run = _own_run(request, run_id)
    if run.kind != ExperimentRun.Kind.CODE:
        raise Http404("this run ran no code")
    template = selectors.template_of(run)
    services.draft_save(owner=request.user, template=template, code=run.code)
    messages.success(request, _("The code of run %(id)s is in the editor.") % {"id": run.id})
    return redirect(_code_tab(template))


@require_POST
@login_required
def run_name(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _own_run(request, run_id)
    error = ""
    try:
        run = services.run_name(run=run, name=request.POST.get("name", ""))
    except services.LabError as refused:
        error = refused.message
    if request.htmx:
        context = {"run": run, "label": presentation.run_label(run), "is_owner": True, "name_error": error}
        return TemplateResponse(request, "lab/run.html#run-name", context)
    if error:
        return _run_page(request, run, status=422, name_error=error)
    return redirect(run)


@require_POST
@login_required
def run_delete(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _own_run(request, run_id)
    try:
        services.run_delete(run=run)
    except services.LabError as error:
        messages.error(request, error.message)
        return redirect(run)
    messages.success(request, _("Run %(id)s is deleted.") % {"id": run.id})
    return redirect("lab:home")


@require_safe
@login_required
def run_plot(request: HttpRequest, run_id: int, name: str) -> HttpResponse:
    run = selectors.run_for_viewer(user=request.user, run_id=run_id)
    plot = get_object_or_404(run.plots, name=name)
    response = HttpResponse(plot.svg, content_type="image/svg+xml")
    # Drawn by our worker, but served as a document of its own it must not run anything.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    if request.GET.get("download"):
        response["Content-Disposition"] = f'attachment; filename="gradlab-run-{run.id}-{name}.svg"'
    return response


@require_safe
@login_required
def run_data(request: HttpRequest, run_id: int, fmt: str) -> HttpResponse:
    from lab import numbers

    run = selectors.run_for_viewer(user=request.user, run_id=run_id)
    if not run.result:
        raise Http404("this run has no numbers")
    if fmt not in ("csv", "json"):
        raise Http404("no such format")
    if fmt == "csv":
        response = HttpResponse(numbers.data_csv(result=run.result), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(numbers.data_json(result=run.result), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="gradlab-run-{run.id}.{fmt}"'
    return response


@require_safe
@login_required
def compare(request: HttpRequest) -> HttpResponse:
    ids = inputs.parse_ids(request.GET.getlist("run"))[:MAX_COMPARED]
    runs = list(selectors.runs_visible_to(user=request.user).filter(pk__in=ids, status="succeeded"))
    runs.sort(key=lambda run: ids.index(run.id))
    profiles = selectors.gradient_profiles(runs=runs)
    for index, profile in enumerate(profiles):
        profile["label"] = presentation.run_label(profile["run"])
        profile["shade"] = shade(index, len(profiles))
        ratio = profile["ratio"]
        profile["ratio_text"] = presentation.number(ratio, significant=2) if ratio is not None else "–"
    context = {
        "runs": runs,
        "profiles": profiles,
        "chart": comparison_chart(profiles=profiles) if len(profiles) >= 2 else None,
        "choices": [
            (run.id, presentation.run_label(run))
            for run in selectors.runs_visible_to(user=request.user).filter(owner=request.user, status="succeeded")[:50]
        ],
        "chosen": ids,
    }
    if len(profiles) < 2:
        messages.info(request, _("Choose two or more finished runs to compare."))
    return TemplateResponse(request, "lab/compare.html", context)

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe
from django.views.decorators.vary import vary_on_headers

from cards import scheduling, selectors, services
from cards.models import Card, ReviewLog
from cards.presentation import card_sides, interval_text
from courses.models import Course
from gradlab import inputs

MAX_DURATION_MS = 3_600_000  # a longer look at one card is a learner who walked away


def _review_context(request: HttpRequest, *, show: bool, notice: str = "") -> dict:
    now = timezone.now()
    queue = selectors.review_queue(user=request.user, now=now)
    settings = services.review_settings_get(user=request.user)
    context = {"queue": queue, "show": show, "notice": notice, "has_deck": request.user.card_decks.exists()}
    card = queue.card
    if card is not None:
        current = scheduling.fsrs_card(queue.learner_card, card_id=card.id, now=now)
        intervals = scheduling.next_intervals(current, desired_retention=settings.desired_retention, now=now)
        context |= {
            "card": card,
            "sides": card_sides(card),
            "version": queue.learner_card.version if queue.learner_card else 0,
            "is_new": queue.learner_card is None,
            "ratings": [
                (value, str(label), interval_text(intervals[value])) for value, label in ReviewLog.Rating.choices
            ],
        }
    # The rating an undo takes back, named in its form so that it is taken back once.
    context["undo_log"] = request.user.review_logs.order_by("-id").values_list("id", flat=True).first()
    if queue.next_due is not None:
        context["next_due_local"] = timezone.localtime(queue.next_due, selectors.learner_zone(settings))
    return context


def _review_response(request: HttpRequest, **context) -> HttpResponse:
    template = "cards/review.html#review-region" if request.htmx else "cards/review.html"
    return TemplateResponse(request, template, _review_context(request, **context))


@require_safe
@login_required
@vary_on_headers("HX-Request")
def review(request: HttpRequest) -> HttpResponse:
    return _review_response(request, show=request.GET.get("show") == "1")


@require_POST
@login_required
def rate(request: HttpRequest) -> HttpResponse:
    notice = ""
    card_id = inputs.parse_id(request.POST.get("card"))
    rating = inputs.parse_int(request.POST.get("rating"), low=1, high=4)
    version = inputs.parse_int(request.POST.get("version"), high=inputs.MAX_INT)
    card = (
        Card.objects.live()
        .select_related("note")
        .filter(pk=card_id, note__course__card_decks__user=request.user)
        .first()
        if card_id is not None
        else None
    )
    if card is None or rating is None or version is None:
        notice = _("That rating could not be read. Please rate the card again.")
    else:
        duration = inputs.parse_int(request.POST.get("duration_ms"))
        duration_ms = min(duration, MAX_DURATION_MS) if duration is not None else None
        try:
            services.card_rate(
                user=request.user,
                card=card,
                rating=rating,
                version=version,
                now=timezone.now(),
                duration_ms=duration_ms,
            )
        except services.AlreadyRated:
            notice = _("This card was already rated (in another tab?). Here is the next one.")
    if request.htmx:
        return _review_response(request, show=False, notice=notice)
    if notice:
        messages.info(request, notice)
    return redirect("cards:review")


@require_POST
@login_required
def undo(request: HttpRequest) -> HttpResponse:
    log_id = inputs.parse_id(request.POST.get("log"))
    undone = services.review_undo(user=request.user, log_id=log_id) if log_id is not None else None
    notice = _("The last rating was taken back.") if undone else _("There is no rating to take back.")
    if request.htmx:
        return _review_response(request, show=bool(undone), notice=notice)
    messages.info(request, notice)
    return redirect(reverse("cards:review") + ("?show=1" if undone else ""))


@require_POST
@login_required
def deck_add(request: HttpRequest, course: str) -> HttpResponse:
    course = get_object_or_404(Course.objects.live(), key=course)
    services.deck_add(user=request.user, course=course)
    messages.success(request, _("The cards of this course are in your deck. New ones come a few a day."))
    return redirect("cards:review")


@require_POST
@login_required
def deck_remove(request: HttpRequest, course: str) -> HttpResponse:
    course = get_object_or_404(Course.objects.live(), key=course)
    services.deck_remove(user=request.user, course=course)
    messages.info(request, _("No new cards of this course will come. Your progress is kept."))
    return redirect(course)


def _retention(raw: str) -> float | None:
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return None


@login_required
def review_settings(request: HttpRequest) -> HttpResponse:
    current = services.review_settings_get(user=request.user)
    errors = {}
    if request.method == "POST":
        retention = _retention(request.POST.get("desired_retention", ""))
        new_per_day = inputs.parse_int(request.POST.get("new_per_day"))
        if retention is None or new_per_day is None:
            errors["form"] = _("Please enter numbers: retention like 0.9, new cards like 20.")
        else:
            try:
                services.review_settings_set(
                    user=request.user,
                    desired_retention=retention,
                    new_per_day=new_per_day,
                    time_zone=request.POST.get("time_zone", ""),
                )
            except services.SettingsError as error:
                errors[error.field] = {
                    "retention": _("Desired retention must be between 0.70 and 0.97."),
                    "new-per-day": _("New cards per day must be between 0 and 500."),
                    "time-zone": _("Please choose a time zone from the list."),
                }[str(error)]
            else:
                messages.success(request, _("Your review settings are saved."))
                return redirect("cards:settings")
    return TemplateResponse(
        request,
        "cards/settings.html",
        {"settings": current, "errors": errors, "zones": selectors.time_zones(), "post": request.POST},
        status=400 if errors else 200,
    )

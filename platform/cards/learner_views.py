"""The learner's statistics page and the exports of their cards."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import get_format
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from cards import charts, export, selectors, services
from courses.translation import current_language

APKG_TYPE = "application/octet-stream"
CSV_TYPE = "text/csv; charset=utf-8"


def download(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    return HttpResponse(
        content,
        content_type=content_type,
        headers={"Content-Disposition": content_disposition_header(as_attachment=True, filename=filename)},
    )


@require_safe
@login_required
def stats(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    settings = services.review_settings_get(user=request.user)
    today = now.astimezone(selectors.learner_zone(settings)).date()
    statistics = selectors.review_statistics(user=request.user, now=now)
    # Django counts weekdays from Sunday (0), Python from Monday (0).
    first_weekday = (int(get_format("FIRST_DAY_OF_WEEK")) - 1) % 7
    weeks = charts.calendar_weeks(reviews_per_day=statistics.reviews_per_day, today=today, first_weekday=first_weekday)
    labels = charts.state_labels()
    retention = statistics.true_retention
    return TemplateResponse(
        request,
        "cards/stats.html",
        {
            "statistics": statistics,
            "weeks": weeks,
            "weekday_names": charts.weekday_names(first_weekday),
            "heatmap": charts.heatmap_svg(weeks=weeks, first_weekday=first_weekday),
            "reviews_total": sum(week.total for week in weeks),
            "states": [(labels[state], statistics.by_state.get(state, 0)) for state in charts.STATES],
            "states_chart": charts.states_svg(by_state=statistics.by_state),
            "forecast_chart": charts.forecast_svg(forecast=statistics.forecast),
            "retention_percent": None if retention is None else 100 * retention,
            "retention_passed": None if retention is None else round(retention * statistics.retention_reviews),
            "desired_percent": 100 * settings.desired_retention,
        },
    )


@require_safe
@login_required
def export_apkg(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    notes = export.learner_notes(user=request.user)
    content = export.anki_package(notes=notes, language=current_language(), now=now)
    return download(content, filename=f"gradlab-cards-{now:%Y-%m-%d}.apkg", content_type=APKG_TYPE)


@require_safe
@login_required
def export_csv(request: HttpRequest) -> HttpResponse:
    content = export.notes_csv(notes=export.learner_notes(user=request.user))
    return download(content, filename=f"gradlab-cards-{timezone.now():%Y-%m-%d}.csv", content_type=CSV_TYPE)

"""The statistics charts on hand-made numbers, and the statistics page of a learner who reviews."""

import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cards import charts, services
from cards.models import LearnerCard

SVG = "{http://www.w3.org/2000/svg}"
TODAY = date(2026, 11, 30)  # a Monday


@pytest.fixture(autouse=True)
def english():
    """The dates in the charts' titles are read in English here, whatever a test before left active."""
    with translation.override("en"):
        yield


def parse(svg: str) -> ET.Element:
    """The SVG must be well-formed XML: that also shows every text was escaped."""
    return ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input


def rects(root: ET.Element, css: str) -> list[ET.Element]:
    return [rect for rect in root.iter(f"{SVG}rect") if css in rect.get("class", "").split()]


def texts(root: ET.Element) -> list[str]:
    return [text.text for text in root.iter(f"{SVG}text")]


def heatmap(reviews: dict, first_weekday: int = 0) -> ET.Element:
    weeks = charts.calendar_weeks(reviews_per_day=reviews, today=TODAY, first_weekday=first_weekday)
    return parse(charts.heatmap_svg(weeks=weeks, first_weekday=first_weekday))


def forecast(counts: list[int]) -> ET.Element:
    return parse(charts.forecast_svg(forecast=[(TODAY + timedelta(days=n), count) for n, count in enumerate(counts)]))


# ---------------------------------------------------------------- heatmap


def test_it_draws_one_heatmap_cell_per_day_from_the_first_week_to_today():
    cells = rects(heatmap({}), "day")
    # 26 weeks from Monday to Sunday, the last of them ends with today, a Monday: 25 weeks and one day.
    assert len(cells) == 25 * 7 + 1
    assert cells[-1].find(f"{SVG}title").text.startswith("Nov. 30, 2026: 0 reviews")


def test_it_starts_the_weeks_on_the_first_weekday_it_is_given():
    weeks = charts.calendar_weeks(reviews_per_day={}, today=TODAY, first_weekday=6)  # Sunday
    assert weeks[-1].start == date(2026, 11, 29)
    assert [day is None for day in weeks[-1].days] == [False, False, True, True, True, True, True]
    assert len(rects(heatmap({}, first_weekday=6), "day")) == 25 * 7 + 2


def test_it_shades_a_day_by_its_share_of_the_busiest_day():
    root = heatmap({TODAY: 8, TODAY - timedelta(days=1): 2, TODAY - timedelta(days=2): 5})
    levels = {cell.find(f"{SVG}title").text.split(":")[0]: cell.get("class") for cell in rects(root, "day")}
    assert levels["Nov. 30, 2026"] == "day heat-4"
    assert levels["Nov. 29, 2026"] == "day heat-1"
    assert levels["Nov. 28, 2026"] == "day heat-3"
    assert levels["Nov. 27, 2026"] == "day heat-0"


def test_its_legend_names_the_counts_of_each_shade():
    root = heatmap({TODAY: 8})
    assert charts.heat_ranges(8) == [(0, 0, 0), (1, 1, 2), (2, 3, 4), (3, 5, 6), (4, 7, 8)]
    assert {"0", "1–2", "3–4", "5–6", "7–8", "reviews a day"} <= set(texts(root))


def test_it_labels_the_months():
    labels = texts(heatmap({}))
    assert {"Jun", "Jul", "Aug", "Sep", "Oct", "Nov"} <= set(labels)


# ---------------------------------------------------------------- forecast


def test_forecast_bars_are_proportional_to_their_counts():
    counts = [6, 3, 0, 1] + [0] * 26
    bars = rects(forecast(counts), "bar-due")
    assert len(bars) == 30
    heights = [float(bar.get("height")) for bar in bars]
    assert heights[0] / heights[1] == pytest.approx(2, rel=1e-3)  # coordinates have two decimals
    assert heights[0] / heights[3] == pytest.approx(6, rel=1e-3)
    assert heights[2] == 0
    bottoms = {round(float(bar.get("y")) + float(bar.get("height")), 2) for bar in bars}
    assert len(bottoms) == 1  # all stand on the axis


def test_forecast_has_a_count_axis_with_round_ticks_and_day_labels():
    labels = texts(forecast([7] + [0] * 29))
    assert charts.axis_ticks(7) == [0, 2, 4, 6, 8]
    assert [label for label in labels if label.isdigit()] == ["0", "2", "4", "6", "8"]
    assert "cards due" in labels
    assert "today" in labels
    assert "7 Dec" in labels


def test_axis_ticks_stay_round_for_large_and_empty_counts():
    assert charts.axis_ticks(0) == [0, 1]
    assert charts.axis_ticks(3) == [0, 1, 2, 3]
    assert charts.axis_ticks(170) == [0, 50, 100, 150, 200]


def test_forecast_says_when_nothing_is_due():
    root = forecast([0] * 30)
    assert root.find(f"{SVG}desc").text == "No cards are due in the next 30 days."


# ---------------------------------------------------------------- states


def test_state_bars_are_as_long_as_their_counts_and_show_them():
    root = parse(charts.states_svg(by_state={"new": 10, "learning": 5, "review": 0, "relearning": 1}))
    widths = {bar.get("class").split()[1]: float(bar.get("width")) for bar in rects(root, "bar")}
    assert widths["state-new"] == pytest.approx(2 * widths["state-learning"])
    assert widths["state-new"] == pytest.approx(10 * widths["state-relearning"])
    assert widths["state-review"] == 0
    assert texts(root) == ["New", "10", "Learning", "5", "Review", "0", "Relearning", "1"]


# ---------------------------------------------------------------- all charts


@pytest.mark.parametrize(
    "svg",
    [
        pytest.param(
            lambda: charts.heatmap_svg(weeks=charts.calendar_weeks(reviews_per_day={}, today=TODAY)), id="heatmap"
        ),
        pytest.param(lambda: charts.states_svg(by_state={}), id="states"),
        pytest.param(lambda: charts.forecast_svg(forecast=[(TODAY, 1)]), id="forecast"),
    ],
)
def test_every_chart_is_an_accessible_scalable_image(svg):
    root = parse(svg())
    assert root.get("role") == "img"
    assert root.get("width") == "100%"
    assert root.get("viewBox").startswith("0 0 ")
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert 'fill="#' not in svg()  # colours come from the stylesheet


def test_it_escapes_every_text(monkeypatch):
    monkeypatch.setattr(
        charts, "state_labels", lambda: dict.fromkeys(charts.STATES, '<script>alert("x")</script> & co')
    )
    svg = charts.states_svg(by_state={"new": 1})
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in svg
    assert texts(parse(svg))[0] == '<script>alert("x")</script> & co'


# ---------------------------------------------------------------- the page


@pytest.fixture
def reviewed(learner, card_course, cards):
    """Lena added the test course two days ago: she rated one card Easy then, and Good today."""
    services.deck_add(user=learner, course=card_course)
    now = timezone.now()
    services.card_rate(user=learner, card=cards[0], rating=4, version=0, now=now - timedelta(days=2))
    services.card_rate(user=learner, card=cards[0], rating=3, version=1, now=now - timedelta(minutes=5))
    services.card_rate(user=learner, card=cards[1], rating=1, version=0, now=now - timedelta(minutes=3))
    return learner


def test_it_shows_a_learner_her_statistics(client, reviewed):
    client.force_login(reviewed)
    response = client.get(reverse("cards:stats"))
    assert response.status_code == 200
    page = response.content.decode()
    for name in ("heatmap", "states", "forecast"):
        assert f'class="chart chart-{name}"' in page
    assert "3 reviews in all" in page
    assert "100.0 %" in page  # one review of a card in the review state, not rated Again
    assert "from 1 review of cards in the review state" in page
    assert response.context["statistics"].by_state == {"new": 3, "learning": 1, "review": 1, "relearning": 0}
    assert LearnerCard.objects.filter(user=reviewed).count() == 2


def test_the_table_under_the_states_chart_holds_the_same_numbers(client, reviewed):
    client.force_login(reviewed)
    page = client.get(reverse("cards:stats")).content.decode()
    table = page.split("Cards by state as a table")[1].split("</table>")[0]
    assert '<th scope="row">New</th><td>3</td>' in table
    assert '<th scope="row">Learning</th><td>1</td>' in table


def test_it_says_there_are_not_enough_reviews_for_a_new_learner(client, learner):
    client.force_login(learner)
    response = client.get(reverse("cards:stats"))
    assert response.status_code == 200
    assert "Not enough reviews yet." in response.content.decode()


def test_it_leads_back_to_the_review_page(client, learner):
    client.force_login(learner)
    page = client.get(reverse("cards:stats")).content.decode()
    assert f'<a href="{reverse("cards:review")}">Review</a> › Statistics' in page


def test_it_sends_anonymous_visitors_to_log_in(client):
    response = client.get(reverse("cards:stats"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))

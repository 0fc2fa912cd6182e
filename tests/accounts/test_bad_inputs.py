"""A `next` that is a relative URL looking like a view's name once gave signup a 500."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("next_url", ["0", "home", "signup"])
def test_a_signed_in_visitor_is_sent_to_next_as_a_url_even_one_that_names_no_view(client, learner, next_url):
    client.force_login(learner)

    response = client.get(reverse("signup"), {"next": next_url})

    assert response.status_code == 302 and response.url == next_url

"""The code editor's draft: kept on the server per learner and template, as they type and
when they run it, shown again after an error, Back or a reload, reset to the template."""

import pytest
from django.utils.html import escape

from lab import selectors, services
from lab.models import CodeDraft, ExperimentRun
from tests.lab.test_views import HTMX, broker_down, lab_main, template_code

pytestmark = pytest.mark.django_db
BROKEN = "import torch\n\nx = (1,\nlab.track(x)\n"


def editor(response) -> str:
    """What the code editor's textarea holds, as the page sends it."""
    text = response.text
    start = text.index(">", text.index('<textarea id="code"')) + 1
    return text[start : text.index("</textarea>", start)]


# The services


def test_it_keeps_one_draft_per_learner_and_template(learner, other_learner):
    services.draft_save(owner=learner, template="mlp", code="a = 1\n")
    services.draft_save(owner=learner, template="mlp", code="a = 2\n")
    services.draft_save(owner=learner, template="rnn", code="b = 1\n")
    services.draft_save(owner=other_learner, template="mlp", code="c = 1\n")

    assert selectors.draft_for(user=learner, template="mlp").code == "a = 2\n"
    assert selectors.draft_for(user=learner, template="rnn").code == "b = 1\n"
    assert selectors.draft_for(user=other_learner, template="mlp").code == "c = 1\n"
    assert CodeDraft.objects.count() == 3


def test_it_refuses_a_draft_over_the_runs_size_limit_and_keeps_the_old_one(learner):
    services.draft_save(owner=learner, template="mlp", code="a = 1\n")

    with pytest.raises(services.LabError) as refused:
        services.draft_save(owner=learner, template="mlp", code="#" * (services.MAX_CODE_BYTES + 1))

    assert refused.value.message == "The code is longer than 64 KiB."
    assert selectors.draft_for(user=learner, template="mlp").code == "a = 1\n"


def test_it_counts_the_size_limit_in_bytes_not_characters(learner):
    with pytest.raises(services.LabError):
        services.draft_save(owner=learner, template="mlp", code="ä" * (services.MAX_CODE_BYTES // 2 + 1))


def test_it_refuses_a_draft_of_a_template_that_does_not_exist(learner):
    with pytest.raises(services.LabError) as refused:
        services.draft_save(owner=learner, template="../settings", code="a = 1\n")

    assert refused.value.message == "There is no code template called “../settings”."
    assert not CodeDraft.objects.exists()


def test_it_resets_only_the_one_template(learner):
    services.draft_save(owner=learner, template="mlp", code="a = 1\n")
    services.draft_save(owner=learner, template="rnn", code="b = 1\n")

    services.draft_reset(owner=learner, template="mlp")

    assert selectors.draft_for(user=learner, template="mlp") is None
    assert selectors.draft_for(user=learner, template="rnn").code == "b = 1\n"


# The editor shows it


def test_it_shows_the_template_while_there_is_no_draft(client, learner):
    client.force_login(learner)

    response = client.get("/lab/?tab=code")

    assert editor(response) == "\n" + template_code("mlp")
    assert "Reset to the template" not in response.text


def test_it_opens_the_editor_with_the_draft(client, learner):
    services.draft_save(owner=learner, template="mlp", code=BROKEN)
    client.force_login(learner)

    response = client.get("/lab/?tab=code")

    # The newline after <textarea> is the one HTML drops: the code keeps its own first line.
    assert editor(response) == "\n" + escape(BROKEN)
    assert "Your draft, saved at" in response.text
    assert "Reset to the template" in response.text


def test_it_keeps_a_drafts_leading_blank_line(client, learner):
    services.draft_save(owner=learner, template="mlp", code="\nx = 1\n")
    client.force_login(learner)

    # HTML drops one newline right after <textarea>: the page sends one more than the code has.
    assert editor(client.get("/lab/?tab=code")) == "\n\nx = 1\n"


def test_it_opens_the_draft_of_the_chosen_template(client, learner):
    services.draft_save(owner=learner, template="mlp", code="mine = 1\n")
    client.force_login(learner)

    response = client.get("/lab/?tab=code&template=rnn")

    assert editor(response) == "\n" + template_code("rnn")


def test_it_never_shows_a_learner_another_learners_draft(client, learner, other_learner):
    services.draft_save(owner=learner, template="mlp", code="secret = 42\n")
    client.force_login(other_learner)

    response = client.get("/lab/?tab=code")

    assert "secret = 42" not in response.text


def test_it_tells_the_browser_to_keep_no_copy_of_the_lab_page(client, learner):
    client.force_login(learner)

    response = client.get("/lab/?tab=code")

    assert "no-store" in response["Cache-Control"]  # Back asks the server, which has the draft


# Saving it


def test_it_saves_the_draft_as_htmx_posts_it_and_says_so(client, learner):
    client.force_login(learner)

    response = client.post("/lab/draft", {"template": "mlp", "code": BROKEN}, headers=HTMX)

    assert response.status_code == 200
    assert response.text.lstrip().startswith('<p class="hint draft-status" id="draft-status" role="status">')
    assert "Your draft, saved at" in response.text
    assert selectors.draft_for(user=learner, template="mlp").code == BROKEN


def test_it_says_why_a_draft_is_not_saved_and_keeps_the_old_one(client, learner):
    services.draft_save(owner=learner, template="mlp", code="a = 1\n")
    client.force_login(learner)

    response = client.post("/lab/draft", {"template": "mlp", "code": "#" * (64 * 1024 + 1)}, headers=HTMX)

    assert response.status_code == 200  # htmx swaps in what 2xx answers
    assert 'role="alert"' in response.text
    assert "Your draft is not saved: The code is longer than 64 KiB." in response.text
    assert selectors.draft_for(user=learner, template="mlp").code == "a = 1\n"


def test_it_refuses_a_draft_with_a_nul_character_naming_the_field(client, learner):
    client.force_login(learner)

    response = client.post("/lab/draft", {"template": "mlp", "code": "a = 1\x00\n"}, headers=HTMX)

    assert "Your code contains a NUL character, which cannot be stored." in response.text
    assert not CodeDraft.objects.exists()


def test_it_saves_the_draft_from_a_plain_form_post_and_goes_back_to_the_editor(client, learner):
    client.force_login(learner)

    response = client.post("/lab/draft", {"template": "rnn", "code": "b = 1\n"}, follow=True)

    assert response.redirect_chain == [("/lab/?tab=code&template=rnn#code-heading", 302)]
    assert "Your code is saved as your draft." in response.text
    assert editor(response) == "\nb = 1\n"


def test_it_answers_a_plain_post_of_a_bad_draft_with_the_code_and_why(client, learner):
    client.force_login(learner)

    response = client.post("/lab/draft", {"template": "nope", "code": "b = 1\n"})

    assert response.status_code == 422
    assert "There is no code template called “nope”." in response.text
    assert editor(response) == "\nb = 1\n"


def test_it_sends_a_visitor_to_log_in_before_saving_a_draft(client):
    response = client.post("/lab/draft", {"template": "mlp", "code": "a = 1\n"})

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not CodeDraft.objects.exists()


def test_it_refuses_a_draft_posted_without_the_csrf_token(learner):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)

    response = client.post("/lab/draft", {"template": "mlp", "code": "a = 1\n"})

    assert response.status_code == 403
    assert not CodeDraft.objects.exists()


# Running it keeps it


def test_it_keeps_the_code_as_the_draft_when_it_runs(client, learner):
    client.force_login(learner)

    client.post("/lab/runs", {"code": BROKEN, "template": "rnn"})

    assert ExperimentRun.objects.get(owner=learner).code == BROKEN
    assert selectors.draft_for(user=learner, template="rnn").code == BROKEN


def test_it_keeps_the_code_as_the_draft_when_the_run_is_refused(client, learner, monkeypatch):
    broker_down(monkeypatch)
    client.force_login(learner)

    response = client.post("/lab/runs", {"code": BROKEN, "template": "mlp"}, headers=HTMX)

    assert "Experiments cannot be queued right now" in lab_main(response)
    assert not ExperimentRun.objects.exists()
    assert selectors.draft_for(user=learner, template="mlp").code == BROKEN
    # and the reload after it opens the editor with it
    assert editor(client.get("/lab/?tab=code")) == "\n" + escape(BROKEN)


def test_it_shows_a_refused_code_of_the_rnn_template_in_the_rnn_editor(client, learner):
    client.force_login(learner)

    response = client.post("/lab/runs", {"code": "   \n", "template": "rnn"})

    assert response.status_code == 422
    assert '<input type="hidden" name="template" value="rnn">' in response.text


# Reset


def test_it_resets_the_editor_to_the_template(client, learner):
    services.draft_save(owner=learner, template="mlp", code=BROKEN)
    client.force_login(learner)

    response = client.post("/lab/draft/reset", {"template": "mlp"}, follow=True)

    assert response.redirect_chain == [("/lab/?tab=code&template=mlp#code-heading", 302)]
    assert "The editor holds the template again." in response.text
    assert editor(response) == "\n" + template_code("mlp")
    assert not CodeDraft.objects.exists()


def test_it_resets_no_template_that_does_not_exist(client, learner):
    client.force_login(learner)

    assert client.post("/lab/draft/reset", {"template": "nope"}).status_code == 404


def test_it_resets_only_with_a_post(client, learner):
    services.draft_save(owner=learner, template="mlp", code=BROKEN)
    client.force_login(learner)

    assert client.get("/lab/draft/reset?template=mlp").status_code == 405
    assert CodeDraft.objects.exists()

"""The demo tool and Submission Review 1.0, on the example site's demo data.

The demo tool (PyLTI1p3) declares the line item it scores reviewable (AGS GET then PUT with
``submissionReview``, over HTTP routed into the test client); the learner then finds "Review in the
demo tool" on the course page and the editor in the results report; both reviews reach the demo
tool's review page, which shows ``for_user``.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.demo.test_demo_tool import BASE, LTI13_LAUNCH, lti13_launch, post_form
from tests.support.demo import route_demo_http
from tests.support.forms import read_page, the_form


pytestmark = pytest.mark.django_db


@pytest.fixture
def routed(monkeypatch):
    yield from route_demo_http(monkeypatch, BASE)


def review_through_the_demo_tool(client: Client, form: dict):
    """Post the review form, then the demo tool's login, our authorization and the id_token."""
    start = client.post(form["action"], form["fields"])
    assert start.status_code == 200, start.content.decode()
    init = the_form(start)
    login = post_form(client, init["action"], init["fields"])
    assert login.status_code == 302, login.content.decode()
    token_form = the_form(client.get(login["Location"]))
    assert token_form["action"] == LTI13_LAUNCH
    return post_form(client, token_form["action"], token_form["fields"])


def test_the_demo_tool_declares_a_review_and_shows_for_user(routed):
    from demo_tool.lti13 import REVIEW_DECLARATION
    from wagtail_lti.models import Placement
    from wagtail_lti.security.identifiers import opaque_user_id
    from wagtail_lti.services import results

    call_command("load_demo_data", "--url", BASE + "/", stdout=StringIO())
    learner = Client()
    assert learner.login(username="learner1", password="learner1")
    (placement,) = [
        p
        for p in Placement.objects.select_related("resource_link__provider", "page")
        if p.resource_link.requires_score and p.resource_link.provider.lti_version == "1.3"
    ]
    page, _ = lti13_launch({"client": learner, "p13": placement})
    answer = learner.post(the_form(page)["action"], {**the_form(page)["fields"], "score": "60"})
    body = answer.content.decode()
    assert "The platform accepted the score" in body and "declared on the line item" in body
    line_item = results.line_item_for(placement)
    assert line_item.submission_review == REVIEW_DECLARATION

    # The learner reviews their own submission from the course page.
    course_page = learner.get(placement.page.url)
    forms = [f for f in read_page(course_page).forms if "/lti/review/" in f["action"]]
    assert len(forms) == 1 and "Review in the demo tool" in course_page.content.decode()
    review = review_through_the_demo_tool(learner, forms[0])
    assert review.status_code == 200, review.content.decode()
    text = review.content.decode()
    assert "Submission review" in text and "LtiSubmissionReviewRequest" in text
    learner1 = line_item.results.get().user
    assert f"<code data-for-user>{opaque_user_id(learner1)}</code>" in text

    # The editor, from the results report.
    editor = Client()
    assert editor.login(username="editor", password="editor")
    report = editor.get(reverse("wagtail_lti_results_report"))
    forms = [f for f in read_page(report).forms if "/lti/review/" in f["action"]]
    assert len(forms) == 1
    review = review_through_the_demo_tool(editor, forms[0])
    assert review.status_code == 200, review.content.decode()
    assert f"<code data-for-user>{opaque_user_id(learner1)}</code>" in review.content.decode()

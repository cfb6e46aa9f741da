"""The return URL (``launch_presentation_return_url``): messages from the tool on the course page.

LTI 1.1 Implementation Guide §B (launch_presentation_return_url: lti_msg, lti_errormsg, lti_log,
lti_errorlog); LTI Core 1.3 §6.1.2 ("if you send return_url you MUST handle" them).
"""

from __future__ import annotations

import logging

import pytest

from tests.support.factories import enroll, placements_of


pytestmark = pytest.mark.django_db


def return_url(placement, **params):
    from urllib.parse import urlencode

    return f"/lti/launch/{placement.lti_id}/return/?{urlencode(params)}"


def test_lti_msg_is_shown_next_to_the_activity(client, course, learner):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    response = client.get(return_url(placement, lti_msg="Quiz submitted: well done!"))
    assert response.status_code == 302
    assert response["Location"] == f"{course.url}#lti-activity-{placement.block_id}"

    html = client.get(course.url).content.decode()
    assert 'class="lti-activity__message lti-activity__message--info" role="status"' in html
    assert "Quiz submitted: well done!" in html
    # Shown once.
    assert "Quiz submitted" not in client.get(course.url).content.decode()


def test_lti_errormsg_is_shown_as_an_alert_and_escaped(client, course, learner):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    client.get(return_url(placement, lti_errormsg="<script>alert(1)</script> Tool is down"))
    html = client.get(course.url).content.decode()
    assert 'lti-activity__message--error" role="alert"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Tool is down" in html
    assert "<script>alert(1)" not in html


def test_logs_are_logged_not_shown(client, course, learner, caplog):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    with caplog.at_level(logging.INFO, logger="wagtail_lti"):
        client.get(return_url(placement, lti_log="grade sync ok", lti_errorlog="retry later"))
    html = client.get(course.url).content.decode()
    assert "grade sync ok" not in html and "retry later" not in html
    logged = [(r.levelno, r.getMessage()) for r in caplog.records]
    assert any(level == logging.INFO and "grade sync ok" in m for level, m in logged)
    assert any(level == logging.WARNING and "retry later" in m for level, m in logged)


def test_return_never_leaves_the_site(client, course):
    (placement,) = placements_of(course)
    response = client.get(
        return_url(
            placement, lti_msg="hi", next="https://evil.example/", return_url="//evil.example"
        )
    )
    assert response.status_code == 302
    assert response["Location"].startswith(course.url)
    assert "evil" not in response["Location"]


def test_return_inside_the_iframe_breaks_out_to_the_top_window(client, course, learner):
    """In the iframe, nothing is stored yet: the same URL is loaded in the top window (a
    same-site navigation, so cookies survive a tool on another site), which then shows it."""
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    url = return_url(placement, lti_msg="Done")
    response = client.get(url, headers={"Sec-Fetch-Dest": "iframe"})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{url.replace("&", "&amp;")}" target="_top" data-lti-break-out' in html
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "Done" not in client.get(course.url).content.decode()

    top = client.get(url, headers={"Sec-Fetch-Dest": "document"})
    assert top.status_code == 302
    assert "Done" in client.get(course.url).content.decode()


def test_long_messages_are_cut(client, course, learner):
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    client.get(return_url(placement, lti_msg="x" * 5000))
    html = client.get(course.url).content.decode()
    assert "x" * 999 + "…" in html and "x" * 1000 not in html


def test_unknown_placement_is_404(client):
    response = client.get("/lti/launch/nope/return/?lti_msg=hi")
    assert response.status_code == 404

"""A tool's access to a course is kept between requests (``services.access.course_access_by_id``).

The score endpoint asks the access rule on every request; what the catalogue decides (the course
is live, the tool and its links are still available to the course's organization, the tool's
active placements) is kept like a launch's placement and dropped at once by any catalogue
change. These tests post scores with a bearer token obtained as PyLTI1p3 obtains one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
from tests.support.lti13 import make_tool
from wagtail_lti.launch.targets import forget_kept_targets
from wagtail_lti.models import Result
from wagtail_lti.security.identifiers import opaque_user_id
from wagtail_lti.services import results


SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"


@pytest.fixture
def world(orgs):
    tool = make_tool(orgs["acme"], allow_ags=True)
    link = make_link(tool.provider, requires_score=True, score_maximum=10)
    course = make_course(orgs["engineering"], [link], title="Engineering basics")
    (placement,) = placements_of(course)
    learners = [make_learner(f"learner{n}") for n in range(3)]
    for learner in learners:
        enroll(learner, course)
    item = results.line_item_for(placement)
    token = tool.access_token([SCORE_SCOPE])
    url = f"/lti/1.3/ags/{course.pk}/{tool.provider.pk}/lineitems/{item.pk}/scores"
    return tool, link, course, placement, learners, item, token, url


def post_score(client, url, token, learner, score, when):
    return client.post(
        url,
        {
            "userId": opaque_user_id(learner),
            "scoreGiven": score,
            "scoreMaximum": 10,
            "activityProgress": "Completed",
            "gradingProgress": "FullyGraded",
            "timestamp": when.isoformat(),
        },
        content_type=SCORE_TYPE,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_a_kept_access_reads_no_course_or_catalogue_row(world, client):
    _tool, _link, course, _placement, learners, _item, token, url = world
    forget_kept_targets()
    now = datetime.now(UTC)
    assert post_score(client, url, token, learners[0], 5, now).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = post_score(client, url, token, learners[1], 6, now + timedelta(seconds=1))
    assert response.status_code == 200, response.content
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "wagtailcore_page" not in tables  # the course page is not read
    assert "wagtail_lti_organization" not in tables  # nor the availability rule
    assert Result.objects.get(user=learners[1]).score_given == 6


def test_unpublishing_the_course_refuses_the_next_score_at_once(world, client):
    _tool, _link, course, _placement, learners, _item, token, url = world
    now = datetime.now(UTC)
    assert post_score(client, url, token, learners[0], 5, now).status_code == 200
    course.unpublish()
    response = post_score(client, url, token, learners[0], 7, now + timedelta(seconds=1))
    assert response.status_code == 404
    assert Result.objects.get(user=learners[0]).score_given == 5


def test_withdrawn_availability_refuses_the_next_score_at_once(world, client, orgs):
    _tool, link, _course, _placement, learners, _item, token, url = world
    now = datetime.now(UTC)
    assert post_score(client, url, token, learners[0], 5, now).status_code == 200
    # The course's organization (Engineering, below Acme) may use Acme's records; a link owned
    # by an unrelated organization is not available to it.
    link.organization = orgs["partner"]
    link.save()
    response = post_score(client, url, token, learners[0], 7, now + timedelta(seconds=1))
    assert response.status_code == 404


def test_a_disabled_tool_is_refused_although_its_access_is_kept(world, client):
    tool, _link, _course, _placement, learners, _item, token, url = world
    now = datetime.now(UTC)
    assert post_score(client, url, token, learners[0], 5, now).status_code == 200
    type(tool.provider).objects.filter(pk=tool.provider.pk).update(is_enabled=False)  # no signal
    response = post_score(client, url, token, learners[0], 7, now + timedelta(seconds=1))
    assert response.status_code in (401, 404)
    assert Result.objects.get(user=learners[0]).score_given == 5

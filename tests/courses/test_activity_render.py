"""The activity block's markup: produced in Python, the same as its template; a site's own template
replaces it; what the visitor's state costs in queries."""

from __future__ import annotations

import copy
import re

import pytest
from django.conf import settings
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils.safestring import mark_safe

from tests.support.factories import enroll, make_course, make_link, make_provider, placements_of
from wagtail_lti import blocks
from wagtail_lti.blocks import ACTIVITY_TEMPLATE, CourseActivityBlock, render_activity
from wagtail_lti.courses.platform_storage import origins, provider_origins, tool_origins
from wagtail_lti.courses.view import ActivityState, ActivityView, CourseView
from wagtail_lti.models import LearnerActivity, LtiResourceLink


def squeeze(html: str) -> str:
    """Runs of whitespace as one space: the template's layout, not its content."""
    return " ".join(html.split())


def activity_sections(html: str) -> list[str]:
    return re.findall(r'<section class="lti-activity.*?</section>', html, re.S)


def without_csrf_tokens(html: str) -> str:
    """Each response masks the CSRF token anew: the same markup has another value each time."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', html)


BLOCK_ID = "5f0c2a9e-1c1d-4c33-9a55-6d2a4a1f2b10"
TRICKY = "Quiz <1> & \"2\" 'three'"


def link_of(requires_score: bool):
    return LtiResourceLink(name="Quiz", requires_score=requires_score)


def ready(**fields) -> ActivityView:
    return ActivityView(
        block_id=BLOCK_ID,
        title=fields.pop("title", TRICKY),
        state=ActivityState.READY,
        launch_url="/lti/launch/abc_DEF-1/?x=1&y=2",
        tool_origins="https://tool.example https://login.example:8443",
        **fields,
    )


CASES = {
    "anonymous": (
        ActivityView(
            block_id=BLOCK_ID,
            title=TRICKY,
            state=ActivityState.ANONYMOUS,
            login_url="/accounts/login/?next=%2Fcourse%2F%3Fa%3D1%26b%3D2",
        ),
        link_of(False),
    ),
    "unenrolled": (
        ActivityView(block_id=BLOCK_ID, title="Quiz", state=ActivityState.UNENROLLED),
        link_of(False),
    ),
    "not a course": (
        ActivityView(
            block_id="", title="", reason="Activities can only be launched from a course."
        ),
        None,
    ),
    "unpublished": (
        ActivityView(
            block_id=BLOCK_ID,
            title="Quiz",
            state=ActivityState.UNPUBLISHED,
            reason="This activity can be launched once the page is published.",
        ),
        link_of(True),
    ),
    "unavailable, never launched": (
        ActivityView(block_id=BLOCK_ID, title="Quiz", reason="No longer <available>."),
        link_of(True),
    ),
    "unavailable, launched with a score": (
        ActivityView(
            block_id=BLOCK_ID, title="Quiz", status="launched", score=0.5, reason="Gone & away."
        ),
        link_of(True),
    ),
    "embedded, not started, described, score required": (
        ready(description="First line <b>bold</b> & more\r\nsecond line\nthird\rfourth"),
        link_of(True),
    ),
    "embedded, launched, completed when opened": (ready(status="launched"), link_of(False)),
    "embedded, completed with a score": (
        ready(status="completed", score=0.8567, frame_height=420),
        link_of(True),
    ),
    "embedded, completed without a score": (ready(status="completed"), link_of(False)),
    "new window, not started": (ready(open_in="window"), link_of(True)),
    "new window, launched": (ready(open_in="window", status="launched"), link_of(False)),
    "new window, completed": (ready(open_in="window", status="completed", score=1.0), None),
    "messages from the tool": (
        ready(
            status="launched",
            messages=[
                Message(constants.ERROR, "The tool <failed> & said so", "wagtail-lti"),
                Message(constants.SUCCESS, mark_safe("Saved <em>ok</em>"), "wagtail-lti"),
                Message(constants.INFO, "Note", "wagtail-lti"),
            ],
        ),
        link_of(True),
    ),
    "messages while unavailable": (
        ActivityView(
            block_id=BLOCK_ID,
            title="Quiz",
            status="completed",
            score=0.25,
            reason="Gone.",
            messages=[Message(constants.WARNING, "Late", "wagtail-lti")],
        ),
        link_of(False),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_python_markup_is_the_templates(case):
    """``render_activity`` and ``wagtail_lti/blocks/course_activity.html`` say the same: every
    element, id, class, attribute and text, in the same order (only the indentation may differ)."""
    activity, link = CASES[case]
    course = CourseView(None, None)
    expected = render_to_string(
        ACTIVITY_TEMPLATE, {"activity": activity, "value": {"resource_link": link}}
    )
    assert squeeze(render_activity(activity, link, course)) == squeeze(expected)


def test_escaping_in_the_python_markup():
    activity, link = CASES["messages from the tool"]
    html = render_activity(activity, link, CourseView(None, None))
    assert "Quiz &lt;1&gt; &amp; &quot;2&quot; &#x27;three&#x27;" in html
    assert "<script" not in html.replace('<script src="', "")
    assert "The tool &lt;failed&gt; &amp; said so" in html
    assert "Saved <em>ok</em>" in html  # a message marked safe stays as it is
    assert 'action="/lti/launch/abc_DEF-1/?x=1&amp;y=2"' in html
    activity, link = CASES["embedded, not started, described, score required"]
    html = render_activity(activity, link, CourseView(None, None))
    assert "First line &lt;b&gt;bold&lt;/b&gt; &amp; more<br>second line<br>third<br>fourth" in html


# --- On a course page -------------------------------------------------------------------------


def get(client, page) -> str:
    response = client.get(page.url)
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def busy_course(orgs, learner):
    """An enrolled learner's course: embedded and new-window activities, progress, a score, a
    withdrawn link, a tool message."""
    provider = make_provider(
        orgs["acme"],
        login_url="https://login.tool.example/oidc",
        launch_url="https://tool.example/launch",
        redirect_uris="https://tool.example/launch\nhttps://other.tool.example/cb",
    )
    links = [
        make_link(provider, name="Quiz 1", requires_score=True, description="Read <this>\nfirst"),
        make_link(provider, name="Simulator", open_in="window"),
        make_link(provider, name="Quiz 3", url="https://content.example/q3"),
        make_link(provider, name="Shared", organization=orgs["partner"]),
    ]
    links[3].available_to.set([orgs["engineering"]])
    links[3].save()
    page = make_course(orgs["engineering"], [*links[:2], (links[2], "Final <exam>"), links[3]])
    enroll(learner, page)
    first, second, *_ = placements_of(page)
    LearnerActivity.objects.create(
        placement=first, user=learner, status="completed", score=0.75, launch_count=1
    )
    LearnerActivity.objects.create(placement=second, user=learner, status="launched")
    links[3].available_to.set([])
    links[3].save()
    return page


@pytest.mark.django_db
@pytest.mark.parametrize("visitor", ["anonymous", "unenrolled", "enrolled"])
def test_page_renders_the_same_as_with_the_template(
    client, busy_course, learner, visitor, monkeypatch
):
    """The whole page, with the markup produced in Python and with the template rendered per block
    (the context a block gets from the page: its id, the visitor's state)."""
    from tests.support.factories import make_learner

    if visitor == "enrolled":
        client.force_login(learner)
    elif visitor == "unenrolled":
        client.force_login(make_learner("stranger"))
    fast = without_csrf_tokens(get(client, busy_course))
    monkeypatch.setattr(blocks, "packaged_activity_template_in_use", lambda: False)
    slow = without_csrf_tokens(get(client, busy_course))
    assert len(activity_sections(fast)) == 4
    assert [squeeze(s) for s in activity_sections(fast)] == [
        squeeze(s) for s in activity_sections(slow)
    ]
    if visitor == "enrolled":
        assert fast.count("lti-activity--ready") == 3
        assert "lti-activity--unavailable" in fast
        assert 'lti-badge--completed">Completed<' in fast and "Score: 75%" in fast
        assert ">Final &lt;exam&gt;</h2>" in fast


@pytest.mark.django_db
def test_frame_trusts_the_links_and_the_providers_origins(client, busy_course, learner):
    client.force_login(learner)
    html = get(client, busy_course)
    found = re.findall(r'data-lti-tool-origins="([^"]*)"', html)
    provider_part = "https://login.tool.example https://tool.example https://other.tool.example"
    assert found == [
        "https://tool.example.com " + provider_part,
        "https://content.example " + provider_part,
    ]


@pytest.mark.django_db
def test_tool_origins_with_known_provider_origins_are_the_same(orgs):
    provider = make_provider(
        orgs["acme"],
        login_url="https://b.example/login",
        launch_url="https://a.example/launch",
        redirect_uris="https://a.example/x\n\nhttps://c.example:8443/y\n",
    )
    for url in ("https://a.example/l", "https://d.example/l", "https://c.example:8443/z", "bad"):
        link = make_link(provider, url=url) if url != "bad" else LtiResourceLink(provider=provider)
        expected = " ".join(
            origins(
                [link.url, provider.login_url, provider.launch_url, *provider.get_redirect_uris()]
            )
        )
        assert tool_origins(link) == expected
        assert tool_origins(link, provider_origins(provider)) == expected


@pytest.fixture
def site_templates(tmp_path):
    """A template directory of the site's, searched before the apps' templates."""
    engines = copy.deepcopy(settings.TEMPLATES)
    engines[0]["DIRS"] = [str(tmp_path), *engines[0].get("DIRS", [])]
    with override_settings(TEMPLATES=engines):
        yield tmp_path


def write(directory, name, text):
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.django_db
def test_a_sites_own_activity_template_replaces_the_markup(client, course, learner, site_templates):
    enroll(learner, course)
    client.force_login(learner)
    write(
        site_templates,
        ACTIVITY_TEMPLATE,
        '<div class="site-activity" id="{{ activity.dom_id }}">{{ activity.title }}: '
        "{{ activity.state }} {{ value.resource_link.name }} {{ activity.launch_url }}</div>",
    )
    html = get(client, course)
    (placement,) = placements_of(course)
    assert f">Quiz 1: ready Quiz 1 /lti/launch/{placement.lti_id}/</div>" in html
    assert not activity_sections(html)


@pytest.mark.django_db
def test_back_to_the_packaged_markup_once_the_sites_template_is_gone(client, course, tmp_path):
    write(tmp_path, ACTIVITY_TEMPLATE, '<div class="site-activity"></div>')
    engines = copy.deepcopy(settings.TEMPLATES)
    engines[0]["DIRS"] = [str(tmp_path), *engines[0].get("DIRS", [])]
    with override_settings(TEMPLATES=engines):
        assert not blocks.packaged_activity_template_in_use()
        assert "site-activity" in get(client, course)
    assert blocks.packaged_activity_template_in_use()
    assert len(activity_sections(get(client, course))) == 1


@pytest.mark.django_db
def test_a_block_with_a_template_of_its_own_renders_it(course, learner, site_templates):
    write(
        site_templates, "site/activity.html", "[{{ activity.title }}|{{ activity.state }}|{{ id }}]"
    )
    enroll(learner, course)
    request = RequestFactory().get(course.url)
    request.user = learner
    (placement,) = placements_of(course)
    value = course.body[0].value
    context = {"request": request, "page": course, "id": placement.block_id}
    assert CourseActivityBlock(template="site/activity.html").render(value, context) == (
        f"[Quiz 1|ready|{placement.block_id}]"
    )

    class Meta:
        template = "site/activity.html"

    subclass = type(
        "SiteActivityBlock", (CourseActivityBlock,), {"Meta": Meta, "__module__": __name__}
    )
    assert subclass().render(value, context) == f"[Quiz 1|ready|{placement.block_id}]"


@pytest.mark.django_db
def test_a_subclass_extending_the_context_gets_the_template_rendered(course, learner):
    class ExtendedBlock(CourseActivityBlock):
        def get_context(self, value, parent_context=None):
            context = super().get_context(value, parent_context=parent_context)
            context["activity"].title = "Changed by the site"
            return context

    request = RequestFactory().get(course.url)
    request.user = learner
    html = ExtendedBlock().render(course.body[0].value, {"request": request, "page": course})
    assert ">Changed by the site</h2>" in html


def course_view_queries(page, user) -> int:
    request = RequestFactory().get(page.url)
    request.user = user
    request.session = {}
    from django.contrib.messages.storage.fallback import FallbackStorage

    request._messages = FallbackStorage(request)
    with CaptureQueriesContext(connection) as queries:
        CourseView(request, page)
    return len(queries)


@pytest.mark.django_db
def test_the_visitors_state_costs_at_most_two_queries(orgs, provider, learner):
    """Enrollment, then placements with progress and availability in one query; the resource
    links come with the page's stream. Nothing for a visitor who is not enrolled. (The course's
    organization is read from the page, one more query unless the page has it already.)"""
    from django.contrib.auth.models import AnonymousUser

    links = [make_link(provider, name=f"Quiz {n}") for n in range(5)]
    page = make_course(orgs["engineering"], links)
    assert page.course_organization == orgs["engineering"]
    assert course_view_queries(page, AnonymousUser()) == 0
    assert course_view_queries(page, learner) == 1
    enroll(learner, page)
    for placement in placements_of(page)[:3]:
        LearnerActivity.objects.create(placement=placement, user=learner, status="completed")
    assert course_view_queries(page, learner) == 2


@pytest.mark.parametrize("lti_id", ["abc_DEF-123", "odd.id~with:chars@", "with space", "ünï"])
def test_launch_url_is_reversed_once_per_page_with_the_same_result(lti_id):
    from django.urls import reverse

    course = CourseView(None, None)
    assert course.launch_url(lti_id) == reverse("wagtail_lti:launch", args=[lti_id])
    assert course.launch_url("second") == reverse("wagtail_lti:launch", args=["second"])


@override_settings(FORCE_SCRIPT_NAME="/site/")
def test_launch_url_keeps_the_script_prefix():
    from django.urls import reverse, set_script_prefix

    set_script_prefix("/site/")
    try:
        assert CourseView(None, None).launch_url("abc") == "/site/lti/launch/abc/"
        assert CourseView(None, None).launch_url("abc") == reverse(
            "wagtail_lti:launch", args=["abc"]
        )
    finally:
        set_script_prefix("/")


def test_a_changed_template_file_under_runserver_is_looked_at_again(tmp_path):
    from django.utils.autoreload import file_changed

    blocks.packaged_activity_template_in_use()
    file_changed.send(sender=None, file_path=tmp_path / "module.py")
    assert blocks.packaged_activity_template_in_use.cache_info().currsize == 1
    file_changed.send(sender=None, file_path=tmp_path / "course_activity.html")
    assert blocks.packaged_activity_template_in_use.cache_info().currsize == 0

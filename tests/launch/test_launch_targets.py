"""What launches keep about a placement between requests (``wagtail_lti.launch.targets``).

The kept facts must never outlive a change: every change made through Django replaces the
catalogue generation in the shared cache, which every process compares on each use. These tests
launch once (so the placement is kept), change something, and launch again.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from tests.support.factories import enroll, make_course, make_link, make_provider, placements_of
from tests.support.queries import data_statements
from wagtail_lti.launch import targets as launch_targets
from wagtail_lti.models import LtiProvider, Organization, Placement


pytestmark = pytest.mark.django_db


def launch(client, placement):
    return client.post(f"/lti/launch/{placement.lti_id}/")


@pytest.fixture
def shared(orgs, learner, client):
    """A Partner Co link and provider shared with Acme, placed in an Engineering course."""
    provider = make_provider(orgs["partner"], available_to=[orgs["acme"]])
    link = make_link(provider, name="Partner quiz", available_to=[orgs["acme"]])
    course = make_course(orgs["engineering"], [link], title="Safety")
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    assert launch(client, placement).status_code == 200  # now kept
    return provider, link, course, placement


def tables_read(queries) -> set[str]:
    names = ("wagtail_lti_placement", "wagtail_lti_ltiprovider", "wagtail_lti_organization")
    return {name for query in queries for name in names if f'"{name}"' in query["sql"]}


def test_a_kept_placement_is_launched_without_reading_the_catalogue(client, shared):
    *_, placement = shared
    with CaptureQueriesContext(connection) as queries:
        response = launch(client, placement)
    assert response.status_code == 200
    assert "oauth_signature" in response.content.decode()
    assert tables_read(queries.captured_queries) == set()
    # Per person and per launch, always from the database: the enrollment, the activity.
    sql = " ".join(q["sql"] for q in queries.captured_queries)
    assert "wagtail_lti_enrollment" in sql and "wagtail_lti_learneractivity" in sql


def test_a_kept_lti11_launch_runs_four_statements_besides_the_session(client, shared):
    """Speed (docs/benchmarks.md): the user, the enrollment, the learner's activity, the log."""
    *_, placement = shared
    with CaptureQueriesContext(connection) as queries:
        assert launch(client, placement).status_code == 200
    statements = data_statements(queries)
    assert statements == [
        "SELECT auth_user",
        "SELECT wagtail_lti_enrollment",
        "UPDATE wagtail_lti_learneractivity",
        "INSERT wagtail_lti_launchlogentry",
    ], statements


def test_withdrawn_provider_availability_refuses_the_next_launch(client, orgs, shared):
    provider, *_, placement = shared
    provider.available_to.set([orgs["sales"]])
    provider.save()
    response = launch(client, placement)
    assert response.status_code == 403
    assert "The tool behind “Partner quiz” is no longer available" in response.content.decode()


def test_disabled_provider_refuses_the_next_launch(client, shared):
    provider, *_, placement = shared
    provider.is_enabled = False
    provider.save()
    assert launch(client, placement).status_code == 403


def test_unpublished_course_refuses_the_next_launch(client, shared):
    *_, course, placement = shared
    course.unpublish()
    assert launch(client, placement).status_code == 404


def test_changed_link_url_is_used_by_the_next_launch(client, shared):
    _, link, _, placement = shared
    link.url = "https://tool.example.com/launch?item=2"
    link.save()
    html = launch(client, placement).content.decode()
    assert 'action="https://tool.example.com/launch?item=2"' in html


def test_moving_an_organization_re_evaluates_availability(client, orgs, learner):
    """Engineering may use Acme's link; moved under Partner Co, it may not (treebeard moves
    rewrite paths with UPDATE and send no signal)."""
    provider = make_provider(orgs["acme"])
    link = make_link(provider, name="Acme quiz")
    course = make_course(orgs["engineering"], [link])
    enroll(learner, course)
    client.force_login(learner)
    (placement,) = placements_of(course)
    assert launch(client, placement).status_code == 200
    engineering = Organization.objects.get(pk=orgs["engineering"].pk)
    engineering.move(Organization.objects.get(pk=orgs["partner"].pk), "sorted-child")
    response = launch(client, placement)
    assert response.status_code == 403
    assert "“Acme quiz” is no longer available" in response.content.decode()


def test_change_behind_djangos_back_needs_catalogue_changed(client, shared):
    provider, *_, placement = shared
    LtiProvider.objects.filter(pk=provider.pk).update(is_enabled=False)  # no signal
    assert launch(client, placement).status_code == 200  # still kept, as documented
    launch_targets.catalogue_changed()
    assert launch(client, placement).status_code == 403


def test_a_lost_generation_counts_as_a_change(client, shared):
    """The shared cache restarted or evicted the generation: nothing kept is trusted."""
    provider, *_, placement = shared
    LtiProvider.objects.filter(pk=provider.pk).update(is_enabled=False)
    cache.delete(launch_targets.GENERATION_KEY)
    assert launch(client, placement).status_code == 403


def test_kept_targets_expire(client, shared, monkeypatch):
    provider, *_, placement = shared
    LtiProvider.objects.filter(pk=provider.pk).update(is_enabled=False)
    now = launch_targets.time.monotonic()
    # The clock launch_targets reads (its own ``time``), not the process-wide time.monotonic.
    monkeypatch.setattr(launch_targets, "time", SimpleNamespace(monotonic=lambda: now + 301))
    assert launch(client, placement).status_code == 403


@override_settings(WAGTAIL_LTI={"LAUNCH_TARGET_CACHE_SECONDS": 0})
def test_zero_seconds_reads_the_database_on_every_launch(client, shared):
    provider, *_, placement = shared
    LtiProvider.objects.filter(pk=provider.pk).update(is_enabled=False)
    assert launch(client, placement).status_code == 403


def test_each_call_returns_fresh_objects(shared):
    *_, placement = shared
    first = launch_targets.launch_target(pk=placement.pk)
    first.placement.resource_link.url = "https://elsewhere.example/"
    second = launch_targets.launch_target(lti_id=placement.lti_id)
    assert second.placement.resource_link.url == "https://tool.example.com/launch?item=1"
    assert second.course.title == "Safety" and second.link_usable and second.provider_usable


def test_unknown_placement_is_none_and_a_new_one_is_seen(orgs, shared):
    *_, course, placement = shared
    assert launch_targets.launch_target(pk=placement.pk + 1000) is None
    assert launch_targets.launch_target(lti_id="no-such-placement") is None
    created = Placement.objects.create(page=course, block_id="new", lti_id="no-such-placement")
    assert launch_targets.launch_target(lti_id="no-such-placement").placement.pk == created.pk


def test_a_change_in_a_transaction_is_announced_again_on_commit(
    shared, django_capture_on_commit_callbacks
):
    provider, *_ = shared
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        provider.name = "Renamed"
        provider.save()
    assert launch_targets._bump in callbacks


def test_lti13_provider_is_kept_until_it_changes(orgs):
    provider = make_provider(orgs["acme"], version="1.3", redirect_uris="https://tool.example/a")
    kept = launch_targets.lti13_provider(provider.client_id)
    assert kept.pk == provider.pk and kept.get_redirect_uris() == ["https://tool.example/a"]
    provider.redirect_uris = "https://tool.example/b"
    provider.save()
    assert launch_targets.lti13_provider(provider.client_id).get_redirect_uris() == [
        "https://tool.example/b"
    ]
    client_id = provider.client_id
    provider.delete()
    assert launch_targets.lti13_provider(client_id) is None
    assert launch_targets.lti13_provider("unknown") is None


def test_a_cache_that_cannot_be_read_means_reading_the_database(client, shared, monkeypatch):
    """Redis down: launches go on, from the database, and see every change."""
    provider, *_, placement = shared

    def unreachable():
        raise ConnectionError("cache down")

    monkeypatch.setattr(launch_targets, "_generation", unreachable)
    assert launch(client, placement).status_code == 200
    LtiProvider.objects.filter(pk=provider.pk).update(is_enabled=False)  # no signal needed
    assert launch(client, placement).status_code == 403


# --- Which page changes drop what launches keep -----------------------------------------------


def _generation_after(action) -> bool:
    """Whether ``action()`` changed the catalogue generation (dropped every kept target)."""
    before = launch_targets._generation()
    action()
    return launch_targets._generation() != before


def test_page_change_matters_only_for_published_course_pages(orgs):
    from wagtail.models import Page

    from tests.support.factories import site_root
    from wagtail_lti.signals import page_change_matters

    course = make_course(orgs["engineering"], [])
    plain = site_root()
    assert isinstance(plain, Page)
    assert not page_change_matters(plain)
    assert not page_change_matters(
        course, ["draft_title", "latest_revision", "has_unpublished_changes"]
    )
    assert page_change_matters(course)
    assert page_change_matters(course, ["title", "live"])


def test_saving_a_page_that_is_not_a_course_keeps_the_catalogue(orgs):
    from wagtail.models import Page

    from tests.support.factories import site_root

    page = Page(title="About", slug="about-us")
    assert not _generation_after(lambda: site_root().add_child(instance=page))
    assert not _generation_after(lambda: page.save_revision())
    page.title = "About us"
    assert not _generation_after(page.save)


def test_a_draft_of_a_course_page_keeps_what_launches_read(client, shared):
    _, _, course, placement = shared
    course.title = "Safety (draft)"
    assert not _generation_after(course.save_revision)
    with CaptureQueriesContext(connection) as queries:
        assert launch(client, placement).status_code == 200
    assert not tables_read(queries.captured_queries)


def test_publishing_or_moving_a_course_page_drops_what_launches_keep(client, shared):
    from tests.support.factories import site_root

    _, _, course, placement = shared
    course.title = "Safety 2"
    assert _generation_after(lambda: course.save_revision().publish())
    with CaptureQueriesContext(connection) as queries:
        assert launch(client, placement).status_code == 200
    assert "wagtail_lti_placement" in tables_read(queries.captured_queries)

    from wagtail.models import Page

    section = Page(title="Section", slug="section")
    site_root().add_child(instance=section)
    course.refresh_from_db()
    assert _generation_after(lambda: course.move(section, pos="last-child"))

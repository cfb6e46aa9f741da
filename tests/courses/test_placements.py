"""Placements and their automatic line items, kept in step with the published page."""

from __future__ import annotations

import pytest

from tests.support.factories import make_course, make_link, make_provider, placements_of
from wagtail_lti.courses.placements import placement_for, sync_placements
from wagtail_lti.models import LineItem, Placement


pytestmark = pytest.mark.django_db


def test_publishing_creates_one_placement_per_activity_block(orgs, provider):
    scored = make_link(provider, name="Graded quiz", requires_score=True, score_maximum=20)
    plain = make_link(provider, name="Reading")
    page = make_course(orgs["engineering"], [(scored, "Week 1 quiz"), plain])
    first, second = placements_of(page)
    block_ids = [child.id for child in page.body]
    assert [first.block_id, second.block_id] == block_ids
    assert (first.resource_link, first.title) == (scored, "Week 1 quiz")
    assert (second.resource_link, second.title) == (plain, "Reading")
    assert first.lti_id != second.lti_id and len(first.lti_id) >= 16

    (item,) = LineItem.objects.filter(course=page)
    assert item.placement == first
    assert item.provider == provider
    assert item.label == "Week 1 quiz"
    assert item.score_maximum == 20


def test_a_draft_creates_nothing_until_published(orgs, link):
    page = make_course(orgs["engineering"], [link], publish=False)
    assert placements_of(page) == []
    assert not LineItem.objects.exists()
    page.get_latest_revision().publish()
    assert len(placements_of(page)) == 1


def test_republishing_keeps_the_resource_link_id_and_updates_title_and_line_item(
    orgs, course, link
):
    (placement,) = placements_of(course)
    page = course.specific
    page.body[0].value["title"] = "Renamed quiz"
    link.score_maximum = 50
    link.save()
    page.save_revision().publish()

    (again,) = placements_of(course)
    assert again.pk == placement.pk and again.lti_id == placement.lti_id
    assert again.title == "Renamed quiz"
    (item,) = LineItem.objects.filter(placement=again)
    assert (item.label, item.score_maximum) == ("Renamed quiz", 50)


def test_removed_block_keeps_its_placement_inactive(orgs, course, link):
    (placement,) = placements_of(course)
    page = course.specific
    del page.body[0]
    page.save_revision().publish()
    placement.refresh_from_db()
    assert placement.is_active is False
    assert LineItem.objects.filter(placement=placement).exists()  # results are kept

    # Putting a block back with the same id (e.g. reverting to an older revision) reactivates it.
    course.revisions.order_by("created_at").first().publish()
    placement.refresh_from_db()
    assert placement.is_active is True


def test_a_copied_page_gets_new_resource_link_ids(orgs, course):
    (original,) = placements_of(course)
    copy = course.copy(update_attrs={"slug": "copied-course", "title": "Copy"})
    copy.save_revision().publish()
    (copied,) = placements_of(copy)
    assert copied.block_id == original.block_id
    assert copied.lti_id != original.lti_id


def test_line_item_is_not_duplicated_and_follows_a_new_provider(orgs, course, link):
    sync_placements(course.specific)
    sync_placements(course.specific)
    assert LineItem.objects.filter(course=course).count() == 1

    old_provider = link.provider
    other_provider = make_provider(orgs["acme"], name="Other tool")
    link.provider = other_provider
    link.save()
    course.specific.save_revision().publish()
    (placement,) = placements_of(course)
    providers = set(LineItem.objects.filter(placement=placement).values_list("provider", flat=True))
    assert providers == {old_provider.pk, other_provider.pk}
    from wagtail_lti.services.results import line_item_for

    assert line_item_for(placement).provider == other_provider


def test_placement_for_gets_or_creates(course):
    (placement,) = placements_of(course)
    assert placement_for(course, placement.block_id) == placement
    created = placement_for(course, "another-block")
    assert created.pk != placement.pk
    assert Placement.objects.filter(page=course).count() == 2

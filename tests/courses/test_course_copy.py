"""Copying a course page: a new course that remembers where it came from (``courses/copies.py``).

LTI Core 1.3, custom property substitution (#customproperty) (``$Context.id.history``, ``$ResourceLink.id.history``): the ids of the
copies' ancestors, most recent first, comma-separated, URL-encoded; empty for a context or link
that is not a copy. The rule is asked through Wagtail's own copy (``Page.copy`` + the rule, the
admin's Copy view through the ``after_copy_page`` hook, ``copy_for_translation``, aliases).
"""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from wagtail.models import Locale, Page

from tests.support.factories import enroll, make_course, placements_of, site_root
from wagtail_lti.courses.copies import context_id_history, course_copied, record_copy
from wagtail_lti.models import (
    CourseCopy,
    LearnerActivity,
    LineItem,
    Placement,
    Result,
)
from wagtail_lti.security.identifiers import context_id


pytestmark = pytest.mark.django_db


def _learner_data(course, learner):
    """A learner's data on ``course``: enrollment, progress and a result."""
    enroll(learner, course)
    placement = placements_of(course)[0]
    LearnerActivity.objects.create(placement=placement, user=learner, status="completed")
    item = LineItem.objects.get(placement=placement)
    Result.objects.create(line_item=item, user=learner, score_given=7, score_maximum=10)
    return placement


def _copy(course, slug, *, keep_live=True, recursive=False, to=None):
    """Wagtail's copy, then the rule (what the admin's Copy view does through its hook)."""
    new = course.copy(
        recursive=recursive,
        to=to,
        update_attrs={"title": f"{course.title} (copy)", "slug": slug},
        keep_live=keep_live,
    )
    record_copy(course, new.specific, recursive=recursive)
    return new.specific


def test_wagtail_keeps_block_ids_so_placements_are_keyed_by_page(course):
    """What Wagtail does: the copy's activity blocks keep the original's block ids."""
    copy = _copy(course, "copy")
    assert [b.id for b in copy.body] == [b.id for b in course.body]
    original, made = placements_of(course)[0], placements_of(copy)[0]
    assert made.block_id == original.block_id and made.pk != original.pk


def test_a_copy_is_a_new_course_that_remembers_its_origin(course, learner):
    original = _learner_data(course, learner)
    before = (original.lti_id, context_id(course), Placement.objects.filter(page=course).count())

    copy = _copy(course, "copy")

    made = placements_of(copy)[0]
    assert made.lti_id != original.lti_id
    assert context_id(copy) != context_id(course)
    assert made.copied_from == original
    assert made.lti_id_history == original.lti_id
    assert context_id_history(copy) == context_id(course)
    assert CourseCopy.objects.get(course=copy).source_id == course.pk
    # An automatic line item of its own, as for a new page.
    assert LineItem.objects.get(placement=made).course_id == copy.pk
    # Nothing of the learner's data is copied.
    assert not copy.lti_enrollments.exists()
    assert not LearnerActivity.objects.filter(placement=made).exists()
    assert not Result.objects.filter(line_item__course=copy).exists()
    # The original is untouched.
    original.refresh_from_db()
    assert (original.lti_id, context_id(course), Placement.objects.filter(page=course).count()) == (
        before
    )
    assert original.lti_id_history == "" and context_id_history(course) == ""
    assert course.lti_enrollments.count() == 1 and Result.objects.count() == 1


def test_history_lists_every_ancestor_most_recent_first(course):
    second = _copy(course, "second")
    third = _copy(second, "third")
    p1, p2, p3 = placements_of(course)[0], placements_of(second)[0], placements_of(third)[0]
    assert p3.lti_id_history == f"{p2.lti_id},{p1.lti_id}"
    assert context_id_history(third) == f"{context_id(second)},{context_id(course)}"
    # The history outlives the deletion of the originals.
    second.delete()
    course.delete()
    p3.refresh_from_db()
    assert p3.copied_from is None
    assert p3.lti_id_history == f"{p2.lti_id},{p1.lti_id}"


def test_an_unpublished_copy_gets_its_placements_with_their_history_when_published(course):
    copy = _copy(course, "draft-copy", keep_live=False)
    assert not Placement.objects.filter(page=copy).exists()
    copy.get_latest_revision().publish()
    made = placements_of(copy)[0]
    assert made.lti_id_history == placements_of(course)[0].lti_id


def test_a_block_added_to_the_copy_has_no_history(course, link):
    copy = _copy(course, "copy")
    copy.body.append(("lti_activity", {"resource_link": link, "title": "New one"}))
    copy.save_revision().publish()
    copied, added = placements_of(copy)
    assert copied.lti_id_history and added.lti_id_history == "" and added.copied_from is None


def test_copy_with_subpages_records_each_course(orgs, link):
    from courses.models import HomePage

    section = site_root().add_child(instance=HomePage(title="Term 1", slug="term-1"))
    first = make_course(orgs["engineering"], [link], parent=section)
    second = make_course(orgs["engineering"], [link], parent=section)
    new_section = section.copy(recursive=True, update_attrs={"title": "Term 2", "slug": "term-2"})
    record_copy(section, new_section, recursive=True)
    copies = [page.specific for page in new_section.get_children().order_by("path")]
    assert [CourseCopy.objects.get(course=c).source_id for c in copies] == [first.pk, second.pk]
    assert placements_of(copies[1])[0].lti_id_history == placements_of(second)[0].lti_id


def test_moving_a_course_keeps_its_ids(course):
    from courses.models import HomePage

    placement = placements_of(course)[0]
    before = (context_id(course), placement.lti_id)
    elsewhere = site_root().add_child(instance=HomePage(title="Archive", slug="archive"))
    course.move(elsewhere, pos="last-child")
    course.refresh_from_db()
    assert (context_id(course), placements_of(course)[0].lti_id) == before
    assert not CourseCopy.objects.exists()


def test_a_translation_is_a_copy(course):
    locale = Locale.objects.create(language_code="fr")
    site_root().copy_for_translation(locale)
    translation = course.copy_for_translation(locale).specific
    record = CourseCopy.objects.get(course=translation)
    assert (record.source_id, record.kind) == (course.pk, "translation")
    translation.save_revision().publish()
    assert placements_of(translation)[0].lti_id_history == placements_of(course)[0].lti_id


def test_an_alias_is_its_own_course_remembering_the_original(client, superuser, course, link):
    client.force_login(superuser)
    url = reverse("wagtailadmin_pages:copy", args=[course.pk])
    data = {
        "new_title": "Alias",
        "new_slug": "alias",
        "new_parent_page": site_root().pk,
        "alias": "on",
        "publish_copies": "on",
    }
    assert client.post(url, data).status_code == 302
    alias = Page.objects.get(slug="alias").specific
    assert alias.alias_of_id == course.pk
    record = CourseCopy.objects.get(course=alias)
    assert (record.source_id, record.kind) == (course.pk, "alias")
    assert placements_of(alias)[0].lti_id_history == placements_of(course)[0].lti_id
    # A block added to the original later reaches the alias (Wagtail updates aliases on
    # publish) with the original's placement as its origin.
    course.body.append(("lti_activity", {"resource_link": link, "title": "Added later"}))
    course.save_revision().publish()
    added = placements_of(course)[1]
    in_alias = Placement.objects.get(page=alias, block_id=added.block_id)
    assert in_alias.copied_from == added and in_alias.lti_id_history == added.lti_id


def test_admin_copy_view_records_the_copy_and_sends_course_copied(
    client, superuser, course, learner, django_capture_on_commit_callbacks
):
    """The door: Wagtail's Copy view (published copy: placements exist before the hook runs)."""
    _learner_data(course, learner)
    received = []

    def receiver(sender, course, source, record, **kwargs):
        received.append((course.pk, source.pk, record.kind))

    course_copied.connect(receiver)
    try:
        client.force_login(superuser)
        url = reverse("wagtailadmin_pages:copy", args=[course.pk])
        data = {
            "new_title": "Next term",
            "new_slug": "next-term",
            "new_parent_page": site_root().pk,
            "publish_copies": "on",
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, data)
    finally:
        course_copied.disconnect(receiver)
    assert response.status_code == 302
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]
    copy = Page.objects.get(slug="next-term").specific
    made, original = placements_of(copy)[0], placements_of(course)[0]
    assert made.copied_from == original and made.lti_id_history == original.lti_id
    assert received == [(copy.pk, course.pk, "copy")]
    assert not copy.lti_enrollments.exists()
    assert not Result.objects.filter(line_item__course=copy).exists()

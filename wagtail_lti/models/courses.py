"""Courses, their rosters, activity placements, and each learner's progress and scores."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .organizations import Organization
from .providers import LtiProvider, LtiResourceLink


PAGE_MODEL = "wagtailcore.Page"


def _new_opaque_id() -> str:
    return secrets.token_urlsafe(16)


class CoursePageMixin(models.Model):
    """Add to a site's own page model to make it a course that holds LTI activities.

    ::

        class CoursePage(CoursePageMixin, Page):
            body = StreamField([("lti_activity", CourseActivityBlock())], blank=True)
            content_panels = Page.content_panels + CoursePageMixin.course_panels + [FieldPanel("body")]
    """

    course_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
        null=True,
        blank=False,
    )
    course_code = models.CharField(_("course code"), max_length=64, blank=True)

    class Meta:
        abstract = True


class Enrollment(models.Model):
    """A user's place on a course's roster."""

    class Role(models.TextChoices):
        LEARNER = "learner", _("Learner")
        INSTRUCTOR = "instructor", _("Instructor")

    class Via(models.TextChoices):
        CLASS = "class", _("Class enrollment")
        SELF_PACED = "self_paced", _("Self-paced course assignment")

    course = models.ForeignKey(PAGE_MODEL, on_delete=models.CASCADE, related_name="lti_enrollments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_enrollments"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.LEARNER)
    via = models.CharField(_("enrolled through"), max_length=16, choices=Via.choices, default=Via.CLASS)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [models.UniqueConstraint(fields=["course", "user"], name="wagtail_lti_unique_enrollment")]

    def __str__(self) -> str:
        return f"{self.user} in {self.course} ({self.get_role_display()})"


class Placement(models.Model):
    """One course-activity block on one page: the LTI resource link as placed in a course.

    ``lti_id`` is what tools receive as ``resource_link_id`` (1.1) and ``resource_link.id`` (1.3):
    opaque, stable for the placement, unique across the platform.
    """

    page = models.ForeignKey(PAGE_MODEL, on_delete=models.CASCADE, related_name="lti_placements")
    block_id = models.CharField(max_length=64)
    resource_link = models.ForeignKey(
        LtiResourceLink, on_delete=models.SET_NULL, null=True, related_name="placements"
    )
    lti_id = models.CharField(max_length=64, unique=True, default=_new_opaque_id, editable=False)
    title = models.CharField(max_length=255, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["page", "block_id"], name="wagtail_lti_unique_placement")
        ]

    def __str__(self) -> str:
        return self.title or self.lti_id


class LearnerActivity(models.Model):
    """One learner's status on one placement: what the course page and the results report show."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        LAUNCHED = "launched", _("Launched")
        COMPLETED = "completed", _("Completed")

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="learner_activities")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    # Latest score, normalised to 0.0-1.0; null when none.
    score = models.FloatField(null=True, blank=True)
    score_source = models.CharField(max_length=32, blank=True)
    first_launched_at = models.DateTimeField(null=True, blank=True)
    last_launched_at = models.DateTimeField(null=True, blank=True)
    launch_count = models.PositiveIntegerField(default=0)
    scored_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("learner activity")
        verbose_name_plural = _("learner activities")
        constraints = [
            models.UniqueConstraint(fields=["placement", "user"], name="wagtail_lti_unique_learner_activity")
        ]


class LineItem(models.Model):
    """An AGS line item (a gradebook column) of one tool deployment in one course.

    Each placement whose resource link requires a score has one, created automatically; LTI 1.1
    Basic Outcomes write to that same line item.
    """

    provider = models.ForeignKey(LtiProvider, on_delete=models.CASCADE, related_name="line_items")
    course = models.ForeignKey(PAGE_MODEL, on_delete=models.CASCADE, related_name="lti_line_items")
    placement = models.ForeignKey(
        Placement, on_delete=models.CASCADE, null=True, blank=True, related_name="line_items"
    )
    label = models.CharField(max_length=255)
    score_maximum = models.FloatField(default=1)
    resource_id = models.CharField(max_length=255, blank=True)
    tag = models.CharField(max_length=255, blank=True)
    start_date_time = models.DateTimeField(null=True, blank=True)
    end_date_time = models.DateTimeField(null=True, blank=True)
    grades_released = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.label


class Result(models.Model):
    """The current score of one user on one line item; ``ScoreEvent`` keeps the history."""

    line_item = models.ForeignKey(LineItem, on_delete=models.CASCADE, related_name="results")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    score_given = models.FloatField(null=True, blank=True)
    score_maximum = models.FloatField(null=True, blank=True)
    activity_progress = models.CharField(max_length=32, blank=True)
    grading_progress = models.CharField(max_length=32, blank=True)
    comment = models.TextField(blank=True)
    # Timestamp the tool gave its latest accepted score (AGS: never overwrite with an older one).
    timestamp = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line_item", "user"], name="wagtail_lti_unique_result")
        ]


class ScoreEvent(models.Model):
    """Every score a tool sent and we accepted: when, from where, what."""

    class Source(models.TextChoices):
        OUTCOMES = "lti11_outcomes", _("LTI 1.1 Basic Outcomes")
        AGS = "ags", _("LTI 1.3 Assignment and Grade Services")

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="events")
    source = models.CharField(max_length=32, choices=Source.choices)
    score_given = models.FloatField(null=True, blank=True)
    score_maximum = models.FloatField(null=True, blank=True)
    activity_progress = models.CharField(max_length=32, blank=True)
    grading_progress = models.CharField(max_length=32, blank=True)
    comment = models.TextField(blank=True)
    timestamp = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

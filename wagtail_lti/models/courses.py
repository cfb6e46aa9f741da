"""Courses, their rosters, activity placements, and each learner's progress and scores."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel

from ..courses.forms import CoursePageForm
from .organizations import Organization
from .providers import LtiProvider, LtiResourceLink


PAGE_MODEL = "wagtailcore.Page"


def _new_opaque_id() -> str:
    return secrets.token_urlsafe(16)


class CoursePageMixin(models.Model):
    """Add to a site's own page model to make it a course that holds LTI activities.

    ::

        from wagtail.admin.panels import FieldPanel
        from wagtail.fields import StreamField
        from wagtail.models import Page

        from wagtail_lti.blocks import CourseActivityBlock
        from wagtail_lti.models import CoursePageMixin


        class CoursePage(CoursePageMixin, Page):
            body = StreamField([("lti_activity", CourseActivityBlock())], blank=True)
            content_panels = (
                Page.content_panels + CoursePageMixin.course_panels + [FieldPanel("body")]
            )

    What the mixin gives the page:

    * ``course_organization`` (the organization the course belongs to; it decides which LTI
      resource links the course may use) and ``course_code`` (sent to tools as the context label);
    * ``base_form_class``: the admin form refuses an organization the editor does not manage and
      any course-activity block whose resource link (or its provider) the course's organization
      may not use. A page with its own form class mixes in
      ``wagtail_lti.courses.forms.CoursePageFormMixin`` instead;
    * ``get_context``: adds ``lti_course``, everything the activity blocks of one page render
      needs for the visitor (roster entry, placements, progress), loaded with a constant number of
      queries however many blocks the page has;
    * on publish, every activity block gets its ``Placement`` (``wagtail_lti.courses.placements``);
    * when copied, the tools of its activities that registered a handler receive an
      ``LtiContextCopyNotice`` naming the copy and the original (``wagtail_lti.services.notices``).

    List the mixin before ``Page`` in the bases, so its ``base_form_class`` and ``get_context``
    win over ``Page``'s. Course-activity blocks must be top-level children of a ``StreamField``: a placement is
    identified by the block's id in its stream.
    """

    course_organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organization"),
        help_text=_(
            "The organization offering this course: only LTI resource links it may use can be added."
        ),
        null=True,
        blank=False,
    )
    course_code = models.CharField(
        _("course code"),
        max_length=64,
        blank=True,
        help_text=_("A short code such as “ENG-101”; tools show it as the course label."),
    )

    allow_self_enrollment = models.BooleanField(
        _("learners may enroll themselves"),
        default=False,
        help_text=_(
            "When ticked, a logged-in visitor who is not on the roster sees “Enroll in this "
            "course” on the page and becomes a learner (enrolled through self-enrollment)."
        ),
    )

    course_panels = [
        FieldPanel("course_organization"),
        FieldPanel("course_code"),
        FieldPanel("allow_self_enrollment"),
    ]

    base_form_class = CoursePageForm

    class Meta:
        abstract = True

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        from ..courses.view import course_view

        context["lti_course"] = course_view(request, self)
        return context

    def serve(self, request, *args, **kwargs):
        """Render the page with its context known to rich text's "content from a tool" embeds, so
        an LTI resource link inserted in rich text renders its launch
        (``content_selection/tool_content.py: rendering``)."""
        from django.template.response import SimpleTemplateResponse

        from ..content_selection.tool_content import rendering

        response = super().serve(request, *args, **kwargs)
        if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
            with rendering(response.context_data):
                response.render()
        return response

    def copy_all_child_relations(self, target, exclude=None):
        """Wagtail copies every page through this (the admin's copy, ``Page.copy``, a copied
        subtree, a translation): the copy remembers its original until it is first saved, when
        ``signals.py`` queues the tools' context copy notices (``services/notices.py``)."""
        target._wagtail_lti_copied_from = self
        return super().copy_all_child_relations(target, exclude=exclude)


def get_course_page_models() -> list[type]:
    """Every concrete page model that is a course (uses :class:`CoursePageMixin`)."""
    from wagtail.models import get_page_models

    return [
        model
        for model in get_page_models()
        if issubclass(model, CoursePageMixin) and not model._meta.abstract
    ]


class Enrollment(models.Model):
    """A user's place on a course's roster."""

    class Role(models.TextChoices):
        LEARNER = "learner", _("Learner")
        INSTRUCTOR = "instructor", _("Instructor")

    class Via(models.TextChoices):
        CLASS = "class", _("Class enrollment")
        SELF_PACED = "self_paced", _("Self-paced course assignment")
        SELF = "self", _("Self-enrollment")
        #: An editor's test learner (``launch/test_launch.py``): never counted in results.
        TEST = "test", _("Test learner of an editor")

    course = models.ForeignKey(PAGE_MODEL, on_delete=models.CASCADE, related_name="lti_enrollments")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_enrollments"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.LEARNER)
    via = models.CharField(
        _("enrolled through"), max_length=16, choices=Via.choices, default=Via.CLASS
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        constraints = [
            models.UniqueConstraint(fields=["course", "user"], name="wagtail_lti_unique_enrollment")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.course} ({self.get_role_display()})"


class TestLearner(models.Model):
    """The test learner of one editor in one course: the person an editor's test launch "as a
    learner" sends to the tool (``wagtail_lti.launch.test_launch``), so the tool's scores for it
    are kept apart from learners' and never counted in the results report. ``course`` is empty for
    the test learner of launches from the admin's catalogue (no course, so no scores)."""

    course = models.ForeignKey(
        PAGE_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_test_learners"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lti_test_learner_of"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    __test__ = False  # not a test, whatever pytest thinks of the name

    class Meta:
        verbose_name = _("test learner")
        verbose_name_plural = _("test learners")
        constraints = [
            models.UniqueConstraint(
                fields=["course", "editor"], name="wagtail_lti_unique_test_learner"
            )
        ]

    def __str__(self) -> str:
        return f"Test learner of {self.editor} in {self.course_id}"


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
    #: The placement this one was copied from (its block on the course page this page was copied
    #: from), when the course is a copy; ``None`` when the block was added to this course.
    copied_from = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="copies"
    )
    #: ``$ResourceLink.id.history``: the ``lti_id`` of the placements this one was copied from,
    #: most recent first, comma-separated (each URL-encoded); empty when not a copy. Kept as text
    #: so it outlives the deletion of the originals (``wagtail_lti.courses.copies``).
    lti_id_history = models.TextField(blank=True, default="", editable=False)
    # False once the block is no longer on the published page; kept for its results.
    is_active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["page", "block_id"], name="wagtail_lti_unique_placement"
            )
        ]

    def __str__(self) -> str:
        return self.title or self.lti_id


class CourseCopy(models.Model):
    """Where a course page came from: the course it was copied (or aliased, or translated) from.

    Written by ``wagtail_lti.courses.copies.record_copy`` when a course page is copied; a course
    made from scratch has none. ``context_id_history`` is ``$Context.id.history`` (the context ids
    of the ancestors, most recent first); ``link_histories`` maps each activity block id of the
    copy to what its placement remembers (``{"placement": pk, "history": "id1,id2"}``), used when
    the placement is created (the copy may be published later).
    """

    class Kind(models.TextChoices):
        COPY = "copy", _("Copy")
        ALIAS = "alias", _("Alias")
        TRANSLATION = "translation", _("Copy for translation")

    course = models.OneToOneField(
        PAGE_MODEL, on_delete=models.CASCADE, related_name="lti_course_copy"
    )
    source = models.ForeignKey(
        PAGE_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.COPY)
    context_id_history = models.TextField(blank=True, default="")
    link_histories = models.JSONField(default=dict, blank=True)
    copied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("course copy")
        verbose_name_plural = _("course copies")

    def __str__(self) -> str:
        return f"{self.course_id} copied from {self.source_id}"


class LearnerActivity(models.Model):
    """One learner's status on one placement: what the course page and the results report show."""

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        LAUNCHED = "launched", _("Launched")
        COMPLETED = "completed", _("Completed")

    placement = models.ForeignKey(
        Placement, on_delete=models.CASCADE, related_name="learner_activities"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NOT_STARTED)
    # The score shown, normalised to 0.0-1.0; null when none: the instructor's override while
    # one stands, else the tool's latest (``wagtail_lti.services.results``).
    score = models.FloatField(null=True, blank=True)
    #: Where the shown score comes from: a ``ScoreEvent.Source`` value (``instructor`` for an
    #: override); empty without a score.
    score_source = models.CharField(max_length=32, blank=True)
    #: The tool's latest ``activityProgress`` and ``gradingProgress`` (AGS; Basic Outcomes'
    #: ``replaceResult`` is ``Completed`` / ``FullyGraded``), and the comment shown with the score.
    activity_progress = models.CharField(max_length=32, blank=True)
    grading_progress = models.CharField(max_length=32, blank=True)
    comment = models.TextField(blank=True)
    first_launched_at = models.DateTimeField(null=True, blank=True)
    last_launched_at = models.DateTimeField(null=True, blank=True)
    launch_count = models.PositiveIntegerField(default=0)
    scored_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("learner activity")
        verbose_name_plural = _("learner activities")
        constraints = [
            models.UniqueConstraint(
                fields=["placement", "user"], name="wagtail_lti_unique_learner_activity"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.placement} ({self.get_status_display()})"


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
    #: Submission Review 1.0: the tool's ``submissionReview`` declaration as returned by the AGS
    #: line item API (``reviewableStatus``, ``label``, ``url``, ``custom``; checked by
    #: ``lti.submission_review.parse_submission_review``), or ``None``: not reviewable.
    submission_review = models.JSONField(null=True, blank=True, default=None)
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
    #: The current score arrived outside the resource link's submission dates
    #: (``services.results.submission_rule``); shown to instructors as "late".
    late = models.BooleanField(_("late"), default=False)
    updated_at = models.DateTimeField(auto_now=True)
    # An instructor's override (``wagtail_lti.services.results.override_score``): kept apart from
    # the tool's score above, which tools read back; it stands while ``override_at`` is set.
    override_score_given = models.FloatField(null=True, blank=True)
    override_score_maximum = models.FloatField(null=True, blank=True)
    override_comment = models.TextField(blank=True)
    #: True: the override stands until an instructor clears it (later tool scores are recorded,
    #: not shown). False: the tool's next score replaces it.
    override_keep = models.BooleanField(default=False)
    override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    override_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line_item", "user"], name="wagtail_lti_unique_result")
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.line_item}: {self.score_given}/{self.score_maximum}"


class ScoreEvent(models.Model):
    """Every score a tool sent and we accepted, and every instructor override and its
    clearing: when, from where, what."""

    class Source(models.TextChoices):
        OUTCOMES = "lti11_outcomes", _("LTI 1.1 Basic Outcomes")
        AGS = "ags", _("LTI 1.3 Assignment and Grade Services")
        INSTRUCTOR = "instructor", _("Instructor override")
        INSTRUCTOR_CLEARED = "instructor_cleared", _("Override cleared (the tool's score again)")

    result = models.ForeignKey(Result, on_delete=models.CASCADE, related_name="events")
    source = models.CharField(max_length=32, choices=Source.choices)
    score_given = models.FloatField(null=True, blank=True)
    score_maximum = models.FloatField(null=True, blank=True)
    activity_progress = models.CharField(max_length=32, blank=True)
    grading_progress = models.CharField(max_length=32, blank=True)
    comment = models.TextField(blank=True)
    timestamp = models.DateTimeField(null=True, blank=True)
    #: Received outside the resource link's submission dates.
    late = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)
    #: The instructor who overrode or cleared (``None`` for a tool's score).
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    #: A tool's score recorded while an instructor's override stood, so not shown.
    held = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.get_source_display()} score {self.score_given}/{self.score_maximum}"

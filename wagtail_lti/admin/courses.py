"""Admin of courses: enrollments and the results report.

* **Enrollments** (menu "Courses" → "Enrollments", viewset URL names ``wagtail_lti_enrollments:*``):
  a course's roster, learners and instructors, enrolled through a class enrollment or a self-paced
  course assignment. Every view is limited to courses whose organization the editor manages
  (``wagtail_lti.scoping.managed_courses``): the listing, the course choices of the form (checked
  again on save), and the edit, delete, history and usage views (404 outside). Reachable from a
  course page in the admin (its header's "More" menu and the page listing's "More" menu: "Enrollments"
  opens the listing filtered by that course, ``?course=<page id>``).
* **LTI results** (menu "Reports" → "LTI results", URL name ``wagtail_lti_results_report``): one
  row per learner and activity of the editor's courses, with status (as
  ``courses/progress.py: shown_progress`` calls it), score, its source (tool or instructor
  override), the tool's grading and activity progress, the comment and dates, a link to each
  course's class view (score history, overrides), filters by organization, course, activity and
  status, CSV and XLSX export. Requires the ``wagtail_lti.view_learneractivity`` permission (or
  superuser). A row whose result the tool declared reviewable (Submission Review 1.0) has a
  "Review submission" button (the include ``wagtail_lti/courses/includes/result_actions.html``,
  the rule ``services/submission_review.py: may_review``).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, OuterRef, Q, Subquery, TextField, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.generic import FormView
from wagtail import hooks
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.menus.pages import PageMenuItem
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.views.reports import ReportView
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.admin.widgets.button import HeaderButton
from wagtail.permission_policies import ModelPermissionPolicy

from .. import scoping
from ..conf import lti_settings
from ..courses import copies, enrollments, lti_changes, progress
from ..forms import show_only_allowed_choices
from ..launch.test_launch import counted_enrollments
from ..models import Enrollment, LearnerActivity, Placement
from ..models.courses import CoursePageMixin, get_course_page_models
from .people import person_chooser_viewset


# --- Enrollments ------------------------------------------------------------------------------


def _user_label(user) -> str:
    full_name = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    username = user.get_username()
    return f"{full_name} ({username})" if full_name else username


class EnrollmentForm(WagtailAdminModelForm):
    """Course choices limited to the editor's courses; the users offered are the active ones who
    are not superusers (``scoping.offerable_users``)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        course = self.fields["course"]
        course.widget = forms.Select()
        course.queryset = (
            scoping.managed_courses(self.for_user).order_by("title")
            if self.for_user is not None
            else course.queryset.none()
        )
        course.error_messages["invalid_choice"] = _(
            "Choose a course of an organization you manage."
        )
        course.label_from_instance = lambda page: page.get_admin_display_title()
        user = self.fields["user"]
        # A searchable picker (admin/people.py), not a drop-down of every user.
        user.widget = person_chooser_viewset.widget_class()
        user.queryset = scoping.offerable_users(self.instance.user_id).order_by(
            "last_name", "first_name", "username"
        )
        user.label_from_instance = _user_label
        show_only_allowed_choices(user)

    class Meta:
        model = Enrollment
        fields = ["course", "user", "role", "via", "is_active"]
        widgets = {"role": forms.RadioSelect, "via": forms.RadioSelect}


class EnrollmentFilterSet(WagtailFilterSet):
    course = django_filters.ModelChoiceFilter(
        label=_("Course"),
        queryset=lambda request: scoping.managed_courses(request.user).order_by("title"),
    )
    role = django_filters.ChoiceFilter(label=_("Role"), choices=Enrollment.Role.choices)
    via = django_filters.ChoiceFilter(label=_("Enrolled through"), choices=Enrollment.Via.choices)
    is_active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Enrollment
        fields = ["course", "role", "via", "is_active"]


class ScopedEnrollmentMixin:
    """404 for an enrollment outside the editor's courses, whichever view loads it."""

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if (
            obj is not None
            and not scoping.managed_courses(self.request.user).filter(pk=obj.course_id).exists()
        ):
            raise Http404
        return obj


class EnrollmentIndexView(generic.IndexView):
    def get_base_queryset(self):
        return scoping.enrollments_of_managed_courses(
            super().get_base_queryset(), self.request.user
        ).select_related("user", "course")

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if self.permission_policy.user_has_permission(self.request.user, "add"):
            bulk_url = reverse(enrollment_viewset.get_url_name("bulk"))
            course = self.request.GET.get("course", "")
            if course.isdigit():
                bulk_url += f"?course={course}"
            buttons.append(HeaderButton(_("Enroll many"), url=bulk_url, icon_name="group"))
        return buttons


# --- Bulk enrollment (the rule: wagtail_lti.courses.enrollments) --------------------------------


class BulkEnrollmentForm(forms.Form):
    """Enroll many people in one course: a pasted list, a CSV file, everyone of an organization."""

    course = forms.ModelChoiceField(queryset=None, label=_("Course"))
    role = forms.ChoiceField(
        label=_("Role"),
        choices=Enrollment.Role.choices,
        initial=Enrollment.Role.LEARNER,
        widget=forms.RadioSelect,
    )
    via = forms.ChoiceField(
        label=_("Enrolled through"),
        choices=[
            (Enrollment.Via.CLASS, Enrollment.Via.CLASS.label),
            (Enrollment.Via.SELF_PACED, Enrollment.Via.SELF_PACED.label),
        ],
        initial=Enrollment.Via.CLASS,
        widget=forms.RadioSelect,
    )
    people = forms.CharField(
        label=_("Usernames or email addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_("One per line (or paste a column from a spreadsheet)."),
    )
    csv_file = forms.FileField(
        label=_("CSV file"),
        required=False,
        help_text=_(
            "Usernames or email addresses in the first column; a header line is skipped. "
            "At most %(kb)s KB."
        ),
    )
    organization = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("Everyone of an organization"),
        empty_label=_("Nobody"),
        help_text=_(
            "Its members and managers, and those of its sub-organizations (organizations you "
            "manage)."
        ),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        course = self.fields["course"]
        course.queryset = scoping.managed_courses(user).order_by("title")
        course.label_from_instance = lambda page: page.get_admin_display_title()
        course.error_messages["invalid_choice"] = _(
            "Choose a course of an organization you manage."
        )
        organization = self.fields["organization"]
        organization.queryset = scoping.managed_organizations(user).order_by("path")
        organization.label_from_instance = lambda org: org.get_indented_name()
        organization.error_messages["invalid_choice"] = _("Choose an organization you manage.")
        csv_file = self.fields["csv_file"]
        csv_file.help_text = csv_file.help_text % {
            "kb": lti_settings.BULK_ENROLLMENT_MAX_BYTES // 1024
        }
        csv_file.widget.attrs["accept"] = ".csv,text/csv,text/plain"
        self.plan = None

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            entries = [
                (_("Line %(number)d"), number, value)
                for number, value in enrollments.read_people(cleaned.get("people") or "")
            ]
            upload = cleaned.get("csv_file")
            if upload:
                text = enrollments.read_upload(upload)
                entries += [
                    (_("File line %(number)d"), number, value)
                    for number, value in enrollments.read_people(text)
                ]
            organization = cleaned.get("organization")
            members = (
                list(enrollments.organization_members(organization)[: self._members_cap()])
                if organization
                else []
            )
            if not entries and not members:
                raise ValidationError(
                    _(
                        "Nobody to enroll: type usernames or email addresses, choose a CSV file "
                        "or an organization with members."
                    )
                )
            self.plan = enrollments.plan(
                cleaned["course"],
                entries,
                role=cleaned["role"],
                via=cleaned["via"],
                members=members,
            )
        except enrollments.BulkRefused as refused:
            raise ValidationError(str(refused)) from None
        problems = self.plan.problems
        if problems:
            shown = [line.describe() for line in problems[:50]]
            if len(problems) > 50:
                shown.append(_("… and %(count)d more.") % {"count": len(problems) - 50})
            raise ValidationError(
                [
                    ngettext(
                        "Nobody was enrolled: %(count)d line does not name one person. Correct "
                        "it (or remove it) and send the list again.",
                        "Nobody was enrolled: %(count)d lines do not name one person. Correct "
                        "them (or remove them) and send the list again.",
                        len(problems),
                    )
                    % {"count": len(problems)},
                    *shown,
                ]
            )
        return cleaned

    @staticmethod
    def _members_cap() -> int:
        return lti_settings.BULK_ENROLLMENT_MAX_ROWS + 1  # one more: "too many" is then seen


class BulkEnrollmentView(WagtailAdminTemplateMixin, FormView):
    """Courses → Enrollments → "Enroll many". All-or-nothing: see ``courses/enrollments.py``."""

    template_name = "wagtail_lti/admin/bulk_enrollment.html"
    page_title = _("Enroll many")
    header_icon = "group"
    form_class = BulkEnrollmentForm

    def dispatch(self, request, *args, **kwargs):
        if not enrollment_viewset.permission_policy.user_has_permission(request.user, "add"):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def get_initial(self):
        initial = super().get_initial()
        course = self.request.GET.get("course", "")
        if course.isdigit():
            initial["course"] = int(course)
        return initial

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse(enrollment_viewset.get_url_name("index")), "label": _("Enrollments")},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["action_url"] = self.request.get_full_path()
        context["submit_button_label"] = _("Enroll")
        context["submit_button_active_label"] = _("Enrolling…")
        context["media"] = context["form"].media
        return context

    def form_valid(self, form):
        plan = form.plan
        try:
            created = enrollments.enroll(plan)
        except enrollments.BulkRefused as refused:
            form.add_error(None, str(refused))
            return self.form_invalid(form)
        messages.success(
            self.request,
            ngettext(
                "%(count)d person enrolled in “%(course)s”.",
                "%(count)d people enrolled in “%(course)s”.",
                len(created),
            )
            % {"count": len(created), "course": plan.course.title},
        )
        roster_url = reverse(enrollment_viewset.get_url_name("index")) + f"?course={plan.course.pk}"
        return self.render_to_response(
            self.get_context_data(
                form=self.get_form_class()(
                    user=self.request.user, initial={"course": plan.course.pk}
                ),
                report=plan,
                created_count=len(created),
                skipped=[line for line in plan.lines if line.status != line.NEW],
                roster_url=roster_url,
            )
        )


class EnrollmentCreateView(generic.CreateView):
    def get_initial(self):
        initial = super().get_initial()
        course = self.request.GET.get("course", "")
        if course.isdigit():
            initial["course"] = int(course)
        return initial


class EnrollmentEditView(ScopedEnrollmentMixin, generic.EditView):
    pass


class EnrollmentDeleteView(ScopedEnrollmentMixin, generic.DeleteView):
    pass


class EnrollmentHistoryView(ScopedEnrollmentMixin, HistoryView):
    pass


class EnrollmentUsageView(ScopedEnrollmentMixin, UsageView):
    pass


class EnrollmentViewSet(ModelViewSet):
    model = Enrollment
    icon = "group"
    menu_label = _("Enrollments")
    url_prefix = "lti/enrollments"
    copy_view_enabled = False
    index_view_class = EnrollmentIndexView
    add_view_class = EnrollmentCreateView
    edit_view_class = EnrollmentEditView
    delete_view_class = EnrollmentDeleteView
    history_view_class = EnrollmentHistoryView
    usage_view_class = EnrollmentUsageView
    filterset_class = EnrollmentFilterSet
    search_fields = [
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "course__title",
    ]
    search_backend_name = None
    list_display = [
        Column(
            "person",
            label=_("Person"),
            accessor=lambda enrollment: _user_label(enrollment.user),
            sort_key="user__username",
        ),
        Column("course", label=_("Course"), sort_key="course__title"),
        "role",
        "via",
        Column(
            "is_active",
            label=_("Active"),
            accessor=lambda enrollment: _("Yes") if enrollment.is_active else _("No"),
            sort_key="is_active",
        ),
        DateColumn("created_at", label=_("Enrolled"), sort_key="created_at"),
    ]
    list_export = [
        "user.username",
        "user.email",
        "course.title",
        "role",
        "via",
        "is_active",
        "created_at",
    ]
    export_headings = {
        "user.username": _("Username"),
        "user.email": _("Email"),
        "course.title": _("Course"),
        "role": _("Role"),
        "via": _("Enrolled through"),
        "is_active": _("Active"),
        "created_at": _("Enrolled"),
    }

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("bulk/", BulkEnrollmentView.as_view(), name="bulk"),
        ]

    edit_handler = ObjectList(
        [
            FieldPanel("course"),
            FieldPanel("user"),
            FieldPanel("role"),
            FieldPanel("via"),
            FieldPanel("is_active"),
        ],
        base_form_class=EnrollmentForm,
    )


enrollment_viewset = EnrollmentViewSet("wagtail_lti_enrollments")


class CoursesViewSetGroup(ModelViewSetGroup):
    menu_label = _("Courses")
    menu_icon = "group"
    menu_order = 260
    items = (enrollment_viewset,)


@hooks.register("register_admin_viewset")
def register_courses_viewsets():
    return CoursesViewSetGroup()


@hooks.register("register_admin_viewset")
def register_person_chooser():
    return person_chooser_viewset


def _is_course_page(page) -> bool:
    return issubclass(page.specific_class or type(page), CoursePageMixin)


def _course_menu_items(page, user):
    if not _is_course_page(page):
        return
    if enrollment_viewset.permission_policy.user_has_any_permission(
        user, ["add", "change", "delete", "view"]
    ):
        yield PageMenuItem(
            _("Enrollments"),
            url=reverse(enrollment_viewset.get_url_name("index")) + f"?course={page.pk}",
            icon_name="group",
            priority=80,
            page=page,
        )
    if ResultsReportView.permission_policy.user_has_any_permission(
        user, ResultsReportView.any_permission_required
    ):
        yield PageMenuItem(
            _("LTI results"),
            url=reverse("wagtail_lti_results_report") + f"?course={page.pk}",
            icon_name="tasks",
            priority=81,
            page=page,
        )


# Copying and deleting course pages ask the rule of wagtail_lti.courses.lti_changes (the page
# form asks it for adding, editing and reverting).
hooks.register("before_copy_page", lti_changes.guard_copy_page)
# A copied course (or alias) remembers where it came from (wagtail_lti.courses.copies).
hooks.register("after_copy_page", copies.after_copy_page)
hooks.register("before_delete_page", lti_changes.guard_delete_page)
hooks.register("before_bulk_action", lti_changes.guard_bulk_action)


@hooks.register("register_page_header_buttons")
def course_page_header_buttons(page, user, view_name, next_url=None):
    yield from _course_menu_items(page, user)


@hooks.register("register_page_listing_more_buttons")
def course_page_listing_buttons(page, user, next_url=None):
    yield from _course_menu_items(page, user)


# --- Results report ---------------------------------------------------------------------------


def _activity_subquery(field: str):
    return Subquery(
        LearnerActivity.objects.filter(
            placement_id=OuterRef("placement_id"), user_id=OuterRef("user_id")
        ).values(field)[:1]
    )


def _course_organization_name():
    names = [
        Subquery(
            model._default_manager.filter(pk=OuterRef("course_id")).values(
                "course_organization__name"
            )[:1]
        )
        for model in get_course_page_models()
    ]
    return Coalesce(*names, Value(""), Value(""))


def results_queryset(user):
    """One row per (learner enrollment, activity) of the courses ``user`` manages.

    A row is an ``Enrollment`` annotated with its course's placement (``placement_id``,
    ``activity_title``) and the learner's progress on it (``status``, ``score``, dates); learners
    who have not started an activity appear as "not started". Activities removed from their page
    appear only for learners who started them. Editors' test learners are never counted
    (``launch/test_launch.py: counted_enrollments``).
    """
    enrollments = Enrollment.objects.filter(
        role=Enrollment.Role.LEARNER, course__in=scoping.managed_courses(user)
    )
    return (
        counted_enrollments(enrollments)  # never the editors' test learners
        .annotate(
            placement_id=F("course__lti_placements__id"),
            activity_title=F("course__lti_placements__title"),
            placement_active=F("course__lti_placements__is_active"),
        )
        .filter(placement_id__isnull=False)
        .annotate(
            status=Coalesce(
                _activity_subquery("status"), Value(LearnerActivity.Status.NOT_STARTED)
            ),
            score=_activity_subquery("score"),
            score_source=Coalesce(_activity_subquery("score_source"), Value("")),
            activity_progress=Coalesce(_activity_subquery("activity_progress"), Value("")),
            grading_progress=Coalesce(_activity_subquery("grading_progress"), Value("")),
            comment=Coalesce(_activity_subquery("comment"), Value(""), output_field=TextField()),
            launch_count=Coalesce(_activity_subquery("launch_count"), Value(0)),
            first_launched_at=_activity_subquery("first_launched_at"),
            last_launched_at=_activity_subquery("last_launched_at"),
            completed_at=_activity_subquery("completed_at"),
            scored_at=_activity_subquery("scored_at"),
            organization_name=_course_organization_name(),
        )
        .filter(Q(placement_active=True) | ~Q(status=LearnerActivity.Status.NOT_STARTED))
        .select_related("user", "course")
    )


def _filter_organization(queryset, name, value):
    if not value:
        return queryset
    return queryset.filter(course__in=scoping.courses_of_organization(value))


def _filter_activity(queryset, name, value):
    if not value:
        return queryset
    return queryset.filter(placement_id=value.pk)


def _filter_status(queryset, name, value):
    if not value:
        return queryset
    return queryset.filter(status=value)


class ResultsFilterSet(WagtailFilterSet):
    organization = django_filters.ModelChoiceFilter(
        label=_("Organization"),
        queryset=lambda request: scoping.managed_organizations(request.user).order_by("path"),
        method=_filter_organization,
    )
    course = django_filters.ModelChoiceFilter(
        label=_("Course"),
        queryset=lambda request: scoping.managed_courses(request.user).order_by("title"),
    )
    activity = django_filters.ModelChoiceFilter(
        label=_("Activity"),
        queryset=lambda request: (
            Placement.objects.filter(page__in=scoping.managed_courses(request.user))
            .select_related("page")
            .order_by("page__title", "title")
        ),
        method=_filter_activity,
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=LearnerActivity.Status.choices, method=_filter_status
    )

    class Meta:
        model = Enrollment
        fields = ["organization", "course", "activity", "status"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fields = self.form.fields
        fields["organization"].label_from_instance = lambda org: org.get_indented_name()
        fields["course"].label_from_instance = lambda page: page.get_admin_display_title()
        fields["activity"].label_from_instance = lambda p: f"{p.title or p.lti_id} — {p.page.title}"


class ResultStatusColumn(Column):
    """A learner's status on an activity as a tag coloured by status (``results.css``): a
    completed activity stands out from one not started or only launched."""

    cell_template_name = "wagtail_lti/admin/tables/result_status_cell.html"

    class Media:
        css = {"all": ["wagtail_lti/css/results.css"]}

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        # What the progress is called (``courses/progress.py: shown_progress``): completed,
        # pending grading, submitted... each coloured apart.
        context["status"] = getattr(instance, "progress", instance.status)
        return context


def decorate_result_row(row):
    """Add display values to one report row (an annotated ``Enrollment``), in place."""
    user = row.user
    row.learner = _user_label(user)
    row.username = user.get_username()
    row.email = getattr(user, "email", "")
    row.course_title = row.course.title
    row.progress = progress.shown_progress(
        row.status, row.score_source, row.activity_progress, row.grading_progress
    )
    row.status_label = progress.progress_label(row.progress)
    row.score_percent = round(row.score * 100, 2) if row.score is not None else None
    row.score_display = f"{row.score_percent:g}%" if row.score_percent is not None else ""
    row.source_label = progress.source_label(row.score_source)
    row.short_source_label = progress.short_source_label(row.score_source)
    # The course's class view (score history, overrides): its editors may open it, as
    # ``scoping.class_access`` allows whoever may read this report for a managed course.
    row.class_link = format_html(
        '<a href="{}">{}</a>',
        reverse("wagtail_lti:class_view", args=[row.course_id]),
        _("Class view"),
    )
    return row


class ResultCellColumn(Column):
    """A results report cell of several facts (its ``cell_template_name``; ``results.css``)."""

    class Media:
        css = {"all": ["wagtail_lti/css/results.css"]}

    def __init__(self, *args, cell_template_name: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.cell_template_name = cell_template_name


class ReviewColumn(Column):
    """The row's "Review submission" buttons (one per result the tool declared reviewable)."""

    cell_template_name = "wagtail_lti/admin/results/review_cell.html"


def attach_review_results(rows) -> None:
    """Give each report row its ``review_results``: the learner's results on the activity's line
    items that carry a submission review declaration (one query for the page of rows); the
    include asks the rule for each."""
    from ..services.submission_review import reviewable_results

    rows = list(rows)
    for row in rows:
        row.review_results = []
    if not rows:
        return
    by_key = {(row.placement_id, row.user_id): row for row in rows}
    candidates = reviewable_results().filter(
        line_item__placement_id__in={row.placement_id for row in rows},
        user_id__in={row.user_id for row in rows},
    )
    for result in candidates.order_by("line_item_id"):
        row = by_key.get((result.line_item.placement_id, result.user_id))
        if row is not None:
            row.review_results.append(result)


class ResultsReportView(ReportView):
    page_title = _("LTI results")
    header_icon = "tasks"
    index_url_name = "wagtail_lti_results_report"
    index_results_url_name = "wagtail_lti_results_report_results"
    filterset_class = ResultsFilterSet
    is_searchable = True
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email"]
    search_backend_name = None
    default_ordering = "course__title"
    paginate_by = 50
    # The explicit permission check: viewing learners' results.
    permission_policy = ModelPermissionPolicy(LearnerActivity)
    any_permission_required = ["view", "change"]
    columns = [
        Column("learner", label=_("Learner"), sort_key="user__username"),
        Column("course_title", label=_("Course"), sort_key="course__title"),
        Column("organization_name", label=_("Organization"), sort_key="organization_name"),
        Column("activity_title", label=_("Activity"), sort_key="activity_title"),
        ResultStatusColumn("status_label", label=_("Status"), sort_key="status"),
        # The score with its source, the tool's grading progress and comment in one cell, and the
        # dates in another, so the table fits the screen; the exports have a column for each (and
        # "First launched").
        ResultCellColumn(
            "score_display",
            label=_("Score"),
            sort_key="score",
            cell_template_name="wagtail_lti/admin/results/score_cell.html",
        ),
        ReviewColumn("review", label=_("Review")),
        ResultCellColumn(
            "last_launched_at",
            label=_("Launches and dates"),
            sort_key="last_launched_at",
            cell_template_name="wagtail_lti/admin/results/dates_cell.html",
        ),
        Column("class_link", label=_("Class")),
    ]
    list_export = [
        "learner",
        "username",
        "email",
        "course_title",
        "organization_name",
        "activity_title",
        "status_label",
        "score_percent",
        "source_label",
        "grading_progress",
        "activity_progress",
        "comment",
        "scored_at",
        "launch_count",
        "first_launched_at",
        "last_launched_at",
        "completed_at",
    ]
    export_headings = {
        "learner": _("Learner"),
        "username": _("Username"),
        "email": _("Email"),
        "course_title": _("Course"),
        "organization_name": _("Organization"),
        "activity_title": _("Activity"),
        "status_label": _("Status"),
        "score_percent": _("Score (%)"),
        "source_label": _("Source"),
        "grading_progress": _("Grading progress"),
        "activity_progress": _("Activity progress"),
        "comment": _("Comment"),
        "scored_at": _("Scored"),
        "launch_count": _("Launches"),
        "first_launched_at": _("First launched"),
        "last_launched_at": _("Last launched"),
        "completed_at": _("Completed"),
    }

    def get_filename(self):
        return "lti-results"

    def get_base_queryset(self):
        return results_queryset(self.request.user)

    def order_queryset(self, queryset):
        queryset = super().order_queryset(queryset)
        return queryset.order_by(
            *queryset.query.order_by, "course__title", "activity_title", "user__username", "pk"
        )

    def decorate_paginated_queryset(self, object_list):
        # In place: the listing table holds the same (evaluated) page of rows.
        for row in object_list:
            decorate_result_row(row)
        attach_review_results(object_list)
        return object_list


@hooks.register("register_admin_urls")
def register_results_report_urls():
    return [
        path(
            "reports/lti-results/", ResultsReportView.as_view(), name="wagtail_lti_results_report"
        ),
        path(
            "reports/lti-results/results/",
            ResultsReportView.as_view(results_only=True),
            name="wagtail_lti_results_report_results",
        ),
    ]


class ResultsReportMenuItem(MenuItem):
    def is_shown(self, request):
        return ResultsReportView.permission_policy.user_has_any_permission(
            request.user, ResultsReportView.any_permission_required
        )


@hooks.register("register_reports_menu_item")
def register_results_report_menu_item():
    return ResultsReportMenuItem(
        _("LTI results"),
        reverse("wagtail_lti_results_report"),
        name="lti-results",
        icon_name="tasks",
        order=1500,
    )


__all__ = [
    "EnrollmentViewSet",
    "ResultsReportView",
    "enrollment_viewset",
    "results_queryset",
]

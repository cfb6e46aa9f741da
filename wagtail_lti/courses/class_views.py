"""The class view of a course (thin views): ``wagtail_lti:class_view`` and ``wagtail_lti:class_cell``.

Each view loads the course page, asks ``wagtail_lti.scoping.class_access`` who may see (and
override), then ``wagtail_lti.courses.progress`` for the grid, the export rows, a cell's detail
and the override. A visitor not logged in is sent to log in; anyone else the rule refuses gets a
page saying so (403), a course or cell that does not exist a 404 page.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from wagtail.admin.views.mixins import SpreadsheetExportMixin
from wagtail.models import Page

from .. import scoping
from ..services.results import OverrideRefused
from . import progress


class OverrideForm(forms.Form):
    score = forms.FloatField(label=gettext_lazy("Score"), min_value=0)
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        help_text=gettext_lazy("Kept with the score: in the history, the class and its export."),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    keep = forms.BooleanField(
        label=gettext_lazy("Keep this score until I clear it"),
        help_text=gettext_lazy(
            "Scores the tool sends later are recorded in the history but not shown. Unticked: "
            "the tool's next score replaces this one."
        ),
        required=False,
    )

    def __init__(self, *args, maximum=None, **kwargs):
        super().__init__(*args, **kwargs)
        if maximum:
            self.fields["score"].max_value = maximum
            self.fields["score"].validators.append(
                forms.fields.validators.MaxValueValidator(maximum)
            )
            self.fields["score"].label = _("Score (out of %(maximum)s)") % {
                "maximum": f"{maximum:g}"
            }
            self.fields["score"].widget.attrs.update({"max": f"{maximum:g}", "step": "any"})


class ClassExport(SpreadsheetExportMixin):
    """The grid as a spreadsheet (CSV cells neutralised by ``wagtail_lti.security.exports``)."""

    list_export = [
        "learner_name",
        "username",
        "email",
        "activity_title",
        "progress_label",
        "score_number",
        "late_label",
        "source_label",
        "grading_progress",
        "activity_progress",
        "comment",
        "scored_at",
        "last_launched_at",
    ]
    export_headings = {
        "learner_name": gettext_lazy("Learner"),
        "username": gettext_lazy("Username"),
        "email": gettext_lazy("Email"),
        "activity_title": gettext_lazy("Activity"),
        "progress_label": gettext_lazy("Status"),
        "score_number": gettext_lazy("Score (%)"),
        "late_label": gettext_lazy("Late"),
        "source_label": gettext_lazy("Source"),
        "grading_progress": gettext_lazy("Grading progress"),
        "activity_progress": gettext_lazy("Activity progress"),
        "comment": gettext_lazy("Comment"),
        "scored_at": gettext_lazy("Scored"),
        "last_launched_at": gettext_lazy("Last launched"),
    }

    def __init__(self, course):
        self.course = course

    def get_filename(self):
        return f"class-{self.course.slug or self.course.pk}"


def _course(course_id):
    page = Page.objects.filter(pk=course_id).first()
    if page is None:
        return None
    page = page.specific
    return page if hasattr(type(page), "course_organization") else None


def _refused(request, message: str, status: int):
    return render(
        request,
        "wagtail_lti/courses/class_refused.html",
        {"message": message},
        status=status,
    )


def _checked(request, course_id):
    """``(course, access, None)`` or ``(None, None, response)`` refusing the request."""
    if not request.user.is_authenticated:
        return None, None, redirect_to_login(request.get_full_path())
    course = _course(course_id)
    if course is None:
        return None, None, _refused(request, _("This course does not exist."), 404)
    access = scoping.class_access(request.user, course)
    if not access.may_see:
        return (
            None,
            None,
            _refused(
                request,
                _(
                    "Only the instructors of “%(course)s” (and the administrators of its "
                    "organization) can see its class."
                )
                % {"course": course.title},
                403,
            ),
        )
    return course, access, None


@never_cache
@require_GET
def class_view(request, course_id: int):
    """The learners × activities grid (``?page=``), or its export (``?export=csv`` / ``xlsx``)."""
    course, access, refused = _checked(request, course_id)
    if refused is not None:
        return refused
    export_format = request.GET.get("export")
    if export_format in SpreadsheetExportMixin.FORMATS:
        return ClassExport(course).as_spreadsheet(progress.class_rows(course), export_format)
    grid = progress.class_grid(course, page=request.GET.get("page", 1))
    return render(
        request,
        "wagtail_lti/courses/class_view.html",
        {
            "course": course,
            "grid": grid,
            "access": access,
            "course_url": course.get_url(request) or "",
            "export_csv_url": request.path + "?export=csv",
            "export_xlsx_url": request.path + "?export=xlsx",
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def class_cell(request, course_id: int, placement_id: int, learner_id: int):
    """One learner's result on one activity, its history, and the override form (POST
    ``action=override`` with ``score``, ``comment``, ``keep``; ``action=clear``: use the tool's
    score again)."""
    course, access, refused = _checked(request, course_id)
    if refused is not None:
        return refused
    try:
        detail = progress.cell_detail(course, placement_id, learner_id)
    except progress.NotInClass:
        return _refused(request, _("This learner or activity is not in this course."), 404)
    maximum = detail.line_item.score_maximum if detail.line_item is not None else None
    result = detail.result
    initial = {}
    if detail.override_stands:
        initial = {
            "score": result.override_score_given,
            "comment": result.override_comment,
            "keep": result.override_keep,
        }
    form = OverrideForm(initial=initial, maximum=maximum)
    status = 200
    if request.method == "POST":
        if not access.may_override:
            return _refused(request, _("You may see this class but not change its scores."), 403)
        action = request.POST.get("action")
        try:
            if action == "clear":
                progress.use_tool_score(course, placement_id, learner_id, by=request.user)
                messages.success(request, _("The tool's score is used again."))
                return HttpResponseRedirect(request.path)
            form = OverrideForm(request.POST, maximum=maximum)
            if form.is_valid():
                progress.override(
                    course,
                    placement_id,
                    learner_id,
                    score_given=form.cleaned_data["score"],
                    comment=form.cleaned_data["comment"],
                    keep=form.cleaned_data["keep"],
                    by=request.user,
                )
                messages.success(request, _("Score overridden."))
                return HttpResponseRedirect(request.path)
        except OverrideRefused as exc:
            form.add_error(None, str(exc))
        status = 400
    return render(
        request,
        "wagtail_lti/courses/class_cell.html",
        {
            "course": course,
            "access": access,
            "detail": detail,
            "result": detail.result,
            "learner": detail.learner,
            "form": form,
            "class_url": reverse("wagtail_lti:class_view", args=[course.pk]),
        },
        status=status,
    )

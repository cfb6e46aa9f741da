"""StreamField blocks of wagtail-lti."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock


#: The course page form's organization field, as the chooser's linked field selector.
COURSE_ORGANIZATION_SELECTOR = "#id_course_organization"


class ResourceLinkChooserBlock(SnippetChooserBlock):
    """``SnippetChooserBlock("wagtail_lti.LtiResourceLink")`` whose chooser offers only the links
    the organization chosen in the course page's form may use (its ``?organization=`` filter).

    The filter is a convenience for editors; the course page form checks the choice on save.
    """

    def __init__(self, **kwargs):
        super().__init__("wagtail_lti.LtiResourceLink", **kwargs)

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        return path, (), kwargs

    @cached_property
    def widget(self):
        from wagtail.snippets.widgets import AdminSnippetChooser

        try:
            snippet_viewset = self.target_model.snippet_viewset
        except AttributeError as e:
            raise ImproperlyConfigured(
                "LtiResourceLink is not registered as a snippet: add wagtail_lti to "
                "INSTALLED_APPS (its wagtail_hooks register it)."
            ) from e
        if not self.has_explicit_icon:
            self.set_meta_options({"icon": snippet_viewset.icon})
        return AdminSnippetChooser(
            self.target_model,
            icon=self.meta.icon,
            linked_fields={"organization": COURSE_ORGANIZATION_SELECTOR},
        )


class CourseActivityBlock(blocks.StructBlock):
    """An LTI resource link placed in a course as a course activity.

    Use it as a top-level block of a course page's ``StreamField`` (a page using
    ``CoursePageMixin``). For each visitor it renders the activity's title, the learner's status
    (not started, launched, completed, with the score when there is one) and the launch: an
    iframe the launch is loaded into, or a button opening a new window, as the resource link says.
    Anonymous visitors get a prompt to log in, visitors not enrolled a prompt to enroll.

    Only links the course's organization may use can be saved: the course page's form checks it
    (``wagtail_lti.course_forms``); the launch checks it again.

    Template context: ``activity`` (a ``wagtail_lti.course_view.ActivityView``) besides ``value``.
    Override the template with ``CourseActivityBlock(template="...")``.
    """

    resource_link = ResourceLinkChooserBlock(
        label=_("LTI resource link"),
        help_text=_("Only resource links available to the course's organization can be used."),
    )
    title = blocks.CharBlock(
        required=False,
        max_length=255,
        label=_("Title"),
        help_text=_("Shown to learners; leave empty to use the resource link's name."),
    )

    class Meta:
        icon = "link-external"
        label = _("LTI course activity")
        template = "wagtail_lti/blocks/course_activity.html"

    def get_context(self, value, parent_context=None):
        from .course_view import CourseView, course_view

        context = super().get_context(value, parent_context=parent_context)
        parent_context = parent_context or {}
        request = parent_context.get("request")
        page = parent_context.get("page")
        course = parent_context.get("lti_course")
        if course is None:
            course = course_view(request, page) if page is not None else CourseView(request, None)
        context["activity"] = course.activity(parent_context.get("id"), value)
        return context

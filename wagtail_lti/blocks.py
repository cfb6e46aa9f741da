"""StreamField blocks of wagtail-lti."""

from __future__ import annotations

import functools
import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.autoreload import file_changed
from django.utils.functional import cached_property
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock


#: The course page form's organization field, as the chooser's linked field selector.
COURSE_ORGANIZATION_SELECTOR = "#id_course_organization"

#: The activity block's template; what ``CourseActivityBlock`` renders (in Python, see
#: :func:`render_activity`) as long as the site does not replace it.
ACTIVITY_TEMPLATE = "wagtail_lti/blocks/course_activity.html"
_PACKAGED_ACTIVITY_TEMPLATE = Path(__file__).resolve().parent / "templates" / ACTIVITY_TEMPLATE


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
    (``wagtail_lti.courses.forms``); the launch checks it again.

    The markup is that of the template ``wagtail_lti/blocks/course_activity.html``, produced in
    Python (:func:`render_activity`, about ten times faster than rendering the template once per
    block; a test keeps the two identical). To change it, use a template of your own; it is then
    rendered as Wagtail renders any block template, with ``activity`` (a
    ``wagtail_lti.courses.view.ActivityView``) besides ``value`` in its context:

    * ``CourseActivityBlock(template="...")``, or ``template`` in a subclass's ``Meta`` (or its
      ``get_template()``);
    * or a ``wagtail_lti/blocks/course_activity.html`` of the site that comes before the packaged
      one in the template search (the project's template ``DIRS``, or an app listed before
      ``wagtail_lti``);

    a subclass that overrides ``get_context`` also gets its template rendered.
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
        template = ACTIVITY_TEMPLATE

    @staticmethod
    def _course_view(parent_context):
        from .courses.view import CourseView, course_view

        course = parent_context.get("lti_course")
        if course is None:
            request = parent_context.get("request")
            page = parent_context.get("page")
            course = course_view(request, page) if page is not None else CourseView(request, None)
        return course

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        parent_context = parent_context or {}
        course = self._course_view(parent_context)
        context["activity"] = course.activity(parent_context.get("id"), value)
        return context

    def render(self, value, context=None):
        if (
            self.get_template(value, context=context) != ACTIVITY_TEMPLATE
            or type(self).get_context is not CourseActivityBlock.get_context
            or not packaged_activity_template_in_use()
        ):
            return super().render(value, context=context)
        context = context or {}
        course = self._course_view(context)
        activity = course.activity(context.get("id"), value)
        return render_activity(activity, value.get("resource_link"), course)


@functools.cache
def packaged_activity_template_in_use() -> bool:
    """Whether ``ACTIVITY_TEMPLATE`` is the packaged template for the site's template engines (and
    not one of the site's own that shadows it). Worked out once per process: template settings
    do not change while it runs (changing them in tests, or a template file under ``runserver``,
    clears this, see below)."""
    from django.template import TemplateDoesNotExist
    from django.template.loader import get_template

    try:
        template = get_template(ACTIVITY_TEMPLATE)
    except TemplateDoesNotExist:
        return False
    origin = getattr(getattr(template, "template", template), "origin", None)
    name = getattr(origin, "name", None)
    return bool(name) and Path(name).resolve() == _PACKAGED_ACTIVITY_TEMPLATE


@receiver(setting_changed)
def _template_settings_changed(*, setting, **kwargs):
    if setting in ("TEMPLATES", "INSTALLED_APPS"):
        packaged_activity_template_in_use.cache_clear()


@receiver(file_changed)
def _template_file_changed(*, file_path, **kwargs):
    """``runserver`` does not restart when a template is added or changed: look again."""
    if file_path.suffix != ".py":
        packaged_activity_template_in_use.cache_clear()


def _escape(value) -> str:
    """``django.utils.html.conditional_escape``, as a plain string (this is called a few dozen
    times per block)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def render_activity(a, link, course) -> SafeString:
    """The markup of ``wagtail_lti/blocks/course_activity.html`` for ``a``, an ``ActivityView``
    (``link``: the block's resource link, ``course``: the page's ``CourseView``)."""
    e = _escape
    t = course.texts()
    block_id = e(a.block_id)  # a.dom_id and a.frame_name: a prefix and the block id
    dom_id = f"lti-activity-{block_id}"
    frame_name = f"lti-frame-{block_id}"
    title = e(a.title)
    status = e(a.status)
    out = [
        f'\n<section class="lti-activity lti-activity--{e(a.state)} lti-activity--{status}" '
        f'id="{dom_id}" aria-labelledby="{dom_id}-title" data-lti-activity>\n'
        f'  <header class="lti-activity__header">\n'
        f'    <h2 class="lti-activity__title" id="{dom_id}-title">{title}</h2>\n'
    ]
    if a.state == "ready" or a.state == "unavailable" and a.status != "not_started":
        score = a.score_percent
        if score:
            score = t["score"] % {"score": e(score)}
            score = f'<span class="lti-activity__score">{score}</span>'
        label = t.get(f"status:{a.status}")
        if label is None:
            label = a.status_label
        out.append(
            f'      <p class="lti-activity__status">\n'
            f'        <span class="lti-visually-hidden">{t["status"]}</span>\n'
            f'        <span class="lti-badge lti-badge--{status}">{e(label)}</span>\n'
            f"        {score}\n"
            f"      </p>\n"
        )
    out.append("  </header>\n  ")
    if a.description:
        # The linebreaksbr filter: escaped, each line break a <br>.
        description = e(a.description).replace("\r\n", "\n").replace("\r", "\n")
        description = description.replace("\n", "<br>")
        out.append(f'<p class="lti-activity__description">{description}</p>')
    out.append("\n")
    for message in a.messages:
        level = message.level_tag
        error = level == "error"
        out.append(
            f'    <p class="lti-activity__message lti-activity__message--{e(level)}" '
            f'role="{"alert" if error else "status"}">\n'
            f'      <span class="lti-visually-hidden">'
            f"{t['message_error'] if error else t['message']}</span>\n"
            f"      {e(str(message))}\n"
            f"    </p>\n"
        )
    if a.state == "anonymous":
        prompt = t["log_in"] % {"url": e(a.login_url)}
        out.append(f'    <p class="lti-activity__prompt">{prompt}</p>\n')
    elif a.state == "unenrolled":
        out.append(f'    <p class="lti-activity__prompt">{t["unenrolled"]}</p>\n')
    elif a.state == "ready":
        launch_url = e(a.launch_url)
        launch_label = e(t["start"] if a.status == "not_started" else t["again"])
        out.append('    <div class="lti-activity__actions">\n')
        if a.embedded:
            out.append(
                f'        <form class="lti-activity__launch" method="get" action="{launch_url}" '
                f'target="{frame_name}" data-lti-launch="{dom_id}-frame">\n'
                f'          <button type="submit" class="lti-button">{launch_label}</button>\n'
                f"        </form>\n"
            )
        else:
            out.append(
                f'        <form class="lti-activity__launch" method="get" action="{launch_url}" '
                f'target="_blank">\n'
                f'          <button type="submit" class="lti-button">{launch_label}'
                f'<span class="lti-visually-hidden"> {t["new_window"]}</span> '
                f'<span aria-hidden="true">↗</span></button>\n'
                f"        </form>\n"
            )
        if link and a.status != "completed":
            hint = t["hint_score"] if link.requires_score else t["hint_open"]
            out.append(f'      <p class="lti-activity__hint">{hint}</p>\n')
        out.append("    </div>\n")
        if a.embedded:
            out.append(
                f'      <div class="lti-activity__frame" id="{dom_id}-frame" data-lti-frame>\n'
                f'        <iframe name="{frame_name}" title="{title}" '
                f'height="{e(a.frame_height)}" allow="fullscreen; clipboard-write" '
                f'allowfullscreen data-lti-tool-origins="{e(a.tool_origins)}"></iframe>\n'
                f'        <script src="{e(course.platform_storage_script())}" defer></script>\n'
                f"      </div>\n"
            )
    else:
        out.append(f'    <p class="lti-activity__notice">{e(a.reason)}</p>\n')
    out.append("</section>\n")
    return mark_safe("".join(out))  # noqa: S308 - every value above is escaped


def activity_blocks(stream_value) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, child)`` for each top-level course-activity block of a stream value."""
    for index, child in enumerate(stream_value or []):
        if isinstance(child.block, CourseActivityBlock):
            yield index, child

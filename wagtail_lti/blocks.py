"""StreamField blocks of wagtail-lti."""

from __future__ import annotations

import functools
import html
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.autoreload import file_changed
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
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
    (``wagtail_lti.course_forms``); the launch checks it again.

    The markup is that of the template ``wagtail_lti/blocks/course_activity.html``, produced in
    Python (:func:`render_activity`, about ten times faster than rendering the template once per
    block; a test keeps the two identical). To change it, use a template of your own; it is then
    rendered as Wagtail renders any block template, with ``activity`` (a
    ``wagtail_lti.course_view.ActivityView``) besides ``value`` in its context:

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
        from .course_view import CourseView, course_view

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


# --- The markup of wagtail_lti/blocks/course_activity.html, piece by piece -------------------------
#
# Each function below is one part of the template, in the template's order, with its names
# (``activity`` is the template's ``a``). ``format_html`` escapes every value as the template's
# ``{{ }}`` does. The labels come from ``CourseView.texts()`` already as HTML (translated and
# escaped once per page); a ``{% blocktranslate %}`` text gets its escaped variables put in, as the
# template tag does. Values used more than once in a block (its DOM id, frame name, title) are
# escaped once, in :func:`render_activity`. Values are escaped by :func:`_escaped` before
# ``format_html`` sees them (it then keeps them as they are): the same result as its own
# ``conditional_escape``, without Django's lazy-string wrapper, a third of a block's time.


def _escaped(value) -> SafeString:
    """``conditional_escape(value)`` for the plain values of a block (never lazy strings)."""
    if hasattr(value, "__html__"):
        return value
    return SafeString(html.escape(str(value)))


def _status(activity, texts) -> SafeString:
    """``<p class="lti-activity__status">``: the status badge and the score."""
    score = ""
    if activity.score_percent:
        score = format_html(
            '<span class="lti-activity__score">{}</span>',
            mark_safe(texts["score"] % {"score": _escaped(activity.score_percent)}),  # noqa: S308
        )
    label = texts.get(f"status:{activity.status}")
    return format_html(
        '<p class="lti-activity__status"> '
        '<span class="lti-visually-hidden">{status_text}</span> '
        '<span class="lti-badge lti-badge--{status}">{label}</span> '
        "{score} </p>",
        status_text=texts["status"],
        status=_escaped(activity.status),
        label=activity.status_label if label is None else label,
        score=score,
    )


def _description(activity) -> SafeString:
    """``{{ a.description|linebreaksbr }}``: escaped, each line break a ``<br>``."""
    lines = _escaped(activity.description).replace("\r\n", "\n").replace("\r", "\n")
    return format_html(
        '<p class="lti-activity__description">{}</p>',
        mark_safe(lines.replace("\n", "<br>")),  # noqa: S308 - escaped above
    )


def _messages(activity, texts) -> SafeString | str:
    """The messages from the tool (``lti_msg`` / ``lti_errormsg``, see the return view)."""
    if not activity.messages:
        return ""
    return format_html_join(
        " ",
        '<p class="lti-activity__message lti-activity__message--{}" role="{}"> '
        '<span class="lti-visually-hidden">{}</span> {} </p>',
        (
            (
                message.level_tag,
                "alert" if message.level_tag == "error" else "status",
                texts["message_error" if message.level_tag == "error" else "message"],
                message.message if hasattr(message.message, "__html__") else str(message),
            )
            for message in activity.messages
        ),
    )


def _launch_form(activity, texts, dom_id, frame_name) -> SafeString:
    """The launch: a form posted (with the page's CSRF token) into the activity's iframe, or to a
    new window."""
    label = texts["start"] if activity.status == "not_started" else texts["again"]
    if activity.embedded:
        return format_html(
            '<form class="lti-activity__launch" method="post" action="{url}" target="{frame}" '
            'data-lti-launch="{dom_id}-frame"> '
            '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}"> '
            '<button type="submit" class="lti-button">{label}</button> </form>',
            url=_escaped(activity.launch_url),
            frame=frame_name,
            dom_id=dom_id,
            csrf_token=_escaped(activity.csrf_token),
            label=label,
        )
    return format_html(
        '<form class="lti-activity__launch" method="post" action="{url}" target="_blank"> '
        '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}"> '
        '<button type="submit" class="lti-button">{label}'
        '<span class="lti-visually-hidden"> {new_window}</span> '
        '<span aria-hidden="true">↗</span></button> </form>',
        url=_escaped(activity.launch_url),
        csrf_token=_escaped(activity.csrf_token),
        label=label,
        new_window=texts["new_window"],
    )


def _hint(activity, link, texts) -> SafeString | str:
    """How the activity gets completed, until it is."""
    if not link or activity.status == "completed":
        return ""
    hint = texts["hint_score"] if link.requires_score else texts["hint_open"]
    return format_html('<p class="lti-activity__hint">{}</p>', hint)


def _frame(activity, course, dom_id, frame_name, title) -> SafeString:
    """The embedded activity's iframe, and the script answering its platform storage messages."""
    return format_html(
        '<div class="lti-activity__frame" id="{dom_id}-frame" data-lti-frame> '
        '<iframe name="{frame}" title="{title}" height="{height}" '
        'allow="fullscreen; clipboard-write" allowfullscreen data-lti-tool-origins="{origins}">'
        "</iframe> "
        '<script src="{script}" defer></script> </div>',
        dom_id=dom_id,
        frame=frame_name,
        title=title,
        height=_escaped(activity.frame_height),
        origins=_escaped(activity.tool_origins),
        script=_escaped(course.platform_storage_script()),
    )


def _body(activity, link, course, texts, dom_id, title) -> SafeString:
    """What follows the header: a prompt, the launch, or why there is none."""
    state = activity.state
    if state == "anonymous":
        prompt = mark_safe(texts["log_in"] % {"url": _escaped(activity.login_url)})  # noqa: S308
        return format_html('<p class="lti-activity__prompt">{}</p>', prompt)
    if state == "unenrolled":
        return format_html('<p class="lti-activity__prompt">{}</p>', texts["unenrolled"])
    if state != "ready":
        return format_html('<p class="lti-activity__notice">{}</p>', activity.reason)
    frame_name = _escaped(activity.frame_name)
    return format_html(
        '<div class="lti-activity__actions"> {form} {hint} </div> {frame}',
        form=_launch_form(activity, texts, dom_id, frame_name),
        hint=_hint(activity, link, texts),
        frame=_frame(activity, course, dom_id, frame_name, title) if activity.embedded else "",
    )


def render_activity(activity, link, course) -> SafeString:
    """The markup of ``wagtail_lti/blocks/course_activity.html`` for ``activity``, an
    ``ActivityView`` (``link``: the block's resource link, ``course``: the page's ``CourseView``).

    The same elements, attributes and texts in the same order as the template (a test checks
    it); only the white space between elements differs.
    """
    texts = course.texts()
    dom_id = _escaped(activity.dom_id)
    title = _escaped(activity.title)
    show_status = activity.state == "ready" or (
        activity.state == "unavailable" and activity.status != "not_started"
    )
    return format_html(
        '<section class="lti-activity lti-activity--{state} lti-activity--{status}" id="{dom_id}" '
        'aria-labelledby="{dom_id}-title" data-lti-activity> '
        '<header class="lti-activity__header"> '
        '<h2 class="lti-activity__title" id="{dom_id}-title">{title}</h2> {status_line} </header> '
        "{description} {messages} {body} </section>\n",
        state=_escaped(activity.state),
        status=_escaped(activity.status),
        dom_id=dom_id,
        title=title,
        status_line=_status(activity, texts) if show_status else "",
        description=_description(activity) if activity.description else "",
        messages=_messages(activity, texts),
        body=_body(activity, link, course, texts, dom_id, title),
    )

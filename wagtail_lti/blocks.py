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
    (``wagtail_lti.courses.forms``); the launch checks it again.

    The markup is that of the template ``wagtail_lti/blocks/course_activity.html``, produced in
    Python (:func:`render_activity`, about ten times faster than rendering the template once per
    block; a test keeps the two identical). To change it, use a template of your own; it is then
    rendered as Wagtail renders any block template, with ``activity`` (a
    ``wagtail_lti.courses.view.ActivityView``) besides ``value`` in its context. Its launch form
    must be posted with ``activity.csrf_token`` as ``csrfmiddlewaretoken`` (as the packaged
    template does; ``wagtail_lti.launch.rules.check_launch_request``). Your template is used with:

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


# --- The markup of wagtail_lti/blocks/course_activity.html, piece by piece -------------------------
#
# Each constant below is one part of the template, in the template's order, with the template's
# names as ``{fields}``: ``{{ a.dom_id }}`` is ``{dom_id}``, ``{% translate "Status:" %}`` is
# ``{status_text}``. :func:`activity_markup` puts the parts the template's ``{% if %}`` tags choose
# together (once per shape, then kept); :func:`render_activity` fills the fields of one block with
# escaped values (``str.format_map``: a value is never read as a field). White space between
# elements is one space where the template has some.

_SECTION = (
    '<section class="lti-activity lti-activity--{state} lti-activity--{status}" id="{dom_id}" '
    'aria-labelledby="{dom_id}-title" data-lti-activity> '
    '<header class="lti-activity__header"> '
    '<h2 class="lti-activity__title" id="{dom_id}-title">{title}</h2> '
)
_STATUS = (
    '<p class="lti-activity__status"> '
    '<span class="lti-visually-hidden">{status_text}</span> '
    '<span class="lti-badge lti-badge--{status}">{status_label}</span> {score} </p> '
)
_HEADER_END = "</header> {due} {description} {messages} "
_LOG_IN_PROMPT = '<p class="lti-activity__prompt">{log_in}</p> '
_UNENROLLED_PROMPT = '<p class="lti-activity__prompt">{unenrolled}</p> '
_ACTIONS = '<div class="lti-activity__actions" data-lti-status="{status_url}"> '
_LAUNCH_INTO_FRAME = (
    '<form class="lti-activity__launch" method="post" action="{launch_url}" '
    'target="{frame_name}" data-lti-launch="{dom_id}-frame"> '
    '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}"> '
    '<button type="submit" class="lti-button">{launch_label}'
    '<span class="lti-visually-hidden">: {title}</span></button> </form> '
)
_LAUNCH_IN_NEW_WINDOW = (
    '<form class="lti-activity__launch" method="post" action="{launch_url}" '
    'target="{window_target}"{window_features}> '
    '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}"> '
    '<button type="submit" class="lti-button">{launch_label}'
    '<span class="lti-visually-hidden">: {title} {new_window}</span> '
    '<span aria-hidden="true">↗</span></button> </form> '
)
#: The include ``wagtail_lti/courses/includes/result_actions.html`` ("Review my submission").
_REVIEW = "{review} "
_HINT = '<p class="lti-activity__hint">{hint}</p> '
_ACTIONS_END = "</div> "
_FRAME = (
    '<div class="lti-activity__frame" id="{dom_id}-frame" data-lti-frame> '
    '<div class="lti-activity__frame-controls" role="group" aria-label="{frame_controls}" '
    "hidden data-lti-frame-controls> "
    '<button type="button" class="lti-frame-button" data-lti-frame-action="new-window">'
    "{frame_new_window}</button> "
    '<button type="button" class="lti-frame-button" data-lti-frame-action="full-screen">'
    "{frame_full_screen}</button> "
    '<button type="button" class="lti-frame-button" data-lti-frame-action="close">'
    "{frame_close}</button> </div> "
    '<iframe name="{frame_name}" title="{title}" height="{frame_height}"{frame_width} '
    'allow="fullscreen; clipboard-write" allowfullscreen data-lti-tool-origins="{tool_origins}">'
    "</iframe> "
    '<script src="{platform_storage_script}" defer></script> </div> '
)
_NOTICE = '<p class="lti-activity__notice">{reason}</p> '
_TEST_LAUNCH = (
    '<div class="lti-activity__test" data-lti-test-launch> <p>{test_intro}</p> '
    "<p>{test_links}</p> </div> "
)
_SECTION_END = "</section>\n"


@functools.cache
def activity_markup(
    state: str, show_status: bool, embedded: bool, hint: bool, test_launch: bool = False
) -> str:
    """The activity template's markup for one shape of block, as a format string: the parts its
    ``{% if %}`` tags choose for ``state`` (``a.state``), ``show_status`` (the status line),
    ``embedded`` (``a.embedded``), ``hint`` (how it gets completed) and ``test_launch`` (an
    editor's test launches)."""
    parts = [_SECTION, _STATUS if show_status else "", _HEADER_END]
    if state == "anonymous":
        parts.append(_LOG_IN_PROMPT)
    elif state == "unenrolled":
        parts.append(_UNENROLLED_PROMPT)
    elif state == "ready":
        parts += [
            _ACTIONS,
            _LAUNCH_INTO_FRAME if embedded else _LAUNCH_IN_NEW_WINDOW,
            _REVIEW,
            _HINT if hint else "",
            _ACTIONS_END,
            _FRAME if embedded else "",
        ]
    else:
        parts.append(_NOTICE)
    if test_launch:
        parts.append(_TEST_LAUNCH)
    parts.append(_SECTION_END)
    return "".join(parts)


def _escaped(value) -> str:
    """``conditional_escape(value)`` as a plain string, for the values of a block (never lazy
    strings): without Django's lazy-string wrapper, as it is called a dozen times per block."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _score(activity, texts) -> SafeString | str:
    """``{% blocktranslate %}Score: {{ score }}{% endblocktranslate %}`` in its ``<span>``."""
    if not activity.score_percent:
        return ""
    return format_html(
        '<span class="lti-activity__score">{}</span>',
        mark_safe(texts["score"] % {"score": _escaped(activity.score_percent)}),  # noqa: S308
    )


def _description(activity) -> SafeString | str:
    """``{{ a.description|linebreaksbr }}`` in its ``<p>``: escaped, each line break a ``<br>``."""
    if not activity.description:
        return ""
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


def _review(activity, course) -> str:
    """The include ``wagtail_lti/courses/includes/result_actions.html`` for the visitor's own
    reviewable result (rendered only when there is one)."""
    if activity.review_result is None:
        return ""
    from django.template.loader import render_to_string

    return render_to_string(
        "wagtail_lti/courses/includes/result_actions.html",
        {"result": activity.review_result, "learner": "", "request": course.request},
    )


def render_activity(activity, link, course) -> SafeString:
    """The markup of ``wagtail_lti/blocks/course_activity.html`` for ``activity``, an
    ``ActivityView`` (``link``: the block's resource link, ``course``: the page's ``CourseView``).

    The same elements, attributes and texts in the same order as the template (a test checks
    it); only the white space between elements differs. The labels come from
    ``CourseView.texts()``, translated and escaped once per page.
    """
    texts = course.texts()
    state, status = activity.state, activity.status
    show_status = state == "ready" or (state == "unavailable" and status != "not_started")
    hint = state == "ready" and bool(link) and status != "completed"
    test_launch = bool(activity.test_launch_urls)
    markup = activity_markup(state, show_status, activity.embedded, hint, test_launch)
    label = texts.get(f"status:{activity.progress}")
    values = {
        "state": _escaped(state),
        "status": _escaped(status),
        "dom_id": _escaped(activity.dom_id),
        "title": _escaped(activity.title),
        "status_text": texts["status"],
        "status_label": _escaped(activity.status_label) if label is None else label,
        "score": _score(activity, texts) if show_status else "",
        "due": format_html('<p class="lti-activity__due">{}</p>', activity.due_label)
        if activity.due_label
        else "",
        "description": _description(activity),
        "messages": _messages(activity, texts),
    }
    if state == "anonymous":
        values["log_in"] = mark_safe(  # noqa: S308 - a {% blocktranslate %} text, url escaped
            texts["log_in"] % {"url": _escaped(activity.login_url)}
        )
    elif state == "unenrolled":
        values["unenrolled"] = texts["unenrolled"]
    elif state == "ready":
        values.update(
            launch_url=_escaped(activity.launch_url),
            csrf_token=_escaped(activity.csrf_token),
            status_url=_escaped(activity.status_url),
            frame_controls=texts["frame_controls"],
            frame_new_window=texts["frame_new_window"],
            frame_full_screen=texts["frame_full_screen"],
            frame_close=texts["frame_close"],
            launch_label=texts["start"] if status == "not_started" else texts["again"],
            review=_review(activity, course),
            new_window=texts["new_window"],
            hint=(texts["hint_score"] if link.requires_score else texts["hint_open"])
            if hint
            else "",
            frame_name=_escaped(activity.frame_name),
            frame_height=_escaped(activity.frame_height),
            frame_width=format_html(' width="{}"', activity.frame_width)
            if activity.frame_width
            else "",
            window_target=_escaped(activity.window_target),
            window_features=format_html(' data-lti-window-features="{}"', activity.window_features)
            if activity.window_features
            else "",
            tool_origins=_escaped(activity.tool_origins),
            platform_storage_script=_escaped(course.platform_storage_script()),
        )
    else:
        values["reason"] = _escaped(activity.reason)
    if test_launch:
        values["test_intro"] = texts["test_intro"]
        values["test_links"] = format_html_join(
            " ",
            '<a class="lti-button lti-button--secondary" href="{}" target="_blank" '
            'rel="noopener">{}<span class="lti-visually-hidden"> {}</span></a>',
            (
                (url, mark_safe(label), mark_safe(texts["new_window"]))  # noqa: S308 - escaped
                for label, url in activity.test_launch_urls
            ),
        )
    return SafeString(markup.format_map(values))


def activity_blocks(stream_value) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, child)`` for each top-level course-activity block of a stream value."""
    for index, child in enumerate(stream_value or []):
        if isinstance(child.block, CourseActivityBlock):
            yield index, child


# --- Content from a tool ---------------------------------------------------------------------------


def tool_content_widget():
    from django import forms
    from django.urls import reverse

    class _Widget(forms.HiddenInput):
        """A hidden input holding the item's id, its preview and "Choose from a tool" (the
        window of ``admin/content_selection.py: ToolContentView``, place ``block``)."""

        input_type = "hidden"

        @property
        def media(self):
            return forms.Media(
                js=["wagtail_lti/js/tool-content-block.js"],
                css={"all": ["wagtail_lti/css/tool-content-editor.css"]},
            )

        def render(self, name, value, attrs=None, renderer=None):
            from .content_selection.tool_content import contents_by_id, preview

            hidden = super().render(name, value, attrs, renderer)
            shown = _("Nothing chosen yet.")
            if value not in (None, "") and str(value).isdigit():
                content = contents_by_id([value]).get(int(value))
                if content is not None:
                    item = preview(content)
                    shown = f"{item['kindLabel']}: {item['title']} ({item['provider']})"
            return format_html(
                '<div class="lti-tool-content-chooser" data-lti-tool-content-chooser '
                'data-chooser-url="{}">{}<span class="lti-tool-content-chooser__preview" '
                'data-lti-tool-content-preview>{}</span> <button type="button" '
                'class="button button-small button-secondary" data-lti-tool-content-choose>{}'
                "</button></div>",
                reverse("wagtail_lti_tool_content"),
                hidden,
                shown,
                _("Choose from a tool"),
            )

    return _Widget()


class ToolContentBlock(blocks.FieldBlock):
    """One item of content from a tool, chosen (and re-chosen) with "Choose from a tool": a link
    card, an embed in a responsive frame, an image, a file download or, for an LTI resource link,
    the course activity launch (the same rules and results as ``CourseActivityBlock``).

    Its value is the id of a :class:`~wagtail_lti.models.ToolContent`; the HTML is made when the
    page renders (``content_selection/tool_content.py: render``). The course page form checks the
    item on every save (``content_problem``).
    """

    def __init__(self, required=True, help_text=None, **kwargs):
        from django import forms

        self.field = forms.IntegerField(
            required=required,
            min_value=1,
            help_text=help_text,
            widget=tool_content_widget(),
            error_messages={"required": _("Choose content from a tool.")},
        )
        super().__init__(**kwargs)

    class Meta:
        icon = "link-external"
        label = _("Tool content")

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        return "wagtail_lti.blocks.ToolContentBlock", (), kwargs

    def get_prep_value(self, value):
        return int(value) if value not in (None, "") else None

    def to_python(self, value):
        return int(value) if value not in (None, "") and str(value).isdigit() else None

    def render(self, value, context=None):
        from .content_selection.tool_content import contents_by_id, render

        if value is None:
            return mark_safe("")  # noqa: S308 - empty
        return render(contents_by_id([value]).get(int(value)), context=context)

    def get_searchable_content(self, value):
        return []


def tool_content_blocks(stream_value) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, child)`` for each top-level tool content block of a stream value."""
    for index, child in enumerate(stream_value or []):
        if isinstance(child.block, ToolContentBlock):
            yield index, child

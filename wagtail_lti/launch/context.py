"""What a launch carries: :func:`build_launch_context`, custom parameters, the privacy options.

:func:`build_launch_context` fills a :class:`~wagtail_lti.lti.context.LaunchContext` from the
request, the placement, its course page and the learner's enrollment; what the tool learns about
the person is the privacy rule's (``launch.privacy.launch_user``). Shared by LTI 1.1 and LTI 1.3 launches and by NRPS (a member's ``message``).
"""

from __future__ import annotations

from datetime import UTC

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from ..conf import lti_settings
from ..lti.context import LaunchContext, PlatformInfo
from ..lti.custom_params import merge_custom_parameters, parse_custom_parameters
from ..lti.errors import CustomParameterError
from ..models import Enrollment, LtiResourceLink, Placement
from ..security.identifiers import context_id
from .privacy import launch_user
from .rules import LaunchRefused
from .targets import LaunchTarget


def platform_info(request: HttpRequest) -> PlatformInfo:
    """This platform's identity (``tool_consumer_*`` / ``tool_platform``) from the settings.

    An empty ``PLATFORM_GUID`` is derived from the request's host name, which is stable for a
    site; an empty ``PLATFORM_URL`` is the site's root URL.
    """
    host = request.get_host()
    return PlatformInfo(
        guid=lti_settings.PLATFORM_GUID or host.split(":")[0],
        name=lti_settings.PLATFORM_NAME,
        description=lti_settings.PLATFORM_DESCRIPTION,
        url=lti_settings.PLATFORM_URL or f"{request.scheme}://{host}/",
        contact_email=lti_settings.PLATFORM_CONTACT_EMAIL,
        product_family_code=lti_settings.PRODUCT_FAMILY_CODE,
        version=lti_settings.PRODUCT_VERSION,
    )


def request_locale() -> str:
    """The active language as a BCP 47 tag (``en-US``), what ``launch_presentation_locale`` wants."""
    language = translation.get_language() or settings.LANGUAGE_CODE
    parts = language.replace("_", "-").split("-")
    if len(parts) > 1 and len(parts[1]) == 2:
        parts[1] = parts[1].upper()
    return "-".join([parts[0].lower(), *parts[1:]])


def custom_parameters(placement: Placement) -> dict[str, str]:
    """The provider's custom parameters merged with the link's (the link wins).

    Raises :class:`LaunchRefused` when the stored text cannot be parsed (it is validated when
    edited, so this means the data was changed behind the admin's back).
    """
    return tool_custom_parameters(placement.resource_link.provider, placement.resource_link)


def tool_custom_parameters(provider, link=None) -> dict[str, str]:
    """:func:`custom_parameters` of a provider and, when given, one of its links (the link wins):
    a placement's, or an editor's test launch from the catalogue (``launch.test_launch``)."""
    try:
        return merge_custom_parameters(
            parse_custom_parameters(provider.custom_parameters),
            parse_custom_parameters(link.custom_parameters if link is not None else ""),
        )
    except CustomParameterError:
        raise LaunchRefused(
            _(
                "The custom parameters of this activity are not valid, so it cannot be opened. "
                "Please tell the course's administrator."
            ),
            code="bad_custom_parameters",
        ) from None


def return_url(request: HttpRequest, placement: Placement) -> str:
    return request.build_absolute_uri(reverse("wagtail_lti:launch_return", args=[placement.lti_id]))


def build_launch_context(
    request: HttpRequest,
    target: LaunchTarget,
    enrollment: Enrollment,
    *,
    person=None,
    return_to: str = "",
) -> LaunchContext:
    """The :class:`LaunchContext` of ``request.user`` launching ``target``'s placement.

    ``enrollment`` is what :func:`check_can_launch` returned. The user id is
    ``wagtail_lti.security.identifiers.opaque_user_id``; roles come from the
    enrollment (learner: ``Learner``, instructor: ``Instructor``); the name, username and email
    as the privacy rule allows (``launch.privacy.launch_user``). An editor's test launch
    (``launch.test_launch``) names the ``person`` the tool is told about (the editor, or the
    editor's test learner) and its own return URL (``return_to``).
    """
    user = person if person is not None else request.user
    placement = target.placement
    link = placement.resource_link
    provider = link.provider
    course = target.course
    roles = ("Instructor",) if enrollment.role == Enrollment.Role.INSTRUCTOR else ("Learner",)

    return LaunchContext(
        user=launch_user(provider, user),
        roles=roles,
        context_id=context_id(course),
        context_title=course.title,
        context_label=course.course_code,
        resource_link_id=placement.lti_id,
        resource_link_title=placement.title or link.name,
        resource_link_description=link.description,
        target_url=link.url,
        platform=platform_info(request),
        custom=custom_parameters(placement),
        locale=request_locale(),
        return_url=return_to or return_url(request, placement),
        **presentation(link),
        resource_link_id_history=placement.lti_id_history,
        # Targets kept before the history existed have no such attribute: read as "not a copy".
        context_id_history=getattr(course, "context_id_history", ""),
        **link_windows(link),
    )


def presentation(link: LtiResourceLink) -> dict:
    """Where the activity is really opened, as the launch tells the tool (``document_target``,
    ``width``, ``height``): ``iframe`` with the frame's size (its height is the site's
    ``IFRAME_HEIGHT`` unless the link sets one; its width only when the link sets it) for an
    embedded activity, ``window`` with the window's size when the link sets one. The course page
    opens it so (``courses.view``)."""
    if link.open_in == LtiResourceLink.OpenIn.EMBED:
        return {
            "document_target": "iframe",
            "width": link.iframe_width,
            "height": link.iframe_height or lti_settings.IFRAME_HEIGHT,
        }
    return {"document_target": "window", "width": link.window_width, "height": link.window_height}


def _iso(moment) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def link_windows(link: LtiResourceLink) -> dict[str, str]:
    """The link's available and submission windows for the launch context (ISO 8601, UTC)."""
    return {
        name: _iso(getattr(link, name))
        for name in ("available_start", "available_end", "submission_start", "submission_end")
    }

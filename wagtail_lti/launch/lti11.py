"""Starting an LTI 1.1 launch: the signed form that submits itself to the tool."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from .. import launch_log
from .autosubmit import autosubmit, form_value
from .rules import LaunchRefused
from .targets import LaunchTarget


logger = logging.getLogger(__name__)


def launch_form(request: HttpRequest, target: LaunchTarget, ctx) -> HttpResponse:
    """The signed LTI 1.1 launch of ``target`` for ``request.user`` (already checked by the
    caller): records the launch and answers with the auto-submitting form."""
    from ..lti.lti11 import build_launch_params, sign_launch
    from ..security.sourcedid import make_sourcedid
    from ..services import results

    placement = target.placement
    link = placement.resource_link
    provider = link.provider
    outcome_url = sourcedid = None
    if link.requires_score:
        outcome_url = request.build_absolute_uri(reverse("wagtail_lti:lti11_outcomes"))
        sourcedid = make_sourcedid(placement, request.user)
    params = build_launch_params(ctx, outcome_service_url=outcome_url, result_sourcedid=sourcedid)
    params = {name: form_value(value) for name, value in params.items()}
    try:
        signed = sign_launch(link.url, params, provider.consumer_key, provider.secret)
    except Exception:  # noqa: BLE001 - e.g. a secret that no longer decrypts
        logger.exception("Could not sign the LTI 1.1 launch of placement %s", placement.pk)
        raise LaunchRefused(
            _(
                "This activity cannot be opened because its tool's credentials cannot be used. "
                "Please tell the course's administrator."
            ),
            code="signing_failed",
        ) from None
    results.record_launch(placement, request.user)
    launch_log.note(
        request,
        action="LTI 1.1 launch form signed",
        debug=lambda: launch_log.lti11_debug(link.url, signed),
    )
    # The form carries a one-time signature: never cached, never leaked in a Referer.
    title = ctx.resource_link_title
    return autosubmit(
        request,
        action=link.url,
        fields=signed,
        title=_("Opening “%(title)s”") % {"title": title},
        message=_("Opening “%(title)s”…") % {"title": title},
        button=_("Continue to “%(title)s”") % {"title": title},
        framable=True,
    )

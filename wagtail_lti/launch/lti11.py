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


#: ``launch_form``'s default: the launch is the signed-in person's own.
SESSION_USER = object()


def launch_form(
    request: HttpRequest, target: LaunchTarget, ctx, *, progress_of=SESSION_USER
) -> HttpResponse:
    """The signed LTI 1.1 launch of ``target`` for ``request.user`` (already checked by the
    caller): records the launch and answers with the auto-submitting form.

    ``progress_of``: whose progress and score the launch is (its ``lis_result_sourcedid``, the
    launch recorded): the signed-in person by default; an editor's test learner; ``None`` for
    an editor's test launch as an instructor (no result id, nothing recorded).
    """
    from ..security.sourcedid import make_sourcedid
    from ..services import results

    placement = target.placement
    link = placement.resource_link
    learner = request.user if progress_of is SESSION_USER else progress_of
    outcome_url = sourcedid = None
    if link.requires_score and learner is not None:
        outcome_url = request.build_absolute_uri(reverse("wagtail_lti:lti11_outcomes"))
        sourcedid = make_sourcedid(placement, learner)
    response = signed_form(
        request,
        provider=link.provider,
        url=link.url,
        ctx=ctx,
        outcome_url=outcome_url,
        sourcedid=sourcedid,
        log_name=f"placement {placement.pk}",
    )
    if learner is not None:
        results.record_launch(placement, learner)
    return response


def signed_form(
    request: HttpRequest,
    *,
    provider,
    url: str,
    ctx,
    outcome_url: str | None = None,
    sourcedid: str | None = None,
    log_name: str = "",
) -> HttpResponse:
    """The auto-submitting LTI 1.1 launch form of ``ctx`` to ``url``, signed with ``provider``'s
    key and secret: every LTI 1.1 launch (a learner's, an editor's test launch). Raises
    :class:`LaunchRefused` when the credentials cannot be used."""
    from ..lti.lti11 import build_launch_params, sign_launch

    params = build_launch_params(ctx, outcome_service_url=outcome_url, result_sourcedid=sourcedid)
    params = {name: form_value(value) for name, value in params.items()}
    try:
        signed = sign_launch(url, params, provider.consumer_key, provider.secret)
    except Exception:  # noqa: BLE001 - e.g. a secret that no longer decrypts
        logger.exception("Could not sign the LTI 1.1 launch of %s", log_name or provider.pk)
        raise LaunchRefused(
            _(
                "This activity cannot be opened because its tool's credentials cannot be used. "
                "Please tell the course's administrator."
            ),
            code="signing_failed",
        ) from None
    launch_log.note(
        request,
        action="LTI 1.1 launch form signed",
        debug=lambda: launch_log.lti11_debug(url, signed),
    )
    # The form carries a one-time signature: never cached, never leaked in a Referer.
    title = ctx.resource_link_title
    return autosubmit(
        request,
        action=url,
        fields=signed,
        title=_("Opening “%(title)s”") % {"title": title},
        message=_("Opening “%(title)s”…") % {"title": title},
        button=_("Continue to “%(title)s”") % {"title": title},
        framable=True,
    )

"""LTI 1.1 Basic Outcomes: what a tool's ``imsx_POXEnvelopeRequest`` does (the view is
``services/views/outcomes.py``).

:func:`handle_outcome_request` parses the message, finds the provider the sourcedid names, checks
the request was signed by that provider (``security.lti11_requests``), that the tool may still use
the activity (``services.access``), that the learner is still enrolled and the activity takes
scores, then reads, replaces or deletes the score (``services.results``). Nothing is recorded
unless every check passed. A refusal is an :class:`OutcomeRefused` (its ``status``: 401 when the
signature did not hold, otherwise 200 with a POX ``failure`` or ``unsupported``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest

from .. import launch_log
from ..lti import outcomes as pox
from ..models import Enrollment, LtiProvider, ScoreEvent
from ..security.lti11_requests import SignedRequestRefused, verify_signed_request
from ..security.sourcedid import InvalidSourcedId, read_sourcedid, resolve_ref
from . import results
from .access import ServiceRefused, placement_access


SOURCE = ScoreEvent.Source.OUTCOMES


class OutcomeRefused(Exception):
    """A Basic Outcomes request refused: the answer's description, HTTP status and POX fields."""

    def __init__(
        self,
        description: str,
        *,
        status: int = 200,
        code_major: pox.CodeMajor = "failure",
        message_identifier: str = "",
        operation: str = "",
    ):
        super().__init__(description)
        self.description = description
        self.status = status
        self.code_major = code_major
        self.message_identifier = message_identifier
        self.operation = operation


@dataclass(frozen=True)
class OutcomeDone:
    """What a successful request did: the fields of the ``success`` answer."""

    message: pox.OutcomeRequest
    description: str
    score: str | None = None


def _check_still_allowed(placement, user, provider: LtiProvider, ids: dict) -> None:
    """The tool may still use the activity (``services.access``), the learner is still enrolled,
    and the activity takes scores."""
    try:
        placement_access(provider, placement)
    except ServiceRefused as exc:
        raise OutcomeRefused(exc.message, **ids) from exc
    if not Enrollment.objects.filter(
        course_id=placement.page_id, user=user, is_active=True
    ).exists():
        raise OutcomeRefused("The learner is not enrolled in this course.", **ids)
    if not placement.resource_link.requires_score:
        raise OutcomeRefused("This activity does not accept scores.", **ids)


def handle_outcome_request(request: HttpRequest, body: bytes) -> OutcomeDone:
    """Carry out the POX request ``body`` that ``request`` brought; :class:`OutcomeRefused`."""
    try:
        message = pox.parse_request(body)
    except pox.OutcomeError as exc:
        raise OutcomeRefused(
            str(exc),
            code_major=exc.code_major,
            message_identifier=exc.message_identifier,
            operation=exc.operation,
        ) from exc
    ids = {"message_identifier": message.message_identifier, "operation": message.operation}
    launch_log.note(request, action=message.operation)

    # The sourcedid names the placement and the provider: the request must be signed with that
    # provider's key and secret.
    try:
        ref = read_sourcedid(message.sourcedid)
    except InvalidSourcedId as exc:
        raise OutcomeRefused(str(exc), **ids) from exc
    provider = LtiProvider.objects.filter(pk=ref.provider_id).first()
    if provider is None:
        raise OutcomeRefused("The sourcedId is not valid.", **ids)
    launch_log.note(request, provider=provider)
    try:
        verify_signed_request(request, body, provider)
    except SignedRequestRefused as exc:
        if not exc.authenticated:
            raise OutcomeRefused(
                f"Authentication failed: {exc.message}", status=401, **ids
            ) from exc
        # Signed by the tool, which may not use the activity (disabled): the access rule below
        # refuses it with the same reason, once the activity is known for the launch log.
    try:
        placement, user = resolve_ref(ref, provider)
    except InvalidSourcedId as exc:
        raise OutcomeRefused(str(exc), **ids) from exc
    launch_log.note(request, placement=placement, user=user)
    _check_still_allowed(placement, user, provider, ids)
    line_item = results.automatic_line_item(placement)
    if line_item is None:
        raise OutcomeRefused("This activity does not accept scores.", **ids)

    if message.operation == "replaceResult":
        try:
            score = pox.parse_score(message)
        except pox.InvalidScore as exc:
            raise OutcomeRefused(str(exc), **ids) from exc
        launch_log.note(request, action=launch_log.score_action(message.operation, float(score), 1))
        try:
            result = results.record_score(
                line_item,
                user,
                score_given=float(score),
                score_maximum=1.0,
                activity_progress="Completed",
                grading_progress=results.FULLY_GRADED,
                timestamp=None,
                comment="",
                source=SOURCE,
            )
        except results.LateScoreRefused as exc:
            raise OutcomeRefused(str(exc), **ids) from exc
        late = " (late: outside the submission dates)" if result.late else ""
        return OutcomeDone(message, f"Score {score} recorded{late}.")
    if message.operation == "readResult":
        current = results.current_score(line_item, user)
        if current is None:
            return OutcomeDone(message, "No score recorded.", "")
        return OutcomeDone(message, "Result read.", pox.format_score(current))
    results.delete_score(line_item, user, SOURCE)  # deleteResult
    return OutcomeDone(message, "Score deleted.")

"""LTI Submission Review Service 1.0: a line item's ``submissionReview`` and the review message.

Pure functions over JSON values. A tool declares on a line item (AGS) that its submissions can be
reviewed::

    "submissionReview": {
        "reviewableStatus": ["Submitted", "FullyGraded"],
        "label": "Open the marking view",
        "url": "https://tool.example/review",
        "custom": {"action": "review"}
    }

:func:`parse_submission_review` checks it (``AgsError``, the AGS endpoint's 400) and gives the JSON
the platform stores and returns; :func:`is_reviewable` decides whether a result's status is one
the tool declared reviewable; :func:`for_user_claim` and :func:`review_custom` are what the
``LtiSubmissionReviewRequest`` adds to a launch (the rest of its claims are a resource link
launch's: ``lti.lti13.build_id_token_claims``).

The spec's terms are named where they are used: "line item extension" (``submissionReview`` and
its ``reviewableStatus``, ``label``, ``url``, ``custom``) and "LtiSubmissionReviewRequest" (the
``for_user`` claim, the AGS claim with the ``lineitem``, ``target_link_uri``, ``custom``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .ags import ACTIVITY_PROGRESS, GRADING_PROGRESS, MAX_STRING, AgsError
from .context import LaunchUser


SUBMISSION_REVIEW_REQUEST = "LtiSubmissionReviewRequest"
FOR_USER_CLAIM = "https://purl.imsglobal.org/spec/lti/claim/for_user"
MEMBERSHIP_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"

#: The statuses a tool may list: AGS's ``activityProgress`` and ``gradingProgress`` values.
REVIEWABLE_STATUSES = ACTIVITY_PROGRESS + GRADING_PROGRESS
MAX_URL_LENGTH = 1024
MAX_CUSTOM_PARAMETERS = 50
MAX_CUSTOM_VALUE = 1024


def _url(value: Any) -> str:
    if not isinstance(value, str):
        raise AgsError("submissionReview.url must be a string.")
    value = value.strip()
    if len(value) > MAX_URL_LENGTH:
        raise AgsError(f"submissionReview.url is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise AgsError("submissionReview.url is not a valid web address.") from None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        raise AgsError("submissionReview.url must be an absolute https:// (or http://) URL.")
    if any(c.isspace() or ord(c) < 32 for c in value):
        raise AgsError("submissionReview.url must not contain spaces or control characters.")
    return value


def _custom(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise AgsError("submissionReview.custom must be a JSON object of strings.")
    if len(value) > MAX_CUSTOM_PARAMETERS:
        raise AgsError(f"submissionReview.custom has more than {MAX_CUSTOM_PARAMETERS} parameters.")
    custom: dict[str, str] = {}
    for name, text in value.items():
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_STRING:
            raise AgsError(
                f"Each submissionReview.custom name must be text of 1 to {MAX_STRING} characters."
            )
        if not isinstance(text, str):
            raise AgsError(
                f"submissionReview.custom “{name[:50]}” must be a string (a flat map of strings)."
            )
        if len(text) > MAX_CUSTOM_VALUE:
            raise AgsError(
                f"submissionReview.custom “{name[:50]}” is longer than {MAX_CUSTOM_VALUE} characters."
            )
        custom[name] = text
    return custom


def parse_submission_review(value: Any) -> dict[str, Any] | None:
    """The ``submissionReview`` of a line item a tool sends, as stored and returned; ``None``
    when it is absent or ``null`` (the line item is not reviewable).

    ``reviewableStatus`` lists ``activityProgress`` and ``gradingProgress`` values (each once); an
    empty or absent list makes every result reviewable. ``label`` is text; ``url`` an absolute
    http(s) URL (the review's ``target_link_uri``; absent: the resource link's); ``custom`` a flat
    map of strings, bounded. Anything else is ``AgsError``.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise AgsError("submissionReview must be a JSON object.")
    review: dict[str, Any] = {}
    statuses = value.get("reviewableStatus")
    if statuses is not None:
        if not isinstance(statuses, list) or not all(isinstance(s, str) for s in statuses):
            raise AgsError("submissionReview.reviewableStatus must be an array of strings.")
        unknown = [s for s in statuses if s not in REVIEWABLE_STATUSES]
        if unknown:
            raise AgsError(
                f"submissionReview.reviewableStatus has an unknown status “{unknown[0][:50]}”; "
                "use activityProgress or gradingProgress values: " + ", ".join(REVIEWABLE_STATUSES)
            )
        review["reviewableStatus"] = list(dict.fromkeys(statuses))
    label = value.get("label")
    if label is not None:
        if not isinstance(label, str) or len(label) > MAX_STRING:
            raise AgsError(
                f"submissionReview.label must be text of at most {MAX_STRING} characters."
            )
        if label.strip():
            review["label"] = label.strip()
    if value.get("url") not in (None, ""):
        review["url"] = _url(value["url"])
    if value.get("custom") is not None:
        custom = _custom(value["custom"])
        if custom:
            review["custom"] = custom
    return review


def is_reviewable(
    review: Mapping[str, Any] | None, activity_progress: str, grading_progress: str
) -> bool:
    """Whether a result with these statuses may be reviewed under the line item's ``review``:
    never without a declaration; with one, when its ``reviewableStatus`` is empty or names
    either status."""
    if review is None:
        return False
    statuses = review.get("reviewableStatus") or ()
    if not statuses:
        return True
    return activity_progress in statuses or grading_progress in statuses


def for_user_claim(user: LaunchUser, roles: Iterable[str]) -> dict[str, Any]:
    """The ``for_user`` claim: whose submission is reviewed. ``user`` is what the privacy rule
    lets the tool learn about that person (the id always; name and email when allowed)."""
    claim: dict[str, Any] = {"user_id": user.id}
    for name, text in (
        ("given_name", user.given_name),
        ("family_name", user.family_name),
        ("name", user.full_name),
        ("email", user.email),
    ):
        if text:
            claim[name] = text
    claim["roles"] = [role if "://" in role else MEMBERSHIP_ROLE + role for role in roles]
    return claim


def review_custom(base: Mapping[str, str], review: Mapping[str, Any] | None) -> dict[str, str]:
    """The custom parameters of a review: the resource link's (``base``, LTI 1.1-style names such
    as ``custom_unit`` allowed) with the declaration's ``custom`` merged over them (the
    declaration wins for a name both have)."""
    extra = dict((review or {}).get("custom") or {})

    def plain(name: str) -> str:
        return name.removeprefix("custom_")

    names = {plain(name) for name in extra}
    merged = {name: value for name, value in base.items() if plain(name) not in names}
    merged.update(extra)
    return merged

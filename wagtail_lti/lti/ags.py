"""Assignment and Grade Services 2.0: parsing and building line items, scores and results.

Pure functions over JSON values; the views in the Django glue (``services.ags``) do storage and access
control. Section numbers refer to the AGS 2.0 specification.
"""

from __future__ import annotations

import binascii
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import LtiError


LINEITEM_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEM_CONTAINER_MEDIA_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
RESULT_CONTAINER_MEDIA_TYPE = "application/vnd.ims.lis.v2.resultcontainer+json"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")
MAX_STRING = 255


class AgsError(LtiError):
    """A request the service refuses; ``status`` is the HTTP status, ``str()`` the description."""

    def __init__(self, message: str, status: int = 400, error: str = "invalid_request"):
        super().__init__(message)
        self.status = status
        self.error = error


# --- JSON bodies -----------------------------------------------------------------------------


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object (UTF-8; ``NaN``/``Infinity`` refused)."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise AgsError("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise AgsError("The request body must be a JSON object.")
    return data


def _number(data: dict[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AgsError(f"{name} must be a number.")
    value = float(value)
    if not math.isfinite(value):
        raise AgsError(f"{name} must be a finite number.")
    return value


def _string(data: dict[str, Any], name: str, *, max_length: int | None = MAX_STRING) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AgsError(f"{name} must be a string.")
    if max_length is not None and len(value) > max_length:
        raise AgsError(f"{name} is longer than {max_length} characters.")
    return value


def parse_datetime(value: Any, name: str) -> datetime | None:
    """An ISO 8601 date and time with a time zone designator (``Z`` or an offset), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise AgsError(f"{name} must be an ISO 8601 date and time string.")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise AgsError(f"{name} is not an ISO 8601 date and time.") from exc
    if "T" not in value and " " not in value.strip():
        raise AgsError(f"{name} must include a time.")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise AgsError(
            f"{name} must include a time zone designator (Z or an offset such as +00:00)."
        )
    try:
        parsed.astimezone(UTC)  # stored in UTC: 0001-01-01T00:00+01:00 has no UTC equivalent
    except OverflowError as exc:
        raise AgsError(f"{name} is out of range.") from exc
    return parsed


def format_datetime(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


# --- Line items (§3.2) -----------------------------------------------------------------------


@dataclass(frozen=True)
class LineItemData:
    label: str
    score_maximum: float
    resource_id: str
    tag: str
    start_date_time: datetime | None
    end_date_time: datetime | None
    grades_released: bool | None
    # None: not given. "" never: a blank resourceLinkId counts as not given.
    resource_link_id: str | None
    resource_link_id_given: bool
    #: Submission Review 1.0 (``lti.submission_review``): the declaration, or None.
    submission_review: dict[str, Any] | None = None


def parse_line_item(data: dict[str, Any]) -> LineItemData:
    """Validate a line item sent by a tool (POST to the container, PUT to the line item)."""
    label = _string(data, "label")
    if label is None or not label.strip():
        raise AgsError("label is required and must not be blank (AGS §3.2.7).")
    if "scoreMaximum" not in data:
        raise AgsError("scoreMaximum is required (AGS §3.2.8).")
    score_maximum = _number(data, "scoreMaximum")
    if score_maximum is None or score_maximum <= 0:
        raise AgsError("scoreMaximum must be a number greater than 0 (AGS §3.2.8).")
    grades_released = data.get("gradesReleased")
    if grades_released is not None and not isinstance(grades_released, bool):
        raise AgsError("gradesReleased must be true or false.")
    start = parse_datetime(data.get("startDateTime"), "startDateTime")
    end = parse_datetime(data.get("endDateTime"), "endDateTime")
    if start is not None and end is not None and end < start:
        raise AgsError("endDateTime must not be before startDateTime.")
    link_id = _string(data, "resourceLinkId")
    from .submission_review import parse_submission_review

    return LineItemData(
        label=label,
        score_maximum=score_maximum,
        resource_id=_string(data, "resourceId") or "",
        tag=_string(data, "tag") or "",
        start_date_time=start,
        end_date_time=end,
        grades_released=grades_released,
        resource_link_id=link_id or None,
        resource_link_id_given="resourceLinkId" in data,
        submission_review=parse_submission_review(data.get("submissionReview")),
    )


def line_item_json(
    *,
    id: str,
    label: str,
    score_maximum: float,
    resource_link_id: str | None,
    resource_id: str,
    tag: str,
    start_date_time: datetime | None,
    end_date_time: datetime | None,
    grades_released: bool | None,
    submission_review: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A line item as the platform returns it (``application/vnd.ims.lis.v2.lineitem+json``)."""
    item: dict[str, Any] = {"id": id, "label": label, "scoreMaximum": _plain_number(score_maximum)}
    if resource_link_id:
        item["resourceLinkId"] = resource_link_id
    if resource_id:
        item["resourceId"] = resource_id
    if tag:
        item["tag"] = tag
    # Supported, so always present, null when unset (§3.2.12, §3.2.13).
    item["startDateTime"] = format_datetime(start_date_time)
    item["endDateTime"] = format_datetime(end_date_time)
    if grades_released is not None:
        item["gradesReleased"] = grades_released
    if submission_review is not None:
        item["submissionReview"] = submission_review
    return item


def _plain_number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


# --- Scores (§3.4) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreData:
    user_id: str
    score_given: float | None
    score_maximum: float | None
    activity_progress: str
    grading_progress: str
    timestamp: datetime
    comment: str


def parse_score(data: dict[str, Any]) -> ScoreData:
    """Validate a score (``application/vnd.ims.lis.v1.score+json``).

    ``scoreGiven`` may be 0 (a score like any other); without it the score is cleared, and a
    ``scoreMaximum`` sent alone is ignored (§3.4.4).
    """
    user_id = data.get("userId")
    if not isinstance(user_id, str) or not user_id.strip():
        raise AgsError("userId is required (AGS §3.4.5).")
    score_given = _number(data, "scoreGiven")
    score_maximum = _number(data, "scoreMaximum")
    if score_given is not None:
        if score_given < 0:
            raise AgsError("scoreGiven must not be negative (AGS §3.4.4).")
        if score_maximum is None:
            raise AgsError("scoreMaximum is required when scoreGiven is present (AGS §3.4.4).")
    if score_maximum is not None and score_maximum <= 0:
        raise AgsError("scoreMaximum must be greater than 0.")
    activity = data.get("activityProgress")
    if activity not in ACTIVITY_PROGRESS:
        raise AgsError(
            "activityProgress must be one of " + ", ".join(ACTIVITY_PROGRESS) + " (AGS §3.4.7)."
        )
    grading = data.get("gradingProgress")
    if grading not in GRADING_PROGRESS:
        raise AgsError(
            "gradingProgress must be one of " + ", ".join(GRADING_PROGRESS) + " (AGS §3.4.8)."
        )
    if data.get("timestamp") in (None, ""):
        raise AgsError("timestamp is required (AGS §3.4.9).")
    timestamp = parse_datetime(data["timestamp"], "timestamp")
    comment = _string(data, "comment", max_length=None) or ""
    scoring_user = data.get("scoringUserId")
    if scoring_user is not None and (not isinstance(scoring_user, str) or not scoring_user.strip()):
        raise AgsError("scoringUserId, when present, must be a non-empty string (AGS §3.4.6).")
    submission = data.get("submission")
    if submission is not None and not isinstance(submission, dict):
        raise AgsError("submission must be an object (AGS §3.4.10).")
    return ScoreData(
        user_id=user_id,
        score_given=score_given,
        score_maximum=score_maximum if score_given is not None else None,
        activity_progress=activity,
        grading_progress=grading,
        timestamp=timestamp,
        comment=comment,
    )


def check_score_timestamp(timestamp: datetime, *, now: datetime, leeway_seconds: float) -> None:
    """Refuse a score ``timestamp`` more than ``leeway_seconds`` ahead of ``now`` (both aware).

    Later scores must carry a later timestamp (§3.4.9), so a score stamped in the future by a tool
    whose clock runs ahead would block every score the tool sends until its clock catches up.
    """
    if timestamp > now + timedelta(seconds=leeway_seconds):
        raise AgsError(
            f"timestamp {format_datetime(timestamp.astimezone(UTC))} is more than "
            f"{leeway_seconds:g} seconds ahead of the platform's clock "
            f"({format_datetime(now.astimezone(UTC).replace(microsecond=0))}); later scores must "
            "have later timestamps (AGS §3.4.9), so check the tool's clock."
        )


# --- Results (§3.3) --------------------------------------------------------------------------


def result_json(
    *,
    id: str,
    score_of: str,
    user_id: str,
    score_given: float | None,
    score_maximum: float | None,
    line_item_maximum: float,
    comment: str,
) -> dict[str, Any]:
    """A result: the score re-scaled to the line item's maximum (§3.4.4), comment if any."""
    result: dict[str, Any] = {
        "id": id,
        "scoreOf": score_of,
        "userId": user_id,
        "resultMaximum": _plain_number(line_item_maximum),
    }
    if score_given is not None and score_maximum:
        result["resultScore"] = _plain_number(
            round(score_given / score_maximum * line_item_maximum, 6)
        )
    if comment:
        result["comment"] = comment
    return result


# --- Paging ----------------------------------------------------------------------------------


def parse_limit(value: str | None, maximum: int) -> int:
    """The page size: ``limit`` if given (1 or more), capped at ``maximum`` (§3.2.4, §3.3.6)."""
    if value is None or value == "":
        return maximum
    try:
        limit = int(value)
    except ValueError as exc:
        raise AgsError("limit must be a positive integer.") from exc
    if limit < 1:
        raise AgsError("limit must be a positive integer.")
    return min(limit, maximum)


def encode_cursor(state: dict[str, Any]) -> str:
    """An opaque page cursor: hex of compact JSON.

    Lower-case hex survives clients that lower-case the ``Link`` header (PyLTI1p3 does), unlike
    filter values such as resource link ids, which are case-sensitive.
    """
    return json.dumps(state, separators=(",", ":"), sort_keys=True).encode().hex()


def decode_cursor(value: str) -> dict[str, Any]:
    try:
        state = json.loads(binascii.unhexlify(value.strip()).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise AgsError("cursor is not valid.") from exc
    if not isinstance(state, dict):
        raise AgsError("cursor is not valid.")
    return state

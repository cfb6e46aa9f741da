from .content_selection import ContentSelection
from .courses import (
    CourseCopy,
    CoursePageMixin,
    Enrollment,
    LearnerActivity,
    LineItem,
    Placement,
    Result,
    ScoreEvent,
    TestLearner,
)
from .launch_log import LaunchLogEntry
from .log_entries import LtiLogEntry
from .notices import NoticeDelivery, NoticeHandler
from .organizations import Organization, OrganizationMembership
from .providers import LtiProvider, LtiResourceLink, OrganizationOwnedMixin
from .registration import ToolRegistration
from .security import AccessToken, PendingLaunch, PlatformKey, SingleUseValue
from .tool_content import ToolContent


__all__ = [
    "AccessToken",
    "ContentSelection",
    "CoursePageMixin",
    "Enrollment",
    "LaunchLogEntry",
    "LearnerActivity",
    "LineItem",
    "LtiLogEntry",
    "LtiProvider",
    "LtiResourceLink",
    "NoticeDelivery",
    "NoticeHandler",
    "Organization",
    "OrganizationMembership",
    "OrganizationOwnedMixin",
    "PendingLaunch",
    "CourseCopy",
    "Placement",
    "PlatformKey",
    "Result",
    "ScoreEvent",
    "SingleUseValue",
    "ToolContent",
    "TestLearner",
    "ToolRegistration",
]

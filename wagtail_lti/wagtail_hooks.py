"""Registration only: each admin area registers its own viewsets and hooks in its module."""

from wagtail import hooks

from .admin import (  # noqa: F401
    catalogue,
    content_selection,
    courses,
    history,
    launch_log,
    notices,
    registration,
    rich_text,
    test_launch,
)
from .courses.framing import course_page_framing


hooks.register("on_serve_page", course_page_framing)

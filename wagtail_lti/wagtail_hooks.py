"""Registration only: each admin area registers its own viewsets and hooks in its module."""

from wagtail import hooks

from .admin import catalogue, content_selection, courses, launch_log, platform  # noqa: F401
from .framing import course_page_framing


hooks.register("on_serve_page", course_page_framing)

"""Registration only: each admin area registers its own viewsets and hooks in its module."""

from .admin import catalogue, courses, platform  # noqa: F401

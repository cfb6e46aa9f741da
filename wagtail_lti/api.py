"""What a site developer imports from wagtail-lti.

* :class:`CoursePageMixin` — mix into a page model to make it a course page;
* :class:`CourseActivityBlock` — the activity block to put in its StreamField;
* :class:`ToolContentBlock` — the "Tool content" block (one item chosen in a tool); rich text
  gets "Insert from a tool" with the feature ``"lti-tool"`` in a field's ``features``;
* :class:`CoursePageFormMixin` / :class:`CoursePageForm` — the page form checks (organization,
  activities usable by it);
* :func:`catalogue_changed` — call after changing placements, links or providers behind Django's
  back (e.g. with ``QuerySet.update``);
* ``page_published`` etc. are Wagtail's; the app's own receivers are in ``wagtail_lti.signals``.
"""

from .blocks import CourseActivityBlock, ToolContentBlock
from .courses.forms import CoursePageForm, CoursePageFormMixin
from .launch.targets import catalogue_changed
from .models import CoursePageMixin


__all__ = [
    "CourseActivityBlock",
    "CoursePageForm",
    "CoursePageFormMixin",
    "CoursePageMixin",
    "ToolContentBlock",
    "catalogue_changed",
]

"""Signal receivers of wagtail-lti, connected when the app is ready."""

from wagtail.signals import page_published

from .placements import on_page_published


# Course pages: every course-activity block gets its placement (and automatic line item).
page_published.connect(on_page_published, dispatch_uid="wagtail_lti_sync_placements")

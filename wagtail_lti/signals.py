"""Signal receivers of wagtail-lti, connected when the app is ready."""

from django.db.models.signals import post_save
from wagtail.signals import page_published

from .launch_log import forget_debug_data
from .models import LtiProvider
from .placements import on_page_published


# Course pages: every course-activity block gets its placement (and automatic line item).
page_published.connect(on_page_published, dispatch_uid="wagtail_lti_sync_placements")
# Providers: switching launch debugging off drops the debug data the launch log kept.
post_save.connect(forget_debug_data, sender=LtiProvider, dispatch_uid="wagtail_lti_forget_debug")

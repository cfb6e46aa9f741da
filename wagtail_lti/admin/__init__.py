"""Wagtail admin integration, one module per area; ``wagtail_lti.wagtail_hooks`` imports them all."""

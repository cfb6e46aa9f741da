"""The admin history of wagtail-lti records, scoped by organization.

Every wagtail-lti model is logged to ``LtiLogEntry`` instead of Wagtail's ``ModelLogEntry``
(Wagtail's documented ``register_log_actions`` → ``register_model``, "Log models" in its audit log
docs). Every door that reads the audit log then asks ``LtiLogEntry.objects``:

* Reports → "Site history" (its listing, results, CSV/XLSX export and the choices of its "Type",
  "Action" and "User" filters) asks ``viewable_by_user``: the entries of records the editor may
  see (``wagtail_lti.scoping.history_visible_to``); superusers see everything.
* A record's own history page and the "last updated" of its edit view ask ``for_instance``; those
  views already answer 404 for a record outside the editor's organizations.

Pages (``PageLogEntry``) and other apps' models (``ModelLogEntry``) keep Wagtail's own rules.
Wagtail's dashboard panels of recent edits list pages only.
"""

from __future__ import annotations

from django.apps import apps
from wagtail import hooks

from ..models import LtiLogEntry


@hooks.register("register_log_actions")
def register_lti_log_model(actions):
    for model in apps.get_app_config("wagtail_lti").get_models():
        if model is not LtiLogEntry:
            actions.register_model(model, LtiLogEntry)

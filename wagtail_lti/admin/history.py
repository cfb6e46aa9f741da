"""The admin history of wagtail-lti records, scoped by organization.

Every wagtail-lti model is logged to ``LtiLogEntry`` instead of Wagtail's ``ModelLogEntry``
(Wagtail's documented ``register_log_actions`` → ``register_model``, "Log models" in its audit log
docs). Every door that reads the audit log then asks ``LtiLogEntry.objects``:

* Reports → "Site history" (its listing, results, CSV/XLSX export and the choices of its "Type",
  "Action" and "User" filters) asks ``viewable_by_user``: the entries of records whose history
  the editor may read (``wagtail_lti.scoping.history_visible_to``); superusers see everything.
* A record's own history page and the "last updated" of its edit view ask ``for_instance``; those
  views answer 404 for a record whose history the editor may not read
  (``wagtail_lti.scoping.may_read_history``).

Providers and resource links: the managers of the organizations that may use one (its
Availability tab, or an organization above its owner) read its history too, with the name of
whoever made each change (an editor of the owning organization), because the owner's changes
(URLs, privacy options) apply to them. They cannot open its edit view or its revisions.

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

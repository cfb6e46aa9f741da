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

``LtiLogEntry`` is a third log model next to Wagtail's two: Site history chains one ``union()`` per
log model, and from Django 6.1 on the inner union keeps its default ordering, which SQLite refuses
inside a compound statement (a 500). :func:`install` (called once when the app is ready) wraps the
report's ``get_filtered_queryset`` so that its combined query goes through
``wagtail_lti.compat.without_ordered_parts``; Wagtail's filters, ordering, pagination and exports
are unchanged.
"""

from __future__ import annotations

from django.apps import apps
from wagtail import hooks

from .. import compat
from ..models import LtiLogEntry


_INSTALLED = "_wagtail_lti_without_ordered_parts"


@hooks.register("register_log_actions")
def register_lti_log_model(actions):
    for model in apps.get_app_config("wagtail_lti").get_models():
        if model is not LtiLogEntry:
            actions.register_model(model, LtiLogEntry)


def install() -> None:
    """Site history's combined query without ORDER BY in its parts (idempotent)."""
    from wagtail.admin.views.reports.audit_logging import LogEntriesView

    original = LogEntriesView.get_filtered_queryset
    if getattr(original, _INSTALLED, False):
        return

    def get_filtered_queryset(self):
        return compat.without_ordered_parts(original(self))

    setattr(get_filtered_queryset, _INSTALLED, True)
    get_filtered_queryset.__wrapped__ = original
    get_filtered_queryset.__doc__ = original.__doc__
    LogEntriesView.get_filtered_queryset = get_filtered_queryset

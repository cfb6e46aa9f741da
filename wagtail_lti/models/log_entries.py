"""The admin history (Wagtail's audit log) of wagtail-lti records, in a log model of its own.

Wagtail keeps log entries of non-page models in ``ModelLogEntry`` and shows them in Reports →
"Site history" to anyone with a permission on the model: an editor of one organization would read
the names and actions of every other organization's providers, links, memberships, enrollments.
Wagtail's documented answer is a log model per app ("Log models" in its audit log docs): Wagtail
asks each registered log model which entries a user may see (``viewable_by_user``), as it does
for pages with ``PageLogEntry``. ``wagtail_lti.admin.history`` routes every wagtail-lti model to
:class:`LtiLogEntry` (hook ``register_log_actions``); its manager answers with the organization
rule of ``wagtail_lti.scoping.history_visible_to``.

Each entry also records the organization the record belonged to when the action was logged
(``scoping.organization_id_of``); it decides who sees the entries of a record once it is deleted.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import prefetch_related_objects
from django.utils.translation import gettext_lazy as _
from wagtail.models import BaseLogEntry, BaseLogEntryManager
from wagtail.models.audit_log import LogEntryQuerySet

from .organizations import Organization


def _has_model_permission(user, model) -> bool:
    """Any permission on the model (Wagtail's own test for ``ModelLogEntry``)."""
    opts = model._meta
    codenames = [f"{action}_{opts.model_name}" for action in opts.default_permissions]
    codenames += [codename for codename, _name in opts.permissions]
    return any(user.has_perm(f"{opts.app_label}.{codename}") for codename in codenames)


class LtiLogEntryQuerySet(LogEntryQuerySet):
    def with_instances(self):
        """Wagtail's (entry, record) pairs, with each record's organization loaded in one query
        per model: Site history asks the record's permission policy for its edit URL, and the
        policies of wagtail-lti read the record's organization."""
        pairs = list(super().with_instances())
        by_model = defaultdict(list)
        for _entry, instance in pairs:
            if instance is not None and _has_organization(type(instance)):
                by_model[type(instance)].append(instance)
        for instances in by_model.values():
            prefetch_related_objects(instances, "organization")
        return pairs


def _has_organization(model) -> bool:
    try:
        return model._meta.get_field("organization").many_to_one
    except FieldDoesNotExist:
        return False


class LtiLogEntryManager(BaseLogEntryManager):
    def get_queryset(self):
        return LtiLogEntryQuerySet(self.model, using=self._db)

    def log_action(self, instance, action, **kwargs):
        from .. import scoping

        kwargs.update(
            object_id=str(instance.pk),
            organization_id=scoping.organization_id_of(instance),
        )
        return super().log_action(instance, action, **kwargs)

    def for_instance(self, instance):
        return self.filter(
            content_type=ContentType.objects.get_for_model(instance, for_concrete_model=False),
            object_id=str(instance.pk),
        )

    def viewable_by_user(self, user):
        """Entries of records the user may see: model permission (as Wagtail's own log models)
        and the organization rule of ``scoping.history_visible_to``. One query when evaluated."""
        from .. import scoping

        if user.is_superuser:
            return self.all()
        # Not Wagtail's BaseLogEntryManager.viewable_by_user: it caches the allowed content
        # types on the user object from whichever log model asks first, shared by all of them.
        permitted = [
            model
            for model in self.model._meta.app_config.get_models()
            if model is not self.model and _has_model_permission(user, model)
        ]
        return scoping.history_visible_to(self.all(), user, permitted)


class LtiLogEntry(BaseLogEntry):
    """An admin action on a wagtail-lti record (created, edited, deleted...): Wagtail's audit log.

    Not the launch log (``LaunchLogEntry``), which records launches and service calls.
    """

    object_id = models.CharField(max_length=255, blank=False, db_index=True)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        # Kept when the organization goes: a log outlives what it logs (as Wagtail's page log).
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("organization at the time"),
    )

    objects = LtiLogEntryManager()

    class Meta(BaseLogEntry.Meta):
        ordering = ["-timestamp", "-id"]
        verbose_name = _("LTI log entry")
        verbose_name_plural = _("LTI log entries")

    def __str__(self):
        # Not object_verbose_name: a method on Wagtail 7, a property on Wagtail 8.
        return f"LtiLogEntry {self.pk}: '{self.action}' on {self.content_type} with id {self.object_id}"

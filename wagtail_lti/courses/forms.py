"""The admin form of course pages: server-side checks the choosers alone cannot guarantee.

Blocks receive no user and ``SnippetChooserBlock`` accepts any resource link id, so the page form
checks, on every save, that:

* the course's organization is one the editor manages;
* every course-activity block's resource link, and that link's provider, may be used by the
  course's organization (the availability rule of ``wagtail_lti.scoping``).

Errors are shown on the offending block and summarised at the top of the form, naming the block
by its position and title.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin.forms.pages import WagtailAdminPageForm
from wagtail.blocks.stream_block import StreamBlockValidationError
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.fields import StreamField


class CoursePageFormMixin:
    """Mix into a ``WagtailAdminPageForm`` subclass of a page model using ``CoursePageMixin``."""

    organization_field = "course_organization"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from ..scoping import managed_organizations

        field = self.fields.get(self.organization_field)
        if field is not None and self.for_user is not None:
            field.queryset = managed_organizations(self.for_user).order_by("path")
            field.label_from_instance = lambda org: org.get_indented_name()
            field.error_messages["invalid_choice"] = gettext_lazy(
                "Choose an organization you manage."
            )

    def clean(self):
        cleaned_data = super().clean()
        from ..scoping import user_manages

        organization = cleaned_data.get(self.organization_field)
        if organization is not None and self.for_user is not None:
            if not user_manages(self.for_user, organization):
                self.add_error(
                    self.organization_field,
                    _("You don't manage “%(organization)s”; choose an organization you manage.")
                    % {"organization": organization},
                )
                return cleaned_data
        if self.organization_field in self.fields and organization is None:
            # The field's own error ("This field is required") is already there.
            return cleaned_data
        if organization is None:
            organization = getattr(self.instance, self.organization_field, None)
        self._check_activity_blocks(cleaned_data, organization)
        return cleaned_data

    def _stream_fields(self):
        for name in self.fields:
            try:
                model_field = self._meta.model._meta.get_field(name)
            except FieldDoesNotExist:  # a form-only field
                continue
            if isinstance(model_field, StreamField):
                yield name

    def _check_activity_blocks(self, cleaned_data, organization) -> None:
        from ..blocks import activity_blocks
        from ..models import LtiProvider, LtiResourceLink
        from ..scoping import usable_by

        found: list[tuple[str, int, object]] = []
        for name in self._stream_fields():
            for index, child in activity_blocks(cleaned_data.get(name)):
                found.append((name, index, child))
        if not found:
            return

        links = [child.value.get("resource_link") for _, _, child in found]
        link_ids = {link.pk for link in links if link is not None}
        provider_ids = {link.provider_id for link in links if link is not None}
        if organization is None:
            usable_links: set[int] = set()
            usable_providers: set[int] = set()
        else:
            usable_links = set(
                usable_by(
                    LtiResourceLink.objects.filter(pk__in=link_ids), organization
                ).values_list("pk", flat=True)
            )
            usable_providers = set(
                usable_by(
                    LtiProvider.objects.filter(pk__in=provider_ids), organization
                ).values_list("pk", flat=True)
            )

        errors_by_field: dict[str, dict[int, ValidationError]] = {}
        summary: list[str] = []
        for name, index, child in found:
            link = child.value.get("resource_link")
            if link is None:
                continue  # the block's own "required" validation reports it
            if link.pk not in usable_links:
                message = _("“%(link)s” is not available to %(organization)s.")
            elif link.provider_id not in usable_providers:
                message = _("The LTI provider of “%(link)s” is not available to %(organization)s.")
            else:
                continue
            message %= {
                "link": link,
                "organization": organization or _("this course (no organization chosen)"),
            }
            block_title = child.value.get("title") or str(link)
            summary.append(
                _("Activity block %(position)d (“%(title)s”): %(message)s")
                % {"position": index + 1, "title": block_title, "message": message}
            )
            errors_by_field.setdefault(name, {})[index] = StructBlockValidationError(
                block_errors={"resource_link": ValidationError(message)}
            )

        for name, block_errors in errors_by_field.items():
            self.add_error(name, StreamBlockValidationError(block_errors=block_errors))
        for line in summary:
            self.add_error(None, line)


class CoursePageForm(CoursePageFormMixin, WagtailAdminPageForm):
    """The default ``base_form_class`` of ``CoursePageMixin`` pages."""


__all__ = ["CoursePageForm", "CoursePageFormMixin"]

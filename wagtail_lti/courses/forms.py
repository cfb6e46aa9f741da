"""The admin form of course pages: server-side checks the choosers alone cannot guarantee.

Blocks receive no user and ``SnippetChooserBlock`` accepts any resource link id, so the page form
checks, on every save, that:

* the editor may change the course's LTI part (organization, activity blocks) as submitted: the
  rule of ``wagtail_lti.courses.lti_changes``, judged against the page as it is now (so a revert
  to an older revision is judged too); an unchanged LTI part is anyone's page edit;
* every course-activity block's resource link, and that link's provider, may be used by the
  course's organization (the availability rule of ``wagtail_lti.scoping``);
* every item of content from a tool in its rich text and "Tool content" blocks is still
  acceptable (``wagtail_lti.content_selection.tool_content.content_problem``).

Errors are shown on the offending block and summarised at the top of the form, naming the block
by its position and title; a resource link is named only if the editor may see it
(``wagtail_lti.scoping.may_name``).
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.forms.utils import ErrorList
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
            # The course's own organization stays a valid choice, so an editor Wagtail lets edit
            # the page can save it unchanged; changing the LTI part is decided in clean().
            current = getattr(self.instance, f"{self.organization_field}_id", None)
            field.queryset = (
                managed_organizations(self.for_user) | field.queryset.filter(pk=current)
            ).order_by("path")
            field.label_from_instance = lambda org: org.get_indented_name()
            field.error_messages["invalid_choice"] = gettext_lazy(
                "Choose an organization you manage."
            )

    def clean(self):
        cleaned_data = super().clean()
        organization = cleaned_data.get(self.organization_field)
        if self.for_user is not None and not self._check_lti_change(cleaned_data):
            return cleaned_data
        if self.organization_field in self.fields and organization is None:
            # The field's own error ("This field is required") is already there.
            return cleaned_data
        if organization is None:
            organization = getattr(self.instance, self.organization_field, None)
        self._check_activity_blocks(cleaned_data, organization)
        self._check_tool_content(cleaned_data, organization)
        return cleaned_data

    def _check_tool_content(self, cleaned_data, organization) -> None:
        """Every item of content from a tool in the page's rich text and "Tool content" blocks,
        checked again by ``content_selection.tool_content.content_problem`` (the provider still
        usable by the course's organization, the HTML still sanitised); each problem is an
        error on its field."""
        from ..content_selection.tool_content import (
            content_fields,
            content_problem,
            contents_by_id,
            ids_in_value,
        )

        for name in content_fields(self._meta.model):
            if name not in self.fields or name not in cleaned_data:
                continue
            ids = ids_in_value(cleaned_data.get(name))
            if not ids:
                continue
            found = contents_by_id(ids)
            problems = []
            for pk in ids:
                problem = content_problem(found.get(pk), organization)
                if problem and problem not in problems:
                    problems.append(problem)
            if not problems:
                continue
            for problem in problems:
                self.add_error(None, problem)
            if name in self.errors:
                continue
            if name in set(self._stream_fields()):
                self.add_error(
                    name, StreamBlockValidationError(non_block_errors=ErrorList(problems))
                )
            else:
                self.add_error(name, ValidationError(problems))

    def _check_lti_change(self, cleaned_data) -> bool:
        """Ask the rule of ``wagtail_lti.courses.lti_changes`` whether the editor may take the
        course from what it is now (its live row and latest revision, not the revision shown in
        the form, which a revert loads) to what was submitted; add the refusal as an error."""
        from wagtail_lti.courses.lti_changes import (
            course_lti_state,
            current_states,
            lti_change_refusal,
        )

        from ..content_selection.tool_content import content_fields

        overrides = {
            name: cleaned_data[name]
            for name in [
                self.organization_field,
                *self._stream_fields(),
                *content_fields(self._meta.model),
            ]
            if name in self.fields and name in cleaned_data
        }
        new = course_lti_state(self.instance, overrides)
        if new is None:
            return True
        for old in current_states(self.instance) or [None]:
            refusal = lti_change_refusal(self.for_user, old, new)
            if refusal is not None:
                changed_organization = old is None or old.organization_id != new.organization_id
                if changed_organization and self.organization_field in self.fields:
                    self.add_error(self.organization_field, refusal)
                else:
                    self.add_error(None, refusal)
                return False
        return True

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
        from ..scoping import may_name, usable_by

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
            nameable = self.for_user is None or may_name(self.for_user, link)
            if link.pk not in usable_links:
                message = (
                    _("“%(link)s” is not available to %(organization)s.")
                    if nameable
                    else _("The chosen resource link is not available to %(organization)s.")
                )
            elif link.provider_id not in usable_providers:
                message = _("The LTI provider of “%(link)s” is not available to %(organization)s.")
            else:
                continue
            if not nameable:
                # Neither the message nor the re-rendered chooser may show the name of a link the
                # editor cannot see (a crafted id must not reveal it): the block comes back empty.
                self._forget_chosen_link(name, index)
            message %= {
                "link": link,
                "organization": organization or _("this course (no organization chosen)"),
            }
            block_title = child.value.get("title") or (str(link) if nameable else "")
            if block_title:
                line = _("Activity block %(position)d (“%(title)s”): %(message)s")
            else:
                line = _("Activity block %(position)d: %(message)s")
            summary.append(line % {"position": index + 1, "title": block_title, "message": message})
            errors_by_field.setdefault(name, {})[index] = StructBlockValidationError(
                block_errors={"resource_link": ValidationError(message)}
            )

        for name, block_errors in errors_by_field.items():
            self.add_error(name, StreamBlockValidationError(block_errors=block_errors))
        for line in summary:
            self.add_error(None, line)

    def _forget_chosen_link(self, name: str, position: int) -> None:
        """Empty the resource link of the ``position``-th block of stream field ``name`` in the
        submitted data, so the form is shown again without it."""
        data = self.data
        try:
            count = int(data.get(f"{name}-count", 0))
        except (TypeError, ValueError):
            return
        kept = sorted(
            (int(data.get(f"{name}-{n}-order") or n), n)
            for n in range(count)
            if not data.get(f"{name}-{n}-deleted")
        )
        if position >= len(kept):
            return
        key = f"{name}-{kept[position][1]}-value-resource_link"
        if key in data:
            data = data.copy()
            data[key] = ""
            self.data = data


class CoursePageForm(CoursePageFormMixin, WagtailAdminPageForm):
    """The default ``base_form_class`` of ``CoursePageMixin`` pages."""


__all__ = ["CoursePageForm", "CoursePageFormMixin"]

"""Building blocks of the organization-scoped admin views.

Wagtail checks model-level permissions in its generic views, but not the row-level rule of a
registered policy when it loads an object by the pk in the URL. Each view class of the catalogue
therefore mixes in :class:`ScopedObjectMixin`, which answers 404 for a record outside the user's
organizations, exactly as if it did not exist (the same answer Wagtail's own Collection views
give), so no door shows, opens or confirms the existence of another organization's record.
"""

from __future__ import annotations

from django import forms
from django.contrib.admin.utils import quote
from django.db.models import Min
from django.db.models.deletion import ProtectedError
from django.http import Http404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail.admin import messages
from wagtail.admin.forms.choosers import BaseFilterForm

from ..forms import indented_name
from ..permissions import POLICIES
from .usage import describe_blockers, nameable_labels, usage_blockers


def policy_for(model):
    return POLICIES[model]


class ScopedObjectMixin:
    """Refuse (404) any object outside the user's organizations, whichever way it is loaded."""

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj is not None and not policy_for(self.model).in_scope(self.request.user, obj):
            raise Http404
        return obj


class ScopedIndexMixin:
    """Listing limited to the records the policy gives the user (for ``ModelViewSet`` indexes)."""

    def get_base_queryset(self):
        return policy_for(self.model).scoped_queryset(self.request.user)


class NoAutosaveMixin:
    """No background saves: a provider or link is live as soon as it is saved, so a half-typed
    launch URL or key must never be stored on its own."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.autosave_enabled = False

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["autosave_enabled"] = False
        return context


class RefuseDeleteInUseMixin:
    """Refuse to delete a record still in use, naming its users on the page and in a message."""

    def get_template_names(self):
        # Extends Wagtail's generic confirm_delete.html (the viewset passes that as template_name).
        return ["wagtail_lti/admin/confirm_delete.html"]

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.blockers = usage_blockers(self.object, request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["blockers"] = self.blockers
        context["edit_url"] = self._edit_url()
        if self.blockers:
            context["is_protected"] = True
        return context

    def _edit_url(self):
        if self.edit_url_name:
            return reverse(self.edit_url_name, args=(quote(self.object.pk),))
        return None

    def _refuse(self, blockers):
        messages.error(self.request, describe_blockers(self.object, blockers))
        return self.render_to_response(self.get_context_data())

    def post(self, request, *args, **kwargs):
        if self.blockers:
            return self._refuse(self.blockers)
        return super().post(request, *args, **kwargs)

    def delete_action(self):
        try:
            super().delete_action()
        except ProtectedError as exc:  # in use by something we did not know to look for
            protected = sorted(exc.protected_objects, key=str)
            names = nameable_labels([(o, str(o)) for o in protected], self.request.user)
            raise _InUse(names) from exc

    def form_valid(self, form):
        try:
            return super().form_valid(form)
        except _InUse as exc:
            return self._refuse(exc.names)


class _InUse(Exception):
    def __init__(self, names):
        self.names = names


class NameSearchFilterForm(BaseFilterForm):
    """Chooser search by name with the database (works on any scoped queryset)."""

    q = forms.CharField(
        label=gettext_lazy("Search term"),
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("Search")}),
        required=False,
    )

    def filter(self, objects):
        objects = super().filter(objects)
        query = self.cleaned_data.get("q")
        if query:
            objects = objects.filter(name__icontains=query)
            self.is_searching = True
            self.search_query = query
        return objects


class IndentedTitleChooseMixin:
    """Chooser listing showing organizations indented under their parents."""

    @cached_property
    def base_depth(self) -> int:
        return self.get_object_list().aggregate(depth=Min("depth"))["depth"] or 1

    @property
    def title_column(self):
        column = super().title_column
        column.accessor = lambda obj: indented_name(obj, self.base_depth)
        column.label = _("Name")
        return column


__all__ = [
    "IndentedTitleChooseMixin",
    "NameSearchFilterForm",
    "NoAutosaveMixin",
    "RefuseDeleteInUseMixin",
    "ScopedIndexMixin",
    "ScopedObjectMixin",
    "policy_for",
]

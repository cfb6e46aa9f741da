"""The person picker of the enrollment form: a searchable chooser instead of a drop-down of every
user.

It offers the people the enrollment form may enroll (``scoping.offerable_users``: active, not
superusers), searched by username, first or last name in the database, 50 a page; it shows each
person's name and username, never their email address. The chosen view refuses anyone else (404).
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.choosers import BaseFilterForm
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.admin.widgets.chooser import BaseChooser

from .. import scoping


def person_label(user) -> str:
    """“Full Name (username)”, or the username alone."""
    full_name = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    username = user.get_username()
    return f"{full_name} ({username})" if full_name else username


class PersonSearchForm(BaseFilterForm):
    q = forms.CharField(
        label=_("Search term"),
        widget=forms.TextInput(attrs={"placeholder": _("Name or username")}),
        required=False,
    )

    def filter(self, objects):
        objects = super().filter(objects)
        query = (self.cleaned_data.get("q") or "").strip()
        if query:
            condition = Q(username__icontains=query)
            for word in query.split()[:5]:
                condition |= Q(first_name__icontains=word) | Q(last_name__icontains=word)
            objects = objects.filter(condition)
            self.is_searching = True
            self.search_query = query
        return objects


class PersonChooseMixin:
    filter_form_class = PersonSearchForm

    def get_object_list(self):
        return scoping.offerable_users().order_by("last_name", "first_name", "username")

    @property
    def title_column(self):
        column = super().title_column
        column.accessor = person_label
        column.label = _("Person")
        return column


class PersonChooseView(PersonChooseMixin, chooser_views.ChooseView):
    pass


class PersonChooseResultsView(PersonChooseMixin, chooser_views.ChooseResultsView):
    pass


class PersonChosenView(chooser_views.ChosenView):
    def get_object(self, pk):
        try:
            return scoping.offerable_users().get(pk=pk)
        except (ValueError, get_user_model().DoesNotExist):
            raise Http404 from None

    def get_display_title(self, instance):
        return person_label(instance)


class PersonChooserWidget(BaseChooser):
    """The chooser widget, showing the chosen person as “Full Name (username)”."""

    def get_display_title(self, instance):
        return person_label(instance)


class PersonChooserViewSet(ChooserViewSet):
    """Choose a person to enroll."""

    model = None  # set in __init__: the project's user model
    url_prefix = "lti/choose-person"
    icon = "user"
    choose_one_text = _("Choose a person")
    choose_another_text = _("Choose another person")
    per_page = 50
    # Only the enrollment form uses it; other forms with a user field keep their own widget.
    register_widget = False
    choose_view_class = PersonChooseView
    choose_results_view_class = PersonChooseResultsView
    chosen_view_class = PersonChosenView

    base_widget_class = PersonChooserWidget

    def __init__(self, *args, **kwargs):
        self.model = get_user_model()
        super().__init__(*args, **kwargs)


person_chooser_viewset = PersonChooserViewSet("wagtail_lti_person_chooser")

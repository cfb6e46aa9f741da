"""Reports → "Site history" with three log models (Wagtail's two and ``LtiLogEntry``).

Wagtail builds the report's query with one chained ``union()`` per log model. From Django 6.1 on
a combined queryset gets its model's default ordering back, so with a third log model the inner
union carried an ORDER BY inside the compound statement, which SQLite refuses: the report
answered 500. The rule, ``wagtail_lti.compat.without_ordered_parts``, drops the ordering of the
combined parts (not of the outer query); ``wagtail_lti.admin.history.install`` applies it to the
report's query. Both are checked here: the rule on plain log querysets, the door through the
report (listing, results, filters, CSV export), whichever order the log models come in.
"""

from __future__ import annotations

import itertools

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection
from django.db.models import IntegerField, Value
from django.urls import reverse
from wagtail.admin.views.reports import audit_logging as site_history
from wagtail.log_actions import log
from wagtail.log_actions import registry as log_registry
from wagtail.models import Collection, ModelLogEntry, PageLogEntry

from tests.support.factories import make_provider, site_root
from wagtail_lti.compat import without_ordered_parts
from wagtail_lti.models import LtiLogEntry


pytestmark = pytest.mark.django_db

SITE_HISTORY = reverse("wagtailadmin_reports:site_history")
SITE_HISTORY_RESULTS = reverse("wagtailadmin_reports:site_history_results")
LOG_MODELS = (PageLogEntry, ModelLogEntry, LtiLogEntry)


@pytest.fixture
def entries(orgs, superuser):
    """One entry in each log model: a page, a collection, a provider."""
    log(site_root(), "wagtail.edit", user=superuser, title="Home page edited")
    log(
        Collection.get_first_root_node().add_child(name="Handbooks"),
        "wagtail.create",
        user=superuser,
    )
    log(make_provider(orgs["engineering"], name="Engineering tool"), "wagtail.edit", user=superuser)
    assert PageLogEntry.objects.filter(label="Home page edited").exists()
    assert ModelLogEntry.objects.filter(label="Handbooks").exists()
    assert LtiLogEntry.objects.filter(label="Engineering tool").exists()
    return {"Home page edited", "Handbooks", "Engineering tool"}


def _part(index, model, **filters):
    """A log model's part of the report's query, built as Wagtail builds it."""
    return (
        model.objects.filter(**filters)
        .values("pk", "timestamp")
        .annotate(log_model_index=Value(index, output_field=IntegerField()))
        .order_by()
    )


def _chained(parts):
    queryset = parts[0]
    for part in parts[1:]:
        queryset = queryset.union(part, all=True)
    return queryset


def _rows(queryset):
    return [(row["log_model_index"], row["pk"]) for row in queryset]


def _expected(parts):
    rows = [(row["timestamp"], row["log_model_index"], row["pk"]) for part in parts for row in part]
    return [(index, pk) for _timestamp, index, pk in sorted(rows, reverse=True)]


# --- The rule: compat.without_ordered_parts -------------------------------------------------------


def test_three_chained_log_querysets_are_evaluated_in_the_outer_order(entries):
    parts = [_part(index, model) for index, model in enumerate(LOG_MODELS)]
    combined = without_ordered_parts(_chained(parts).order_by("-timestamp"))
    assert _rows(combined) == _expected(parts)
    assert {row["log_model_index"] for row in combined} == {0, 1, 2}
    assert combined.count() == 3


def test_four_parts_deep_and_the_same_model_thrice(entries):
    parts = [_part(index, ModelLogEntry) for index in range(3)] + [_part(3, LtiLogEntry)]
    combined = without_ordered_parts(_chained(parts).order_by("-timestamp", "-log_model_index"))
    assert _rows(combined) == _expected(parts)


def test_an_ordered_inner_union_keeps_no_ordering_the_outer_one_stays(entries):
    """An explicitly ordered inner union: SQLite refuses it on every Django version; the rule
    drops that ordering, the outer ordering decides."""
    first, second, third = (_part(index, model) for index, model in enumerate(LOG_MODELS))
    queryset = (
        first.union(second, all=True)
        .order_by("timestamp")
        .union(third, all=True)
        .order_by("-timestamp")
    )
    if not connection.features.supports_slicing_ordering_in_compound:
        with pytest.raises(DatabaseError, match="ORDER BY not allowed in subqueries"):
            list(queryset)
    combined = without_ordered_parts(queryset)
    assert _rows(combined) == _expected([first, second, third])
    sql = str(combined.query)
    assert sql.count("ORDER BY") == 1 and sql.rstrip().endswith("DESC")
    assert _rows(without_ordered_parts(queryset.order_by("timestamp"))) == list(
        reversed(_expected([first, second, third]))
    )


def test_a_sliced_part_keeps_its_ordering(entries):
    first = _part(0, LtiLogEntry).order_by("-timestamp")[:1]
    queryset = _part(1, ModelLogEntry).union(first, all=True)
    (part, sliced) = without_ordered_parts(queryset).query.combined_queries
    assert sliced.order_by == ("-timestamp",) and sliced.is_sliced
    assert not part.order_by


def test_the_given_queryset_is_left_as_it_was(entries):
    inner = _part(0, PageLogEntry).union(_part(1, ModelLogEntry), all=True).order_by("timestamp")
    queryset = inner.union(_part(2, LtiLogEntry), all=True)
    without_ordered_parts(queryset)
    assert queryset.query.combined_queries[0].order_by == ("timestamp",)
    assert inner.query.order_by == ("timestamp",)


def test_a_queryset_that_combines_nothing_is_returned_as_it_is(entries):
    queryset = LtiLogEntry.objects.order_by("timestamp")
    assert without_ordered_parts(queryset) is queryset


# --- The door: Reports → Site history ------------------------------------------------------------


def test_the_report_query_goes_through_the_rule():
    method = site_history.LogEntriesView.get_filtered_queryset
    assert method.__wrapped__ is not None
    from wagtail_lti.admin import history

    history.install()  # idempotent: not wrapped twice
    assert site_history.LogEntriesView.get_filtered_queryset is method
    assert not hasattr(method.__wrapped__, "__wrapped__")


@pytest.fixture(
    params=list(itertools.permutations(LOG_MODELS)), ids=lambda p: "-".join(m.__name__ for m in p)
)
def log_models_order(request, monkeypatch):
    """Wagtail keeps its log models in a set: the report's first model (the one whose default
    ordering the inner union took) is any of them."""
    monkeypatch.setattr(log_registry, "get_log_entry_models", lambda: list(request.param))
    return request.param


def test_site_history_with_three_log_models(client, entries, superuser, log_models_order):
    client.force_login(superuser)
    for address in (SITE_HISTORY, SITE_HISTORY_RESULTS):
        response = client.get(address)
        assert response.status_code == 200
        assert {entry.label for entry in response.context["object_list"]} == entries
    labels = [entry.label for entry in client.get(SITE_HISTORY).context["object_list"]]
    assert labels == ["Engineering tool", "Handbooks", "Home page edited"]  # newest first


def test_site_history_filters_and_export_with_three_log_models(client, entries, superuser):
    client.force_login(superuser)
    for query in (
        {"action": "wagtail.edit"},
        {"label": "tool"},
        {"user": superuser.pk},
        {"timestamp_after": "2000-01-01"},
        {"object_type": ContentType.objects.get_for_model(Collection).pk},
    ):
        response = client.get(SITE_HISTORY, query)
        assert response.status_code == 200, query
    labels = {
        e.label for e in client.get(SITE_HISTORY, {"action": "wagtail.edit"}).context["object_list"]
    }
    assert labels == {"Home page edited", "Engineering tool"}
    response = client.get(SITE_HISTORY, {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert all(label in body for label in entries)


@pytest.mark.parametrize("collections", [True, False], ids=["with-collections", "pages-and-lti"])
def test_an_organization_editor_gets_the_report_and_its_export(
    client, entries, orgs, make_editor, log_models_order, collections
):
    """An editor: some log models' parts are empty (no permission on their models)."""
    alice = make_editor("alice", orgs["engineering"])
    if collections:
        alice.user_permissions.add(Permission.objects.get(codename="add_collection"))
    client.force_login(alice)
    response = client.get(SITE_HISTORY)
    assert response.status_code == 200
    labels = {e.label for e in response.context["object_list"]}
    assert ("Handbooks" in labels) is collections and "Engineering tool" in labels
    response = client.get(SITE_HISTORY, {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode()
    assert "Engineering tool" in body and ("Handbooks" in body) is collections


def test_two_log_models_under_a_filter(client, entries, superuser, monkeypatch):
    """Two log models make one union (no inner one): unaffected, with or without filters."""
    monkeypatch.setattr(log_registry, "get_log_entry_models", lambda: [ModelLogEntry, LtiLogEntry])
    client.force_login(superuser)
    for query in ({}, {"action": "wagtail.edit"}, {"label": "Hand"}):
        assert client.get(SITE_HISTORY, query).status_code == 200
    labels = {e.label for e in client.get(SITE_HISTORY).context["object_list"]}
    assert labels == {"Handbooks", "Engineering tool"}

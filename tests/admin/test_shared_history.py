"""A shared provider's or resource link's history is read by the organizations that use it.

The owner of a provider shared on its Availability tab can repoint its URLs or turn on email
sending for every organization that uses it. The managers of those organizations read what the
owner did (who, what, when) in the record's own History view and in Reports → Site history, its
filters and exports: ``scoping.history_records`` / ``scoping.may_read_history``, asked by
``scoping.history_visible_to`` (the log model's ``viewable_by_user``) and the history view. They
still cannot list, open or edit the record.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from wagtail import VERSION as WAGTAIL_VERSION
from wagtail.log_actions import log

from tests.support.admin import provider_post, url
from tests.support.factories import make_link, make_provider
from wagtail_lti import scoping
from wagtail_lti.models import LtiLogEntry, LtiProvider, LtiResourceLink, Organization


pytestmark = pytest.mark.django_db

SITE_HISTORY = reverse("wagtailadmin_reports:site_history")


@pytest.fixture
def partner_records(orgs):
    """Partner Co's provider and link shared with Engineering, and a provider it keeps private."""
    provider = make_provider(
        orgs["partner"],
        name="Partner tool",
        key="Partner tool-key",
        secret="s3cret",
        available_to=[orgs["engineering"]],
    )
    link = make_link(
        provider,
        organization=orgs["partner"],
        name="Partner quiz",
        available_to=[orgs["engineering"]],
    )
    private = make_provider(
        orgs["partner"],
        name="Partner private tool",
        key="Partner private tool-key",
        secret="s3cret",
    )
    return provider, link, private


@pytest.fixture
def shared(client, orgs, make_editor, partner_records):
    """Pat (Partner Co) owns a provider and a link shared with Engineering, and edits the provider
    through the admin: a new launch URL and email sending on."""
    pat = make_editor("pat", orgs["partner"])
    provider, link, private = partner_records
    log(private, "wagtail.create", user=pat)
    client.force_login(pat)
    response = client.post(
        url(LtiProvider, "edit", provider.pk),
        provider_post(
            orgs["partner"],
            name="Partner tool",
            consumer_key="Partner tool-key",
            launch_url="https://elsewhere.example/launch",
            send_email="on",  # Engineering stays on the Availability tab (kept by the form)
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    provider.refresh_from_db()
    assert list(provider.available_to.all()) == [orgs["engineering"]]
    assert provider.send_email and provider.launch_url == "https://elsewhere.example/launch"
    client.logout()
    return {"pat": pat, "provider": provider, "link": link, "private": private}


# --- The rule -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("manager_of", "reads"),
    [
        ("partner", True),  # the owner
        ("engineering", True),  # on the Availability tab
        ("platform", True),  # a sub-organization of one on the Availability tab
        ("acme", True),  # above Engineering: its managers manage Engineering
        ("sales", False),  # a sibling of Engineering: may not use it
    ],
)
def test_history_records_of_a_shared_provider_and_link(
    orgs, make_editor, partner_records, manager_of, reads
):
    provider, link, private = partner_records
    editor = make_editor("ed", orgs[manager_of])
    for record in (provider, link):
        records = scoping.history_records(type(record), editor)
        assert records.filter(pk=record.pk).exists() is reads
        assert scoping.may_read_history(editor, record) is reads
    assert scoping.may_read_history(editor, private) is (manager_of == "partner")


def test_a_parents_provider_is_read_by_its_sub_organizations_managers(orgs, make_editor):
    """Owned by Acme: usable by Engineering (availability rule), so read by its managers."""
    provider = make_provider(orgs["acme"], name="Acme tool", key="Acme tool-key", secret="s3cret")
    assert scoping.may_read_history(make_editor("eng", orgs["engineering"]), provider)
    assert not scoping.may_read_history(make_editor("partner", orgs["partner"]), provider)


def test_other_models_keep_the_listing_rule(orgs, make_editor):
    """Organizations (and memberships, enrollments) are not shared: the listing's rule."""
    alice = make_editor("alice", orgs["engineering"])
    assert not scoping.may_read_history(alice, orgs["acme"])
    assert scoping.may_read_history(alice, orgs["platform"])
    visible = scoping.history_records(Organization, alice)
    assert set(visible) == set(scoping.admin_visible_records(Organization, alice))


def test_history_visible_to_lists_the_shared_records_entries(shared, orgs, make_editor):
    alice = make_editor("alice", orgs["engineering"])
    entries = LtiLogEntry.objects.viewable_by_user(alice)
    labels = {(e.label, e.action) for e in entries}
    assert ("Partner tool", "wagtail.edit") in labels
    assert not any(label == "Partner private tool" for label, _action in labels)


def test_no_longer_shared_no_longer_read(shared, orgs, make_editor):
    alice = make_editor("alice", orgs["engineering"])
    provider = shared["provider"]
    provider.available_to.clear()
    provider.save()
    assert not scoping.may_read_history(alice, provider)
    assert not LtiLogEntry.objects.viewable_by_user(alice).filter(label="Partner tool").exists()


# --- The doors ------------------------------------------------------------------------------------


def test_the_shared_providers_history_page(client, shared, orgs, make_editor):
    alice = make_editor("alice", orgs["engineering"])
    provider = shared["provider"]
    client.force_login(alice)
    response = client.get(url(LtiProvider, "history", provider.pk))
    assert response.status_code == 200
    assert "wagtail.edit" in {e.action for e in response.context["object_list"]}
    html = response.content.decode()
    assert "Pat Editor" in html  # who changed it (an editor of the owning organization)
    # Read only: no way to its edit view or its revisions from here; those stay closed.
    assert url(LtiProvider, "edit", provider.pk) not in html
    assert "/revisions/" not in html
    assert client.get(url(LtiProvider, "edit", provider.pk)).status_code == 404
    # Its history results (the listing's AJAX refresh) answer the same.
    results = client.get(url(LtiProvider, "history_results", provider.pk))
    assert results.status_code == 200 and "Pat Editor" in results.content.decode()


def test_the_shared_links_history_page(client, shared, orgs, make_editor):
    alice = make_editor("alice", orgs["engineering"])
    client.force_login(alice)
    response = client.get(url(LtiResourceLink, "history", shared["link"].pk))
    assert response.status_code == 200
    assert client.get(url(LtiResourceLink, "edit", shared["link"].pk)).status_code == 404


def test_unshared_records_history_pages_stay_closed(client, shared, orgs, make_editor):
    client.force_login(make_editor("alice", orgs["engineering"]))
    assert client.get(url(LtiProvider, "history", shared["private"].pk)).status_code == 404
    client.force_login(make_editor("sam", orgs["sales"]))
    assert client.get(url(LtiProvider, "history", shared["provider"].pk)).status_code == 404


def test_the_owner_still_has_the_edit_links(client, shared):
    client.force_login(shared["pat"])
    provider = shared["provider"]
    html = client.get(url(LtiProvider, "history", provider.pk)).content.decode()
    assert url(LtiProvider, "edit", provider.pk) in html


def test_site_history_and_its_export_show_the_shared_records_changes(
    client, shared, orgs, make_editor
):
    alice = make_editor("alice", orgs["engineering"])
    client.force_login(alice)
    response = client.get(SITE_HISTORY, {"label": "Partner"})
    assert response.status_code == 200
    entries = {(e.label, e.action) for e in response.context["object_list"]}
    assert ("Partner tool", "wagtail.edit") in entries
    assert not any(label == "Partner private tool" for label, _action in entries)
    edit_url = url(LtiProvider, "edit", shared["provider"].pk)
    if WAGTAIL_VERSION >= (8,):
        # Wagtail 8 links a row to its edit view only for those who may edit the record.
        assert edit_url not in response.content.decode()
    # Wagtail 7.4 links every row to its edit view; the edit view itself refuses (404) either way.
    assert client.get(edit_url).status_code == 404
    response = client.get(SITE_HISTORY, {"export": "csv", "label": "Partner"})
    body = b"".join(response.streaming_content).decode()
    assert "Partner tool" in body and "Pat Editor" in body
    assert "Partner private tool" not in body

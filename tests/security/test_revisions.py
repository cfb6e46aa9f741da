"""Revisions and secrets: an LTI provider's revisions neither store nor restore its credentials.

Reverting a provider to an earlier revision (the admin's "Revert" from its history) brings back
its content (name, URLs, options), never the secret rotated since, nor another client ID or
deployment ID. Checked at the model, in the admin, and with the ``lti`` library verifying the next
launch with the current secret.
"""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from tests.launch.test_lti11_launch import launched_form, verified_params
from tests.support.admin import provider_post, url
from tests.support.factories import KEY, enroll, make_course, make_learner, make_link, make_provider
from wagtail_lti.models import LtiProvider, Placement


pytestmark = pytest.mark.django_db

CREDENTIALS = ("secret_encrypted", "client_id", "deployment_id")
OLD_SECRET = "old secret, rotated because it leaked"
NEW_SECRET = "new secret after the rotation"


def test_revisions_do_not_store_credentials(orgs):
    provider = make_provider(orgs["acme"], version="1.3")
    revision = provider.save_revision()
    for name in CREDENTIALS:
        assert name not in revision.content
        assert getattr(provider, name)
    assert revision.content["name"] == provider.name


def test_an_old_revision_with_credentials_restores_none_of_them(orgs):
    provider = make_provider(orgs["acme"], version="1.3")
    old = provider.serializable_data()
    old.update(
        name="Old name",
        secret_encrypted=LtiProvider(secret=OLD_SECRET).secret_encrypted,
        client_id="old-client-id",
        deployment_id="old-deployment-id",
    )
    restored = provider.with_content_json(old)
    assert restored.name == "Old name"
    for name in CREDENTIALS:
        assert getattr(restored, name) == getattr(provider, name)


@pytest.fixture
def editor_client(client, orgs, make_editor):
    client.force_login(make_editor("alice", orgs["acme"]))
    return client


def test_reverting_in_the_admin_keeps_the_rotated_secret(editor_client, orgs):
    provider = make_provider(orgs["acme"], name="Quiz")
    edit = url(LtiProvider, "edit", provider.pk)
    data = provider_post(orgs["acme"], name="Quiz v1", consumer_key=KEY, secret=OLD_SECRET)
    assert editor_client.post(edit, data).status_code == 302
    data = provider_post(orgs["acme"], name="Quiz v2", consumer_key=KEY, secret=NEW_SECRET)
    assert editor_client.post(edit, data).status_code == 302
    first = provider.revisions.order_by("pk").first()

    revert = url(LtiProvider, "revisions_revert", provider.pk, first.pk)
    response = editor_client.get(revert)
    assert response.status_code == 200
    assert 'value="Quiz v1"' in response.content.decode()
    data = provider_post(orgs["acme"], name="Quiz v1", consumer_key=KEY)  # secret left blank
    assert editor_client.post(revert, data).status_code == 302

    provider.refresh_from_db()
    assert provider.name == "Quiz v1"
    assert provider.secret == NEW_SECRET
    assert all("secret_encrypted" not in r.content for r in provider.revisions.all())


def test_after_a_revert_the_tool_verifies_launches_with_the_current_secret(
    client, editor_client, orgs
):
    provider = make_provider(orgs["acme"], name="Quiz")
    edit = url(LtiProvider, "edit", provider.pk)
    for name, secret in (("Quiz v1", OLD_SECRET), ("Quiz v2", NEW_SECRET)):
        data = provider_post(orgs["acme"], name=name, consumer_key=KEY, secret=secret)
        assert editor_client.post(edit, data).status_code == 302
    first = provider.revisions.order_by("pk").first()
    revert = url(LtiProvider, "revisions_revert", provider.pk, first.pk)
    data = provider_post(orgs["acme"], name="Quiz v1", consumer_key=KEY)
    assert editor_client.post(revert, data).status_code == 302

    course = make_course(orgs["acme"], [make_link(LtiProvider.objects.get(pk=provider.pk))])
    learner = make_learner()
    enroll(learner, course)
    form = launched_form(client, learner, Placement.objects.get(page=course))
    verified_params(form, secret=NEW_SECRET)  # the tool's library accepts it with the new secret
    with pytest.raises(AssertionError):
        verified_params(form, secret=OLD_SECRET)


def test_the_data_migration_strips_credentials_from_existing_revisions(orgs):
    provider = make_provider(orgs["acme"], version="1.3")
    revision = provider.save_revision()
    link_revision = make_link(provider).save_revision()
    legacy = {**revision.content}
    legacy.update(
        secret_encrypted=provider.secret_encrypted,
        client_id=provider.client_id,
        deployment_id=provider.deployment_id,
    )
    type(revision).objects.filter(pk=revision.pk).update(content=legacy)
    link_revision.refresh_from_db()
    link_content = link_revision.content

    migration = importlib.import_module(
        "wagtail_lti.migrations.0005_strip_provider_revision_credentials"
    )
    migration.strip_credentials(apps, None)

    revision.refresh_from_db()
    for name in CREDENTIALS:
        assert name not in revision.content
    assert revision.content["name"] == provider.name
    link_revision.refresh_from_db()
    assert link_revision.content == link_content  # other models' revisions untouched

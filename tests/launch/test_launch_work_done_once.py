"""Speed (docs/benchmarks.md, "Launches against their floors"): what a launch does once that it
used to do twice, with the launch still accepted by the real tool library (PyLTI1p3 for LTI 1.3)
and still refused as soon as the catalogue changes. No timings are asserted: the counts are."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from tests.launch.test_lti13_launch import (  # noqa: F401 - fixtures
    AUTHORIZE_PATH,
    authorization_params,
    full_launch,
    start_launch,
    tool_keys,
    world,
)
from tests.support.forms import the_form
from wagtail_lti.launch import targets


pytestmark = pytest.mark.django_db


@pytest.fixture
def generation_reads(monkeypatch):
    """How many times the catalogue generation is read from the shared cache."""
    reads = []
    real = targets._generation

    def counted():
        reads.append(1)
        return real()

    monkeypatch.setattr(targets, "_generation", counted)
    return reads


# --- The catalogue generation: read once per request ---------------------------------------------


def test_kept_reads_the_generation_once_per_request(generation_reads):
    request = RequestFactory().get("/")
    assert targets.kept(("a",), lambda: "A", request=request) == "A"
    assert targets.kept(("b",), lambda: "B", request=request) == "B"
    assert len(generation_reads) == 1
    targets.kept(("a",), lambda: "A", request=RequestFactory().get("/"))  # another request
    targets.kept(("a",), lambda: "A")  # no request: read each time
    assert len(generation_reads) == 3


def test_a_change_is_seen_by_the_next_request(generation_reads):
    first = RequestFactory().get("/")
    assert targets.kept(("a",), lambda: "old", request=first) == "old"
    targets.catalogue_changed()
    second = RequestFactory().get("/")
    assert targets.kept(("a",), lambda: "new", request=second) == "new"


def test_the_authorization_request_reads_the_generation_once(world, generation_reads):  # noqa: F811
    """The provider of the ``client_id`` and the launch's placement, both kept, under one read;
    the id_token is accepted by PyLTI1p3."""
    full_launch(world)  # the first launch keeps the provider and the placement
    generation_reads.clear()
    init = start_launch(world)
    assert len(generation_reads) == 1  # the login initiation: the placement
    generation_reads.clear()
    _init, form, message_launch = full_launch(world)
    assert message_launch.is_resource_launch()
    # One for the login initiation, one for the authorization request (was three).
    assert len(generation_reads) == 2
    assert init["lti_message_hint"]


def test_the_authorization_request_still_sees_a_withdrawn_availability(world):  # noqa: F811
    from wagtail_lti.models import Organization

    other = Organization.add_root(name="Other")
    init = start_launch(world)
    world.link.organization = other  # the course's organization may no longer use the link
    world.link.save()
    response = world.client.get(AUTHORIZE_PATH, authorization_params(init))
    fields = the_form(response)["fields"]
    assert "id_token" not in fields and fields["error"] == "access_denied"

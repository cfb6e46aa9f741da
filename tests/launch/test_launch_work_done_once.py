"""Speed (docs/benchmarks.md, "Launches against their floors"): what a launch does once that it
used to do twice, with the launch still accepted by the real tool library (PyLTI1p3 for LTI 1.3)
and still refused as soon as the catalogue changes. No timings are asserted: the counts are."""

from __future__ import annotations

import pytest

from tests.launch.test_lti13_launch import (  # noqa: F401 - fixtures
    AUTHORIZE_PATH,
    activity_of,
    assert_redirected_error,
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
    """The reads of the catalogue generation from the shared cache (the rule:
    ``launch.targets._generation``, tested in ``test_generation_per_request.py``)."""
    from tests.launch.test_generation_per_request import CountingCache

    targets._generation()  # the cache has a generation
    counting = CountingCache(targets._cache())
    monkeypatch.setattr(targets, "_cache", lambda: counting)

    class Reads:
        def __len__(self):
            return counting.generation_reads

        def clear(self):
            counting.generation_reads = 0

    return Reads()


# --- The catalogue generation: read once per request ---------------------------------------------


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


# --- The launch log row: the course's organization from the kept placement ----------------------


def _log_insert(queries) -> str:
    (sql,) = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"].split()[0]]
    return sql


def test_the_course_facts_name_the_course_organization_as_the_page_does(world):  # noqa: F811
    from wagtail_lti import launch_log

    facts = targets.launch_target(pk=world.placement.pk).course
    assert facts.course_organization_id == world.course.course_organization_id
    entry = launch_log.record("launch", ok=True, placement=world.placement, course=facts)
    entry.refresh_from_db()
    assert entry.course_id == world.course.pk
    assert entry.organization_id == world.course.course_organization_id


def test_an_lti11_launch_logs_the_course_organization_without_reading_it(client, orgs, learner):
    """The LTI 1.1 launch (verified by the ``lti`` package and oauthlib as the tool) writes its
    log row with the organization as a value, not a subquery over the course pages."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.launch.test_lti11_launch import launched_form, verified_params
    from tests.support.factories import enroll, make_course, make_link, make_provider, placements_of
    from wagtail_lti.models import LaunchLogEntry

    course = make_course(orgs["acme"], [make_link(make_provider(orgs["acme"]))])
    enroll(learner, course)
    (placement,) = placements_of(course)
    launched_form(client, learner, placement)  # kept from now on
    with CaptureQueriesContext(connection) as queries:
        form = launched_form(client, learner, placement)
    verified_params(form)
    assert "SELECT" not in _log_insert(queries)
    entry = LaunchLogEntry.objects.latest("pk")
    assert (entry.kind, entry.outcome, entry.course_id) == ("launch", "ok", course.pk)
    assert entry.organization_id == orgs["acme"].pk


def test_an_lti13_authorization_logs_the_course_organization_without_reading_it(world):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_lti.models import LaunchLogEntry

    full_launch(world)
    init = start_launch(world)
    with CaptureQueriesContext(connection) as queries:
        response = world.client.get(AUTHORIZE_PATH, authorization_params(init))
    assert "id_token" in the_form(response)["fields"]
    assert "SELECT" not in _log_insert(queries)
    entry = LaunchLogEntry.objects.latest("pk")
    assert (entry.kind, entry.outcome, entry.course_id) == ("id_token", "ok", world.course.pk)
    assert entry.organization_id == world.course.course_organization_id


# --- The auto-submitting form's hidden inputs: built in one pass ----------------------------------


#: What the form's template looped over before (``wagtail_lti/autosubmit.html``).
TEMPLATE_LOOP = (
    '{% for name, value in fields %}<input type="hidden" name="{{ name }}" value="{{ value }}">\n'
    "  {% endfor %}"
)


def test_the_hidden_inputs_are_what_the_template_loop_wrote():
    from django.template import Context, Template
    from django.utils.safestring import mark_safe
    from django.utils.translation import gettext_lazy

    from wagtail_lti.launch.autosubmit import hidden_inputs

    pairs = [
        ("oauth_signature", "a+b/c=="),
        ("quote", 'say "hi" & <b>bye</b> it\'s'),
        ("lines", "one\r\ntwo"),
        ("unicode", "Übung – “Feuer” ✓"),
        ("empty", ""),
        ("same", "1"),
        ("same", "2"),
        ("safe", mark_safe("<already safe>")),
        ("lazy", gettext_lazy("Continue")),
        ('na"me', "x"),
    ]
    assert hidden_inputs(pairs) == Template(TEMPLATE_LOOP).render(Context({"fields": pairs}))
    assert hidden_inputs([]) == ""


def test_the_lti11_launch_form_posts_every_signed_field(client, orgs, learner):
    """The whole form a browser posts, read back from the page and verified by the ``lti``
    package and oauthlib as the tool (custom parameters with characters to escape)."""
    from tests.launch.test_lti11_launch import launched_form, verified_params
    from tests.support.factories import enroll, make_course, make_link, make_provider, placements_of

    link = make_link(
        make_provider(orgs["acme"]),
        name='Quiz "one" & <two>',
        custom_parameters='custom_note=a "quoted" <value> & more',
    )
    course = make_course(orgs["acme"], [link])
    enroll(learner, course)
    (placement,) = placements_of(course)
    form = launched_form(client, learner, placement)
    fields = verified_params(form)
    assert fields["custom_note"] == 'a "quoted" <value> & more'
    assert fields["resource_link_title"] == 'Quiz "one" & <two>'
    assert len(form["pairs"]) == len(fields) > 20


# --- The LTI 1.3 authorization request: no transaction around consuming and recording -------------


@pytest.fixture
def transactions(monkeypatch):
    """The modules that enter a transaction block (``atomic``), the launch log's own savepoint
    left out (taken only inside a transaction, as every test runs in one)."""
    import sys

    from django.db import transaction

    entered = []
    real_enter = transaction.Atomic.__enter__

    def counted(self):
        caller = sys._getframe(1).f_code.co_filename
        if not caller.endswith("launch_log.py"):
            entered.append(caller)
        return real_enter(self)

    monkeypatch.setattr(transaction.Atomic, "__enter__", counted)
    return entered


def test_the_authorization_request_opens_no_transaction(world, transactions):  # noqa: F811
    """Signed, then the hint consumed and the launch recorded, one statement each: no BEGIN and
    COMMIT around them. PyLTI1p3 accepts the launch; the hint stays single-use."""
    full_launch(world)  # the first launch creates the learner's activity row (in a transaction)
    init = start_launch(world)
    transactions.clear()
    response = world.client.get(AUTHORIZE_PATH, authorization_params(init))
    assert "id_token" in the_form(response)["fields"]
    assert transactions == []
    again = world.client.get(AUTHORIZE_PATH, authorization_params(init, state="state-2"))
    assert_redirected_error(again, "invalid_request", state="state-2")
    _init, _form, message_launch = full_launch(world)
    assert message_launch.is_resource_launch()
    assert activity_of(world).launch_count == 3


def test_a_failure_recording_the_launch_spends_the_hint_and_records_nothing(world, monkeypatch):  # noqa: F811
    from wagtail_lti.models import LaunchLogEntry
    from wagtail_lti.services import results

    init = start_launch(world)

    def broken(placement, user):
        raise RuntimeError("database gone")

    monkeypatch.setattr(results, "record_launch", broken)
    assert_redirected_error(
        world.client.get(AUTHORIZE_PATH, authorization_params(init)), "server_error"
    )
    assert activity_of(world) is None
    entry = LaunchLogEntry.objects.filter(kind="id_token").latest("pk")
    assert entry.outcome == "error" and "server_error" in entry.error
    monkeypatch.undo()
    # The hint was consumed once the token was signed: it cannot be used again.
    again = world.client.get(AUTHORIZE_PATH, authorization_params(init))
    assert_redirected_error(again, "invalid_request")
    assert activity_of(world) is None

"""Names and Role Provisioning Services 2.0, with PyLTI1p3 as the tool.

The tool reads the membership claim of a real launch (``message_launch.get_nrps()``), gets its
token from our token endpoint and follows our ``Link: rel="next"`` pages, all through a
``requests`` session routed into the Django test client. What PyLTI1p3 would never send (another
tool's course or link, missing scopes, bad parameters) is sent as raw HTTP with a real token, and
each refusal is checked to reveal nothing.

Spec: NRPS 2.0 §2.2 (membership container), §2.3 (``role``, ``limit``), §2.4 (``rlid`` and the
per-member ``message``), §3.6.1 (the launch claim); checklist §2 NRPS and its paging pitfall
(IMS certification failed Open edX on ``limit``/``Link``).
"""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory, override_settings
from pylti1p3.exception import LtiServiceException
from pylti1p3.names_roles import NamesRolesProvisioningService

from tests.launch.test_lti13_launch import full_launch, tool_keys, world  # noqa: F401 - fixtures
from tests.support.factories import enroll, make_course, make_learner, make_link, placements_of
from tests.support.lti13 import ALL_AGS_SCOPES, NRPS_SCOPE, make_tool, post_token
from tests.tooling.requests_adapter import routed_session
from wagtail_lti.lti import nrps
from wagtail_lti.security.identifiers import opaque_user_id
from wagtail_lti.services.nrps import context_memberships_url


LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
MEDIA_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def page_size(settings, size: int):
    return override_settings(WAGTAIL_LTI={**settings.WAGTAIL_LTI, "PAGE_SIZE_LIMIT": size})


def memberships_url(course, provider) -> str:
    return context_memberships_url(RequestFactory().get("/"), course, provider)


def service(tool, url: str, session=None) -> NamesRolesProvisioningService:
    """PyLTI1p3's NRPS client, as a launch's membership claim would configure it."""
    return NamesRolesProvisioningService(tool.connector(session), {"context_memberships_url": url})


def memberships_calls(session) -> list[str]:
    return [url for method, url in session.adapter.calls if "/1.3/nrps/" in url]


@pytest.fixture
def roster(orgs):
    """A course with this tool and another one placed, and a roster of five.

    ann, bea: active learners; ian: instructor; sid: suspended enrollment; dan: deactivated user.
    """
    tool = make_tool(orgs["acme"], allow_nrps=True, send_name=True, send_email=False)
    other = make_tool(orgs["acme"], name="Other tool", allow_nrps=True)
    link = make_link(
        tool.provider,
        custom_parameters=(
            "custom_uid=$User.id\ncustom_role=$Membership.role\ncustom_mail=$Person.email.primary"
            "\ncustom_given=$Person.name.given\ncustom_link=$ResourceLink.id"
        ),
    )
    other_link = make_link(other.provider, name="Essay")
    course = make_course(orgs["engineering"], [link, other_link], title="Engineering basics")
    placement, other_placement = placements_of(course)
    people = {
        "ann": make_learner("ann", first_name="Ann", last_name="Archer"),
        "bea": make_learner("bea", first_name="Bea", last_name="Baker"),
        "ian": make_learner("ian", first_name="Ian", last_name="Instructor"),
        "sid": make_learner("sid", first_name="Sid", last_name="Suspended"),
        "dan": make_learner("dan", first_name="Dan", last_name="Deactivated", is_active=False),
    }
    enroll(people["ann"], course)
    enroll(people["ian"], course, role="instructor")
    enroll(people["bea"], course)
    suspended = enroll(people["sid"], course)
    suspended.is_active = False
    suspended.save()
    enroll(people["dan"], course)
    # Another course of the same tool, with a learner of its own.
    second = make_course(orgs["engineering"], [link], title="Second course")
    zoe = make_learner("zoe", first_name="Zoe", last_name="Zeta")
    enroll(zoe, second)
    return {
        "tool": tool,
        "other": other,
        "course": course,
        "second": second,
        "placement": placement,
        "other_placement": other_placement,
        "people": people,
        "zoe": zoe,
        "url": memberships_url(course, tool.provider),
    }


def ids(*users) -> set[str]:
    return {opaque_user_id(user) for user in users}


def by_id(members) -> dict[str, dict]:
    return {member["user_id"]: member for member in members}


def raw_get(client, url, tool=None, scopes=(NRPS_SCOPE,), **params):
    headers = {"Accept": MEDIA_TYPE}
    if tool is not None:
        headers["Authorization"] = f"Bearer {tool.access_token(list(scopes))}"
    return client.get(url, params, headers=headers)


def assert_reveals_nothing(response, roster):
    body = response.content.decode()
    for user in [*roster["people"].values(), roster["zoe"]]:
        assert opaque_user_id(user) not in body
        assert user.last_name not in body
    assert '"members"' not in body


# --- Through a real launch ------------------------------------------------------------------------


def test_pylti1p3_reads_the_roster_of_its_launch_page_by_page(world, settings):  # noqa: F811
    """NRPS §3.6.1 claim in the launch; §2.4.2 paging followed by PyLTI1p3's get_members."""
    from wagtail_lti.models import Enrollment

    world.provider.allow_nrps = True
    world.provider.save()
    teacher = make_learner("tina", first_name="Tina", last_name="Teacher")
    Enrollment.objects.create(course=world.course, user=teacher, role=Enrollment.Role.INSTRUCTOR)
    extra = [make_learner(f"learner{n}", first_name=f"L{n}", last_name="Many") for n in range(4)]
    for user in extra:
        Enrollment.objects.create(course=world.course, user=user)

    session = routed_session("http://testserver")
    _init, _form, message_launch = full_launch(world, session=session)
    data = message_launch.get_launch_data()
    claim = data[nrps.NRPS_CLAIM]
    assert claim == {
        "context_memberships_url": memberships_url(world.course, world.provider),
        "service_versions": ["2.0"],
    }
    assert message_launch.has_nrps()

    with page_size(settings, 2):
        members = message_launch.get_nrps().get_members()

    everyone = [world.learner, teacher, *extra]
    assert [m["user_id"] for m in members] == [opaque_user_id(u) for u in everyone]
    assert len(memberships_calls(session)) == 3  # 6 members, 2 a page
    found = by_id(members)
    assert found[opaque_user_id(world.learner)]["user_id"] == data["sub"]  # same id as launches
    assert found[opaque_user_id(teacher)]["roles"] == [INSTRUCTOR]
    assert found[opaque_user_id(world.learner)] == {
        "status": "Active",
        "user_id": data["sub"],
        "roles": [LEARNER],
        "name": "Lena Learner",
        "given_name": "Lena",
        "family_name": "Learner",
    }  # send_name on, send_email off: no email
    context = message_launch.get_nrps().get_context()
    assert context == {
        "id": data["https://purl.imsglobal.org/spec/lti/claim/context"]["id"],
        "label": "SAF-101",
        "title": "Safety at work",
    }


def test_no_membership_claim_without_nrps(world):  # noqa: F811
    world.provider.allow_nrps = False
    world.provider.save()
    _init, _form, message_launch = full_launch(world)
    assert nrps.NRPS_CLAIM not in message_launch.get_launch_data()
    assert not message_launch.has_nrps()


# --- The container ----------------------------------------------------------------------------------


def test_members_roles_status_and_media_type(roster, client):
    """NRPS §2.2: role URIs, Active/Inactive status, the container id and context."""
    response = raw_get(client, roster["url"], roster["tool"])
    assert response.status_code == 200
    assert response["Content-Type"] == MEDIA_TYPE
    assert response["Cache-Control"] == "no-store"
    assert "Link" not in response
    body = response.json()
    assert body["id"] == roster["url"]
    assert body["context"]["title"] == "Engineering basics"
    p = roster["people"]
    members = by_id(body["members"])
    assert set(members) == ids(*p.values())  # not zoe, of another course
    assert members[opaque_user_id(p["ian"])]["roles"] == [INSTRUCTOR]
    assert members[opaque_user_id(p["ann"])]["roles"] == [LEARNER]
    statuses = {uid: m["status"] for uid, m in members.items()}
    assert statuses == {
        opaque_user_id(p["ann"]): "Active",
        opaque_user_id(p["bea"]): "Active",
        opaque_user_id(p["ian"]): "Active",
        opaque_user_id(p["sid"]): "Inactive",
        opaque_user_id(p["dan"]): "Inactive",
    }
    assert all("message" not in m for m in members.values())


@pytest.mark.parametrize(
    ("send_name", "send_email", "present", "absent"),
    [
        (True, False, {"name", "given_name", "family_name"}, {"email"}),
        (False, True, {"email"}, {"name", "given_name", "family_name"}),
        (False, False, set(), {"name", "given_name", "family_name", "email"}),
        (True, True, {"name", "given_name", "family_name", "email"}, set()),
    ],
)
def test_privacy_options_decide_names_and_emails(roster, send_name, send_email, present, absent):
    """Checklist §2 NRPS: "Respect privacy settings" (the same options as launches)."""
    provider = roster["tool"].provider
    provider.send_name, provider.send_email = send_name, send_email
    provider.save()
    session = routed_session("http://testserver")
    members = service(roster["tool"], roster["url"], session).get_members()
    assert len(members) == 5
    raw = json.dumps(members)
    for member in members:
        assert present <= set(member)
        assert not absent & set(member)
    if "email" in absent:
        assert "@example.com" not in raw
    if "name" in absent:
        assert "Archer" not in raw and "Ann" not in raw
    ann = by_id(members)[opaque_user_id(roster["people"]["ann"])]
    if send_name:
        assert (ann["name"], ann["given_name"], ann["family_name"]) == (
            "Ann Archer",
            "Ann",
            "Archer",
        )
    if send_email:
        assert ann["email"] == "ann@example.com"


@pytest.mark.parametrize(
    ("role", "who"),
    [
        (INSTRUCTOR, {"ian"}),
        (LEARNER, {"ann", "bea", "sid", "dan"}),
        ("Instructor", {"ian"}),
        ("learner", {"ann", "bea", "sid", "dan"}),
        ("urn:lti:role:ims/lis/Instructor", {"ian"}),
        ("Mentor", set()),
        ("http://purl.imsglobal.org/vocab/lis/v2/membership#ContentDeveloper", set()),
        ("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Learner", set()),
    ],
)
def test_role_filter_with_full_uris_and_short_names(roster, settings, role, who):
    """NRPS §2.3.1; the filter survives paging (it travels in the lower-case cursor)."""
    session = routed_session("http://testserver")
    with page_size(settings, 1):
        members = service(
            roster["tool"], f"{roster['url']}?role={role.replace('#', '%23')}", session
        ).get_members()
    assert {m["user_id"] for m in members} == ids(*(roster["people"][n] for n in who))
    assert len(memberships_calls(session)) == max(len(who), 1)


def test_limit_pages_with_link_headers(roster, client):
    """NRPS §2.4.2 / checklist pitfall: ``limit`` truncates and ``Link: rel="next"`` continues."""
    response = raw_get(client, roster["url"], roster["tool"], limit="2")
    assert response.status_code == 200
    assert len(response.json()["members"]) == 2
    link = response["Link"]
    assert link.startswith(f"<{roster['url']}?cursor=") and link.endswith('>; rel="next"')
    assert link == link.lower()  # PyLTI1p3 lower-cases the header: nothing may depend on case
    seen = [m["user_id"] for m in response.json()["members"]]
    while "Link" in response:
        next_url = response["Link"][1 : response["Link"].index(">")]
        response = raw_get(client, next_url, roster["tool"])
        assert response.status_code == 200
        seen += [m["user_id"] for m in response.json()["members"]]
    assert len(seen) == len(set(seen)) == 5
    assert set(seen) == ids(*roster["people"].values())


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5"])
def test_bad_limit_is_refused(roster, client, limit):
    response = raw_get(client, roster["url"], roster["tool"], limit=limit)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "limit" in response.json()["error_description"]


@pytest.mark.parametrize(
    "cursor",
    [
        "zz",
        "7b7d",  # {}: no limit
        nrps.encode_cursor({"f": {"course": "1"}, "l": 2, "a": 0}),
        nrps.encode_cursor({"f": {}, "l": 0, "a": 0}),
        nrps.encode_cursor({"f": {}, "l": 2, "a": "1"}),
        "5b312c325d",  # [1,2]: not an object
    ],
)
def test_bad_cursor_is_refused(roster, client, cursor):
    response = raw_get(client, roster["url"], roster["tool"], cursor=cursor)
    assert response.status_code == 400
    assert response.json()["error_description"] == "cursor is not valid."


# --- rlid ------------------------------------------------------------------------------------------


def test_rlid_of_this_tool_lists_who_may_launch_it_with_their_message(roster, settings):
    """NRPS §2.4: members of the link (active only), each with the launch's message claims.

    The link id has upper-case letters and the pages are of one member: the rlid must survive
    PyLTI1p3's lower-cased ``Link`` header.
    """
    from wagtail_lti.models import Placement

    Placement.objects.filter(pk=roster["placement"].pk).update(lti_id="Link-With-UPPER-Case")
    session = routed_session("http://testserver")
    with page_size(settings, 1):
        members = service(roster["tool"], roster["url"], session).get_members(
            resource_link_id="Link-With-UPPER-Case"
        )
    p = roster["people"]
    assert {m["user_id"] for m in members} == ids(p["ann"], p["bea"], p["ian"])
    assert len(memberships_calls(session)) == 3
    for member in members:
        (message,) = member["message"]
        assert message["https://purl.imsglobal.org/spec/lti/claim/message_type"] == (
            "LtiResourceLinkRequest"
        )
        custom = message["https://purl.imsglobal.org/spec/lti/claim/custom"]
        role = member["roles"][0]
        assert custom == {
            "uid": member["user_id"],
            "role": role,
            # send_email is off: not substituted, exactly as in a launch by that member
            "mail": "$Person.email.primary",
            "given": member["given_name"],
            "link": "Link-With-UPPER-Case",
        }


@pytest.mark.parametrize("which", ["other_tool", "other_course", "unknown", "removed"])
def test_rlid_that_is_not_this_tools_link_here_is_refused(roster, client, orgs, which):
    """Checklist §2 NRPS: "Refuse rlid if the link isn't owned by this tool" (404, nothing shown)."""
    from wagtail_lti.models import Placement

    if which == "other_tool":
        rlid = roster["other_placement"].lti_id
    elif which == "other_course":
        rlid = placements_of(roster["second"])[0].lti_id
    elif which == "removed":
        Placement.objects.filter(pk=roster["placement"].pk).update(is_active=False)
        # The tool keeps another active placement in the course, so only the rlid is refused.
        rlid = roster["placement"].lti_id
        extra = make_link(roster["tool"].provider, name="Second quiz")
        Placement.objects.create(page=roster["course"], block_id="extra", resource_link=extra)
    else:
        rlid = "no-such-link"
    response = raw_get(client, roster["url"], roster["tool"], rlid=rlid)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert_reveals_nothing(response, roster)


# --- Other tools, other courses ------------------------------------------------------------------------


def test_a_tool_cannot_read_another_tools_roster(roster, client):
    """The other tool is placed in the course too, but the URL names this tool's deployment."""
    response = raw_get(client, roster["url"], roster["other"])
    assert response.status_code == 404
    assert_reveals_nothing(response, roster)
    # Its own URL for the course works.
    own = raw_get(
        client, memberships_url(roster["course"], roster["other"].provider), roster["other"]
    )
    assert own.status_code == 200 and len(own.json()["members"]) == 5


def test_a_tool_cannot_read_a_course_it_has_no_activity_in(roster, client, orgs):
    """The other tool has no placement in the second course: 404 even with its own provider id."""
    url = memberships_url(roster["second"], roster["other"].provider)
    response = raw_get(client, url, roster["other"])
    assert response.status_code == 404
    assert_reveals_nothing(response, roster)


def test_a_tool_whose_activity_was_removed_loses_the_roster(roster, client):
    from wagtail_lti.models import Placement

    Placement.objects.filter(pk=roster["placement"].pk).update(is_active=False)
    response = raw_get(client, roster["url"], roster["tool"])
    assert response.status_code == 404
    assert_reveals_nothing(response, roster)


def test_a_provider_no_longer_available_to_the_course_loses_the_roster(roster, client, orgs):
    provider = roster["tool"].provider
    provider.organization = orgs["partner"]
    provider.save()
    response = raw_get(client, roster["url"], roster["tool"])
    assert response.status_code == 404
    assert_reveals_nothing(response, roster)


@pytest.mark.parametrize("path", ["999999/{provider}", "{course}/999999", "{root}/{provider}"])
def test_unknown_course_or_provider_or_a_page_that_is_no_course(roster, client, path):
    from wagtail.models import Page

    path = path.format(
        course=roster["course"].pk,
        provider=roster["tool"].provider.pk,
        root=Page.get_first_root_node().pk,
    )
    response = raw_get(client, f"/lti/1.3/nrps/{path}/memberships", roster["tool"])
    assert response.status_code == 404
    assert_reveals_nothing(response, roster)


# --- Tokens and scopes ---------------------------------------------------------------------------------


def test_without_a_token_or_with_a_bad_one(roster, client):
    """RFC 6750 §3.1 through ``access_tokens.authenticate_service_request``."""
    response = client.get(roster["url"])
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert_reveals_nothing(response, roster)
    response = client.get(roster["url"], headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert_reveals_nothing(response, roster)


def test_a_token_without_the_membership_scope_is_refused(roster, client):
    response = raw_get(client, roster["url"], roster["tool"], scopes=ALL_AGS_SCOPES)
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert_reveals_nothing(response, roster)


def test_a_tool_not_allowed_nrps_gets_no_token_and_loses_a_token_it_had(roster, client):
    tool = roster["tool"]
    token = tool.access_token([NRPS_SCOPE])
    tool.provider.allow_nrps = False
    tool.provider.save()
    # The permission is taken back for the token already issued...
    response = client.get(roster["url"], headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert_reveals_nothing(response, roster)
    # ...and no new token carries the scope.
    answer = post_token(client, tool.assertion(), scope=NRPS_SCOPE)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope"
    with pytest.raises(LtiServiceException):  # PyLTI1p3 gets no token
        service(tool, roster["url"]).get_members()


def test_only_get_is_allowed(roster, client):
    token = roster["tool"].access_token([NRPS_SCOPE])
    for method in ("post", "put", "delete"):
        response = getattr(client, method)(
            roster["url"], headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 405
        assert response["Allow"] == "GET"


# --- Pure helpers ---------------------------------------------------------------------------------------


def test_membership_claim_and_member_json():
    assert nrps.membership_claim("https://lms.example/m") == {
        nrps.NRPS_CLAIM: {
            "context_memberships_url": "https://lms.example/m",
            "service_versions": ["2.0"],
        }
    }
    with pytest.raises(ValueError):
        nrps.membership_claim("")
    assert nrps.member_json(user_id="u1", roles=["Learner"], name=" ", email="") == {
        "status": "Active",
        "user_id": "u1",
        "roles": [LEARNER],
    }
    with pytest.raises(nrps.NrpsError):
        nrps.parse_role_filter("  ")
    with pytest.raises(nrps.NrpsError):
        nrps.parse_role_filter("x" * 300)

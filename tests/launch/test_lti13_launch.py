"""LTI 1.3 launches end to end, with PyLTI1p3 as the tool.

The learner's browser is Django's test client (logged in); the tool is PyLTI1p3's
``DjangoOIDCLogin`` and ``DjangoMessageLaunch`` on requests built like the browser would send
them. PyLTI1p3 fetches our JWKS (and, for AGS, calls our token and AGS endpoints) through a
``requests`` session routed into the test client.

PyLTI1p3 checks the signature (``kid`` + ``alg`` looked up in our JWKS), ``exp``/``iat`` (no
leeway), nonce, state, deployment and the required claims of a resource link launch. It does not
check ``aud`` (``verify_aud=False``), the token's lifetime, whitespace or privacy: the tests below
assert those themselves.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import partial

import jwt
import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from pylti1p3.grade import Grade

from tests.support.factories import make_learner, make_link, make_provider
from tests.support.forms import read_page, the_form
from tests.support.lti13 import (
    decode_platform_token,
    oidc_authorization_params,
    pylti_launch,
    pylti_login,
)
from tests.support.queries import data_statements
from tests.support.world import World
from tests.tooling.lti13_tool import make_key_pair
from tests.tooling.requests_adapter import routed_session
from wagtail_lti.lti.lti13 import AGS_ENDPOINT_CLAIM, LTI_CLAIM


ISSUER = "http://testserver"
TOOL = "https://tool.example"
LOGIN_URL = f"{TOOL}/lti/login/"
REDIRECT_URI = f"{TOOL}/lti/launch/"
ACTIVITY_URL = f"{TOOL}/activities/fire-quiz"
AUTHORIZE_PATH = "/lti/1.3/authorize/"

pytestmark = pytest.mark.django_db


# --- Fixtures: an organization, a 1.3 provider and link, a course with the activity, a learner ---


@pytest.fixture(scope="module")
def tool_keys():
    return make_key_pair()


@pytest.fixture
def world(orgs, tool_keys, settings):
    from courses.models import CoursePage
    from wagtail.models import Site

    from wagtail_lti.models import Enrollment, Placement

    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    acme = orgs["acme"]
    provider = make_provider(
        acme,
        name="Quiz tool",
        version="1.3",
        key="",
        secret=None,
        login_url=LOGIN_URL,
        launch_url=f"{TOOL}/lti/",
        redirect_uris=f"{REDIRECT_URI}\n{TOOL}/lti/deep-link/",
        public_key_pem=tool_keys[1],
        custom_parameters="custom_unit= 3 \ncustom_uid=$User.id\ncustom_mail=$Person.email.primary",
        send_name=True,
        send_email=False,
        allow_ags=True,
    )
    link = make_link(
        provider,
        name="Fire quiz",
        description="Ten questions about fire safety ",
        organization=acme,
        url=ACTIVITY_URL,
        custom_parameters="custom_level=beginner",
        requires_score=True,
        score_maximum=10,
    )
    home = Site.objects.get(is_default_site=True).root_page
    course = CoursePage(
        title="Safety at work",
        slug="safety",
        course_organization=acme,
        course_code="SAF-101",
        body=[("lti_activity", {"resource_link": link, "title": " Fire drill quiz "})],
    )
    home.add_child(instance=course)
    course.save_revision().publish()
    placement = Placement.objects.get(page=course)
    learner = make_learner("lena", first_name="Lena")
    Enrollment.objects.create(course=course, user=learner, role=Enrollment.Role.LEARNER)
    client = Client()
    client.force_login(learner)
    return World(
        provider=provider,
        link=link,
        course=course,
        placement=placement,
        learner=learner,
        client=client,
        tool_private=tool_keys[0],
        tool_public=tool_keys[1],
    )


def launch_url(world) -> str:
    return reverse("wagtail_lti:launch", args=[world.placement.lti_id])


def start_launch(world, client=None) -> dict:
    """The learner opens the activity: our login initiation form (checked), as a dict."""
    response = (client or world.client).post(launch_url(world))
    assert response.status_code == 200, response.content.decode()
    form = the_form(response)
    assert form["action"] == LOGIN_URL and form["method"] == "post"
    return form["fields"]


def tool_login(world, init: dict, conf=None):
    """PyLTI1p3 handles the login initiation; returns its redirect (to our authorization endpoint)."""
    return pylti_login(init, conf or world.tool_conf(), REDIRECT_URI)


def tool_launch(world, form_fields: dict, login_response, conf=None, session=None):
    """PyLTI1p3 receives our id_token at its redirect URI and validates it."""
    return pylti_launch(form_fields, login_response, conf or world.tool_conf(), session)


# An authentication request as a tool builds it from our login initiation.
authorization_params = partial(oidc_authorization_params, redirect_uri=REDIRECT_URI)


decode_our_token = decode_platform_token


def activity_of(world, user=None):
    from wagtail_lti.models import LearnerActivity

    return LearnerActivity.objects.filter(
        placement=world.placement, user=user or world.learner
    ).first()


def pending_launches():
    from wagtail_lti.models import PendingLaunch

    return PendingLaunch.objects.all()


# --- The whole flow -----------------------------------------------------------------------------


def full_launch(world, conf=None, session=None):
    conf = conf or world.tool_conf()
    init = start_launch(world)
    login_response = tool_login(world, init, conf)
    location = login_response["Location"]
    assert location.startswith(ISSUER + AUTHORIZE_PATH)
    answer = world.client.get(location)
    assert answer.status_code == 200, answer.content.decode()
    form = the_form(answer)
    assert form["action"] == REDIRECT_URI and form["method"] == "post"
    assert set(form["fields"]) == {"id_token", "state"}
    message_launch = tool_launch(world, form["fields"], login_response, conf, session)
    return init, form, message_launch


def test_pylti1p3_validates_our_launch(world):
    """LTI Core 1.3 §4.1 (OIDC login), §5.1.2 (RS256 with kid), §5.3 (resource link launch)."""
    session = routed_session(ISSUER)
    init, form, message_launch = full_launch(world, session=session)
    data = message_launch.get_launch_data()

    # PyLTI1p3 looked our kid up in our JWKS (no inline key set was given to it).
    assert ("GET", ISSUER + reverse("wagtail_lti:lti13_jwks")) in session.adapter.calls
    assert message_launch.is_resource_launch()
    assert message_launch.check_student_access() and not message_launch.check_teacher_access()

    # Login initiation: every parameter, deployment id under its LTI name (pitfall 7).
    assert init["iss"] == ISSUER
    assert init["target_link_uri"] == ACTIVITY_URL
    assert init["client_id"] == world.provider.client_id
    assert init["lti_deployment_id"] == world.provider.deployment_id
    assert init["login_hint"] == data["sub"]
    assert len(init["lti_message_hint"]) >= 32

    # What PyLTI1p3 does not check.
    claims = decode_our_token(form["fields"]["id_token"], audience=world.provider.client_id)
    assert claims == data
    assert claims["aud"] == world.provider.client_id and claims["azp"] == world.provider.client_id
    now = time.time()
    assert claims["iat"] < now  # back-dated (pitfall 3)
    assert 0 < claims["exp"] - claims["iat"] <= 300  # short-lived
    assert claims["exp"] > now
    assert claims[LTI_CLAIM + "deployment_id"] == init["lti_deployment_id"]
    assert claims[LTI_CLAIM + "target_link_uri"] == init["target_link_uri"]
    assert claims[LTI_CLAIM + "version"] == "1.3.0"
    assert claims[LTI_CLAIM + "message_type"] == "LtiResourceLinkRequest"

    # sub: opaque and stable, not the username or primary key.
    assert claims["sub"] not in {world.learner.username, str(world.learner.pk)}
    assert len(claims["sub"]) <= 255

    assert claims[LTI_CLAIM + "resource_link"] == {
        "id": world.placement.lti_id,
        "title": "Fire drill quiz",
        "description": "Ten questions about fire safety",
    }
    assert claims[LTI_CLAIM + "roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
    ]
    context = claims[LTI_CLAIM + "context"]
    assert context["title"] == "Safety at work" and context["label"] == "SAF-101"
    assert context["type"] == ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"]
    assert context["id"] and context["id"] != str(world.course.pk)
    assert claims[LTI_CLAIM + "tool_platform"]["guid"]
    presentation = claims[LTI_CLAIM + "launch_presentation"]
    assert presentation["document_target"] == "iframe"
    assert presentation["return_url"].startswith(ISSUER)

    # Custom parameters: provider's and link's merged, substituted, names without "custom_".
    assert claims[LTI_CLAIM + "custom"] == {
        "unit": "3",
        "uid": claims["sub"],
        "mail": "$Person.email.primary",  # privacy: no email, and no way round it
        "level": "beginner",
    }

    # Privacy: the provider may receive the name but not the email.
    assert claims["name"] == "Lena Learner"
    assert claims["given_name"] == "Lena" and claims["family_name"] == "Learner"
    assert "email" not in claims

    # No value with leading or trailing whitespace (Certification Guide §5.1; pitfall 15).
    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)

    assert all(text == text.strip() for text in strings(claims))

    # AGS claim with the placement's line item (the link requires a score).
    from wagtail_lti.services.results import line_item_for

    ags = claims[AGS_ENDPOINT_CLAIM]
    assert set(ags["scope"]) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    }
    line_item = line_item_for(world.placement)
    assert line_item is not None
    assert ags["lineitem"].rstrip("/").endswith(f"/{line_item.pk}")
    assert ags["lineitems"].startswith(ISSUER)

    # The launch is recorded once, the message hint is used.
    activity = activity_of(world)
    assert activity.launch_count == 1 and activity.status == "launched"
    assert pending_launches().get().used_at is not None


def test_the_id_token_is_signed_with_the_current_key(world):
    from wagtail_lti.security.platform_keys import get_signing_key

    _, form, message_launch = full_launch(world)
    message_launch.get_launch_data()
    header = jwt.get_unverified_header(form["fields"]["id_token"])
    assert header["alg"] == "RS256"
    assert header["kid"] == get_signing_key()[0]


def test_email_is_sent_only_when_the_provider_may_receive_it(world):
    world.provider.send_email = True
    world.provider.send_name = False
    world.provider.save()
    _, _, message_launch = full_launch(world)
    data = message_launch.get_launch_data()
    assert data["email"] == "lena@example.com"
    assert data[LTI_CLAIM + "custom"]["mail"] == "lena@example.com"
    for claim in ("name", "given_name", "family_name"):
        assert claim not in data


def test_no_ags_claim_when_the_link_needs_no_score_and_activity_completes(world):
    world.link.requires_score = False
    world.link.save()
    _, _, message_launch = full_launch(world)
    data = message_launch.get_launch_data()
    assert AGS_ENDPOINT_CLAIM not in data
    assert not message_launch.has_ags()
    assert activity_of(world).status == "completed"


def test_no_ags_claim_when_the_provider_may_not_use_ags(world):
    world.provider.allow_ags = False
    world.provider.save()
    _, _, message_launch = full_launch(world)
    assert AGS_ENDPOINT_CLAIM not in message_launch.get_launch_data()


def test_instructor_role(world):
    from wagtail_lti.models import Enrollment

    Enrollment.objects.filter(user=world.learner).update(role=Enrollment.Role.INSTRUCTOR)
    _, _, message_launch = full_launch(world)
    assert message_launch.get_launch_data()[LTI_CLAIM + "roles"] == [
        "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
    ]
    assert message_launch.check_teacher_access()


def test_target_link_uri_falls_back_to_the_provider_launch_url(world):
    from wagtail_lti.launch.context import build_launch_context
    from wagtail_lti.launch.lti13 import start_login
    from wagtail_lti.launch.rules import check_can_launch
    from wagtail_lti.launch.targets import launch_target

    target = launch_target(pk=world.placement.pk)
    target.placement.resource_link.url = ""
    request = RequestFactory().get("/")
    request.user = world.learner
    enrollment = check_can_launch(world.learner, target)
    ctx = build_launch_context(request, target, enrollment)
    response = start_login(request, target.placement, ctx)
    fields = the_form(response)["fields"]
    assert fields["target_link_uri"] == f"{TOOL}/lti/"
    assert pending_launches().get().data["context"]["target_url"] == f"{TOOL}/lti/"


def test_authorization_endpoint_accepts_post(world):
    """OIDC Core §3.1.2.1: the authorization endpoint supports GET and POST."""
    init = start_launch(world)
    response = world.client.post(AUTHORIZE_PATH, authorization_params(init))
    form = the_form(response)
    assert form["action"] == REDIRECT_URI and "id_token" in form["fields"]
    assert form["fields"]["state"] == "state-123"
    claims = decode_our_token(form["fields"]["id_token"], audience=world.provider.client_id)
    assert claims["nonce"] == "nonce-456"


def test_launch_pages_are_not_cached_and_may_be_framed_by_us_only(world):
    response = world.client.post(launch_url(world))
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    init = the_form(response)["fields"]
    answer = world.client.get(AUTHORIZE_PATH, authorization_params(init))
    assert answer["Cache-Control"] == "no-store"
    assert answer["X-Frame-Options"] == "SAMEORIGIN"
    assert answer["Referrer-Policy"] == "origin"


def test_pending_launch_stores_only_a_hash_of_the_hint(world):
    init = start_launch(world)
    pending = pending_launches().get()
    assert pending.hint != init["lti_message_hint"]
    assert init["lti_message_hint"] not in str(pending.data)
    assert pending.user == world.learner and pending.provider == world.provider
    assert pending.data["placement_id"] == world.placement.pk
    assert pending.expires_at <= timezone.now() + timedelta(seconds=300)


# --- Each check of the authorization request, refused on its own ---------------------------------


def assert_redirected_error(response, error: str, state="state-123"):
    """OIDC Core §3.1.2.6: the error is posted to the (registered) redirect URI with the state."""
    assert response.status_code == 200, response.content.decode()
    form = the_form(response)
    assert form["action"] == REDIRECT_URI
    assert form["fields"]["error"] == error
    assert form["fields"]["error_description"]
    if state:
        assert form["fields"]["state"] == state
    assert "id_token" not in form["fields"]
    return form["fields"]


def assert_error_page(response, error: str):
    """RFC 6749 §4.1.2.1: unknown client or unregistered redirect URI: no redirect, a page."""
    assert response.status_code == 400
    page = read_page(response)
    assert page.forms == []  # nothing that could post anywhere
    assert error in response.content.decode()


def assert_nothing_recorded(world):
    assert activity_of(world) is None
    assert not pending_launches().filter(used_at__isnull=False).exists()


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"scope": None}, "invalid_scope"),
        ({"scope": "profile email"}, "invalid_scope"),
        ({"response_type": None}, "unsupported_response_type"),
        ({"response_type": "code"}, "unsupported_response_type"),
        ({"response_type": "id_token token"}, "unsupported_response_type"),
        ({"response_mode": None}, "invalid_request"),
        ({"response_mode": "fragment"}, "invalid_request"),
        ({"prompt": "login"}, "invalid_request"),
        ({"nonce": None}, "invalid_request"),
        ({"lti_message_hint": None}, "invalid_request"),
        ({"lti_message_hint": "not-a-hint-we-issued"}, "invalid_request"),
        ({"login_hint": None}, "invalid_request"),
    ],
)
def test_bad_field_is_refused_and_posted_back(world, overrides, error):
    init = start_launch(world)
    response = world.client.get(AUTHORIZE_PATH, authorization_params(init, **overrides))
    assert_redirected_error(response, error)
    assert_nothing_recorded(world)


def test_prompt_may_be_absent(world):
    init = start_launch(world)
    response = world.client.get(AUTHORIZE_PATH, authorization_params(init, prompt=None))
    assert "id_token" in the_form(response)["fields"]


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"client_id": None}, "invalid_request"),
        ({"client_id": "no-such-client"}, "unauthorized_client"),
        ({"redirect_uri": None}, "invalid_request"),
        ({"redirect_uri": REDIRECT_URI.rstrip("/")}, "invalid_request"),  # pitfall 14
        ({"redirect_uri": REDIRECT_URI + "extra/"}, "invalid_request"),
        ({"redirect_uri": "https://attacker.example/lti/launch/"}, "invalid_request"),
    ],
)
def test_unknown_client_or_unregistered_redirect_uri_gets_an_error_page(world, overrides, error):
    init = start_launch(world)
    # Other fields are bad too: still never posted to an unregistered URI.
    response = world.client.get(
        AUTHORIZE_PATH, authorization_params(init, scope="profile", **overrides)
    )
    assert_error_page(response, error)
    assert_nothing_recorded(world)


def test_client_id_of_a_1_1_provider_is_unknown(world):
    from wagtail_lti.models import LtiProvider

    other = LtiProvider.objects.create(
        name="Old tool",
        organization=world.provider.organization,
        lti_version="1.1",
        redirect_uris=REDIRECT_URI,
    )
    init = start_launch(world)
    response = world.client.get(
        AUTHORIZE_PATH, authorization_params(init, client_id=other.client_id)
    )
    assert_error_page(response, "unauthorized_client")


def test_another_registered_redirect_uri_is_accepted(world):
    init = start_launch(world)
    response = world.client.get(
        AUTHORIZE_PATH, authorization_params(init, redirect_uri=f"{TOOL}/lti/deep-link/")
    )
    assert the_form(response)["action"] == f"{TOOL}/lti/deep-link/"


def bob_client(world):
    from wagtail_lti.models import Enrollment

    bob = make_learner("bob", first_name="Bob")
    Enrollment.objects.create(course=world.course, user=bob)
    client = Client()
    client.force_login(bob)
    return bob, client


def test_login_hint_of_another_user_is_refused(world):
    """Lena's message hint with Bob's login_hint (the one we sent for Bob): access_denied."""
    bob, client = bob_client(world)
    bob_init = start_launch(world, client=client)
    init = start_launch(world)
    assert bob_init["login_hint"] != init["login_hint"]
    response = world.client.get(
        AUTHORIZE_PATH, authorization_params(init, login_hint=bob_init["login_hint"])
    )
    assert_redirected_error(response, "access_denied")
    assert_nothing_recorded(world)


def test_another_users_message_hint_is_refused(world):
    """Bob's launch, completed in Lena's browser: refused, and Bob's hint stays unused."""
    bob, client = bob_client(world)
    bob_init = start_launch(world, client=client)
    response = world.client.get(AUTHORIZE_PATH, authorization_params(bob_init))
    assert_redirected_error(response, "access_denied")
    assert activity_of(world, bob) is None and activity_of(world) is None
    assert pending_launches().get().used_at is None


def test_replayed_message_hint_is_refused(world):
    """Pitfall 4: a message hint is single-use."""
    init = start_launch(world)
    params = authorization_params(init)
    first = world.client.get(AUTHORIZE_PATH, params)
    assert "id_token" in the_form(first)["fields"]
    second = world.client.get(AUTHORIZE_PATH, params)
    fields = assert_redirected_error(second, "invalid_request")
    assert "already been used" in fields["error_description"]
    assert activity_of(world).launch_count == 1


def test_expired_message_hint_is_refused(world):
    init = start_launch(world)
    pending_launches().update(expires_at=timezone.now() - timedelta(seconds=1))
    fields = assert_redirected_error(
        world.client.get(AUTHORIZE_PATH, authorization_params(init)), "invalid_request"
    )
    assert "expired" in fields["error_description"]
    assert activity_of(world) is None


def test_message_hint_of_another_tool_is_refused(world):
    from wagtail_lti.models import LtiProvider

    other = LtiProvider.objects.create(
        name="Other tool",
        organization=world.provider.organization,
        lti_version="1.3",
        login_url="https://other.example/login/",
        redirect_uris=REDIRECT_URI,
    )
    init = start_launch(world)
    response = world.client.get(
        AUTHORIZE_PATH, authorization_params(init, client_id=other.client_id)
    )
    assert_redirected_error(response, "invalid_request")
    assert_nothing_recorded(world)


def test_the_launch_is_checked_again_when_the_token_is_issued(world):
    """Enrollment withdrawn between the click and the tool's request: access_denied, nothing recorded."""
    from wagtail_lti.models import Enrollment

    init = start_launch(world)
    Enrollment.objects.filter(user=world.learner).update(is_active=False)
    fields = assert_redirected_error(
        world.client.get(AUTHORIZE_PATH, authorization_params(init)), "access_denied"
    )
    assert "enrolled" in fields["error_description"]
    assert_nothing_recorded(world)


def test_state_is_optional_and_echoed_only_when_sent(world):
    init = start_launch(world)
    response = world.client.get(AUTHORIZE_PATH, authorization_params(init, state=None, scope="bad"))
    fields = assert_redirected_error(response, "invalid_scope", state=None)
    assert "state" not in fields


def test_other_methods_are_refused(world):
    response = world.client.put(AUTHORIZE_PATH)
    assert response.status_code == 405


def test_signing_failure_is_an_oidc_error_and_leaves_the_hint_usable(world, monkeypatch):
    import wagtail_lti.security.platform_keys as platform_keys

    init = start_launch(world)

    def broken():
        raise RuntimeError("key store unavailable")

    monkeypatch.setattr(platform_keys, "get_signing_key", broken)
    assert_redirected_error(
        world.client.get(AUTHORIZE_PATH, authorization_params(init)), "server_error"
    )
    assert_nothing_recorded(world)
    monkeypatch.undo()
    assert (
        "id_token"
        in the_form(world.client.get(AUTHORIZE_PATH, authorization_params(init)))["fields"]
    )


# --- The session cookie does not arrive (third-party cookies, SameSite=Lax) ----------------------


def test_without_the_session_cookie_the_request_is_reposted_same_site(world):
    """Pitfall 1: like Moodle, re-post the request from our own page instead of login_required."""
    init = start_launch(world)
    params = authorization_params(init)
    anonymous = Client()
    response = anonymous.get(AUTHORIZE_PATH, params)
    assert response.status_code == 200
    assert not response.cookies  # nothing set on the way
    form = the_form(response)
    assert form["action"] == AUTHORIZE_PATH and form["method"] == "post"
    assert form["fields"] == {**params, "wagtail_lti_repost": "1"}
    assert pending_launches().get().used_at is None

    # The same-site re-post carries the session cookie: the launch goes through.
    answer = world.client.post(form["action"], form["fields"])
    token_form = the_form(answer)
    assert token_form["action"] == REDIRECT_URI and "id_token" in token_form["fields"]


def test_when_the_repost_has_no_cookie_either_a_new_window_is_offered(world):
    init = start_launch(world)
    params = {**authorization_params(init), "wagtail_lti_repost": "1"}
    response = Client().post(AUTHORIZE_PATH, params)
    assert response.status_code == 200
    page = read_page(response)
    links = [link for link in page.links if link.get("id") == "wagtail-lti-new-window"]
    assert links and links[0]["href"] == launch_url(world) and links[0]["target"] == "_blank"
    assert "id_token" not in response.content.decode()
    assert pending_launches().get().used_at is None


def test_really_not_signed_in_is_login_required(world):
    init = start_launch(world)
    params = {**authorization_params(init), "wagtail_lti_repost": "window"}
    assert_redirected_error(Client().post(AUTHORIZE_PATH, params), "login_required")
    assert_nothing_recorded(world)


def test_anonymous_with_an_invalid_hint_gets_no_repost(world):
    init = start_launch(world)
    response = Client().get(AUTHORIZE_PATH, authorization_params(init, lti_message_hint="forged"))
    assert_redirected_error(response, "invalid_request")


# --- Assignment and Grade Services after the launch ----------------------------------------------


def test_tool_posts_a_grade_through_ags_and_the_activity_completes(world):
    """Issue 4, "tests that count": PyLTI1p3 put_grade then get_grades on the launch's line item."""
    session = routed_session(ISSUER)
    _, _, message_launch = full_launch(world, session=session)
    data = message_launch.get_launch_data()
    assert message_launch.has_ags()
    ags = message_launch.get_ags()
    grade = (
        Grade()
        .set_score_given(7)
        .set_score_maximum(10)
        .set_timestamp(timezone.now().isoformat())
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_user_id(data["sub"])
    )
    ags.put_grade(grade)
    grades = ags.get_grades()
    assert [(g["userId"], g["resultScore"]) for g in grades] == [(data["sub"], 7)]
    activity = activity_of(world)
    assert activity.status == "completed"
    assert activity.score == pytest.approx(0.7)
    assert ("POST", ISSUER + reverse("wagtail_lti:lti13_token")) in session.adapter.calls


def test_login_initiation_refuses_a_provider_without_login_url(world):
    world.provider.login_url = ""
    world.provider.save()
    response = world.client.post(launch_url(world))
    assert response.status_code == 400
    assert "login URL" in response.content.decode()
    assert not pending_launches().exists()


def test_authorization_reads_and_writes_only_what_a_launch_needs(world):
    """Speed (docs/benchmarks.md): with the placement kept from the login initiation, the
    authorization request runs six statements besides the session: the started launch, the user,
    the enrollment, consuming the hint, the learner's activity, the launch log."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = world.client.get(AUTHORIZE_PATH, authorization_params(start_launch(world)))
    assert "id_token" in the_form(first)["fields"]  # the first launch creates keys and rows
    init = start_launch(world)
    with CaptureQueriesContext(connection) as queries:
        response = world.client.get(AUTHORIZE_PATH, authorization_params(init))
    assert "id_token" in the_form(response)["fields"]
    statements = data_statements(queries)
    assert statements == [
        "SELECT wagtail_lti_pendinglaunch",
        "SELECT auth_user",
        "SELECT wagtail_lti_enrollment",
        "UPDATE wagtail_lti_pendinglaunch",
        "UPDATE wagtail_lti_learneractivity",
        "INSERT wagtail_lti_launchlogentry",
    ], statements

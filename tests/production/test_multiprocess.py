"""Several app server processes sharing PostgreSQL and Redis (production: a load balancer in front
of several gunicorn servers, no sticky sessions).

Two gunicorn processes of the example site run on loopback ports against the test database. Every
security value lives in the database (single-use store, PendingLaunch, AccessToken), so:

* an LTI 1.3 launch begun on server A (login initiation, ``lti_message_hint``) completes on server
  B (authorization endpoint), and the hint cannot be used again on A;
* an LTI 1.1 Basic Outcomes nonce used on A is refused by B;
* an access token issued by A works on B, and one issued by B works on A.

The tool is PyLTI1p3 (1.3) and requests-oauthlib (1.1), talking real HTTP to the servers. Runs
only when ``DATABASE_URL`` names PostgreSQL and ``CACHE_URL`` Redis (CI's PostgreSQL run).
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import requests
from django.test import RequestFactory
from lti import OutcomeRequest
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoMessageLaunch, DjangoOIDCLogin
from pylti1p3.grade import Grade
from pylti1p3.service_connector import ServiceConnector
from pylti1p3.tool_config import ToolConfDict

from tests.support.app_servers import (
    app_servers,
    database_env,
    free_port,
    pg_and_redis_configured,
)
from tests.support.factories import enroll, make_course, make_learner, make_link, make_provider
from tests.support.forms import input_value
from tests.support.forms import the_form as read_form
from tests.support.lti11 import TOOL_KEY, TOOL_SECRET, sign_outcome
from tests.tooling.lti13_tool import make_key_pair


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not pg_and_redis_configured(),
        reason="needs DATABASE_URL=postgres://... and CACHE_URL=redis://... (CI's PostgreSQL run)",
    ),
    pytest.mark.django_db(transaction=True),
]

TOOL = "https://tool.example"
LOGIN_URL = f"{TOOL}/lti/login/"
REDIRECT_URI = f"{TOOL}/lti/launch/"
#: What a browser sends with a GET from this site's own pages (a launch needs it, or a POST).
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}
AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPES = [AGS + "lineitem", AGS + "result.readonly", AGS + "score"]


def the_form(response: requests.Response) -> dict:
    """The one form of a server's answer, which must be a 200."""
    assert response.status_code == 200, response.text[:2000]
    return read_form(response)


def log_in(browser: requests.Session, server, username: str, password: str = "password") -> None:
    """Sign in through the example site's login form, as a person does."""
    login = server.url("/accounts/login/")
    page = browser.get(login, timeout=30)
    token = input_value(page, "csrfmiddlewaretoken")
    answer = browser.post(
        login,
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:2000]
    assert "sessionid" in browser.cookies


def access_lines(server) -> list[str]:
    return server.access_log.splitlines()


def logged(server, method: str, path_prefix: str, status: int, wait: float = 5) -> bool:
    """Whether ``server``'s access log has the request (gunicorn writes the line just after the
    response, so allow it a moment)."""
    pattern = f'"{method} {path_prefix}'
    deadline = time.monotonic() + wait
    while True:
        if any(pattern in line and f'" {status} ' in line for line in access_lines(server)):
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


@pytest.fixture
def world(orgs, settings):
    settings.ALLOWED_HOSTS = ["*"]
    acme = orgs["acme"]
    private_pem, public_pem = make_key_pair()
    from wagtail_lti.models import LtiProvider

    provider13 = LtiProvider.objects.create(
        name="Quiz tool 1.3",
        organization=acme,
        lti_version=LtiProvider.Version.LTI_1P3,
        login_url=LOGIN_URL,
        launch_url=f"{TOOL}/lti/",
        redirect_uris=REDIRECT_URI,
        public_key_pem=public_pem,
        allow_ags=True,
    )
    link13 = make_link(
        provider13, name="Fire quiz", url=f"{TOOL}/quiz", requires_score=True, score_maximum=10
    )
    provider11 = make_provider(acme, name="Quiz tool 1.1", key=TOOL_KEY, secret=TOOL_SECRET)
    link11 = make_link(
        provider11, name="Drill", url=f"{TOOL}/drill", requires_score=True, score_maximum=100
    )
    course = make_course(acme, [link13, link11], title="Safety at work")
    learner = make_learner("lena")
    enroll(learner, course)
    from wagtail_lti.models import Placement

    placements = {p.resource_link_id: p for p in Placement.objects.filter(page=course)}
    return {
        "provider13": provider13,
        "placement13": placements[link13.pk],
        "placement11": placements[link11.pk],
        "course": course,
        "learner": learner,
        "tool_keys": (private_pem, public_pem),
    }


@pytest.fixture(scope="module")
def servers(django_db_setup):
    """Servers A and B on the test database (started once for the module; every test's data is
    committed and flushed around them). The issuer, one public name for both as behind a load
    balancer, is B's address."""
    if not pg_and_redis_configured():
        pytest.skip("needs PostgreSQL and Redis")
    ports = [free_port(), free_port()]
    env = database_env() | {"LTI_ISSUER": f"http://127.0.0.1:{ports[1]}"}
    with app_servers(2, env=env, ports=ports) as (a, b):
        yield a, b


def tool_conf(world, *, issuer: str, authorize_on, token_on, jwks_on) -> ToolConfDict:
    private_pem, public_pem = world["tool_keys"]
    provider = world["provider13"]
    conf = ToolConfDict(
        {
            issuer: [
                {
                    "default": True,
                    "client_id": provider.client_id,
                    "auth_login_url": authorize_on.url("/lti/1.3/authorize/"),
                    "auth_token_url": token_on.url("/lti/1.3/token/"),
                    "auth_audience": None,
                    "key_set_url": jwks_on.url("/lti/1.3/jwks/"),
                    "key_set": None,
                    "deployment_ids": [provider.deployment_id],
                }
            ]
        }
    )
    conf.set_private_key(issuer, private_pem, client_id=provider.client_id)
    conf.set_public_key(issuer, public_pem, client_id=provider.client_id)
    return conf


def test_lti13_launch_begun_on_one_process_completes_on_the_other(world, servers):
    """LTI Core 1.3 §4.1: login initiation on A; the tool's authentication request reaches B.

    Then the tool (PyLTI1p3) gets an access token from A and posts the score to B (AGS §3.4).
    """
    a, b = servers
    issuer = b.base_url
    conf = tool_conf(world, issuer=issuer, authorize_on=b, token_on=a, jwks_on=a)
    browser = requests.Session()
    log_in(browser, a, "lena")

    # 1. The learner opens the activity on A: login initiation, with a single-use message hint.
    init = the_form(
        browser.get(
            a.url(f"/lti/launch/{world['placement13'].lti_id}/"),
            headers=SAME_ORIGIN,  # as a browser says for a GET from our own pages
            timeout=30,
        )
    )
    assert init["action"] == LOGIN_URL
    assert init["fields"]["iss"] == issuer
    hint = init["fields"]["lti_message_hint"]

    # 2. The tool's login endpoint (PyLTI1p3) redirects the browser to the authorization
    #    endpoint, which the load balancer routes to B.
    login_request = RequestFactory().post(
        "/lti/login/", data=init["fields"], HTTP_HOST="tool.example", secure=True
    )
    login_response = DjangoOIDCLogin(
        login_request, conf, launch_data_storage=DjangoCacheDataStorage()
    ).redirect(REDIRECT_URI)
    assert login_response.status_code == 302
    authorize_url = login_response["Location"]
    assert authorize_url.startswith(b.url("/lti/1.3/authorize/"))

    # 3. B validates the request, consumes the hint A stored, signs the id_token.
    answer = the_form(browser.get(authorize_url, timeout=30))
    assert answer["action"] == REDIRECT_URI
    assert set(answer["fields"]) == {"id_token", "state"}

    # 4. The tool validates the id_token with the keys A publishes (one key set for all).
    launch_request = RequestFactory().post(
        "/lti/launch/", data=answer["fields"], HTTP_HOST="tool.example", secure=True
    )
    launch_request.COOKIES.update({k: m.value for k, m in login_response.cookies.items()})
    message_launch = DjangoMessageLaunch(
        launch_request,
        conf,
        launch_data_storage=DjangoCacheDataStorage(),
        requests_session=requests.Session(),
    )
    data = message_launch.get_launch_data()
    assert data["https://purl.imsglobal.org/spec/lti/claim/resource_link"]["id"] == (
        world["placement13"].lti_id
    )

    # 5. AGS: PyLTI1p3 gets its token from A (auth_token_url) and posts the score to the line
    #    item URL of the claim, on B.
    assert message_launch.has_ags()
    lineitem = data["https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"]["lineitem"]
    assert lineitem.startswith(b.base_url)
    grade = (
        Grade()
        .set_score_given(7)
        .set_score_maximum(10)
        .set_timestamp(datetime.now(UTC).isoformat())
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_user_id(data["sub"])
    )
    message_launch.get_ags().put_grade(grade)

    # Each step was served by the process it was sent to.
    placement_path = f"/lti/launch/{world['placement13'].lti_id}/"
    assert logged(a, "GET", placement_path, 200)
    assert not logged(b, "GET", placement_path, 200, wait=0)
    assert logged(b, "GET", "/lti/1.3/authorize/", 200)
    assert not logged(a, "GET", "/lti/1.3/authorize/", 200, wait=0)
    assert logged(a, "GET", "/lti/1.3/jwks/", 200)
    assert logged(a, "POST", "/lti/1.3/token/", 200)
    assert logged(b, "POST", urlsplit(lineitem).path + "/scores", 200)

    from wagtail_lti.models import LearnerActivity, PendingLaunch, Result

    activity = LearnerActivity.objects.get(placement=world["placement13"], user=world["learner"])
    assert activity.status == LearnerActivity.Status.COMPLETED
    assert activity.score == pytest.approx(0.7)
    assert Result.objects.get(user=world["learner"]).score_given == 7
    assert PendingLaunch.objects.get().used_at is not None

    # 6. The same authentication request replayed on A: the hint was consumed on B.
    replay = browser.get(a.base_url + authorize_url[len(b.base_url) :], timeout=30)
    form = the_form(replay)
    assert form["action"] == REDIRECT_URI
    assert "id_token" not in form["fields"]
    assert form["fields"]["error"] == "invalid_request"
    assert hint not in replay.text


def test_lti11_nonce_used_on_one_process_is_refused_by_the_other(world, servers):
    """LTI 1.1 Basic Outcomes (OAuth 1.0a §8): a nonce is accepted once, by any process.

    Behind a load balancer both processes see the same ``Host``; the replay is sent to B's socket
    with A's host name, so the signature (over the URL) stays valid and only the nonce repeats.
    """
    a, b = servers
    from wagtail_lti.models import ScoreEvent
    from wagtail_lti.security.sourcedid import make_sourcedid

    sourcedid = make_sourcedid(world["placement11"], world["learner"])
    url = a.url("/lti/1.1/outcomes/")

    def replace_result(score: str) -> requests.PreparedRequest:
        body = OutcomeRequest(
            {
                "operation": "replaceResult",
                "score": score,
                "message_identifier": uuid.uuid4().hex,
                "lis_result_sourcedid": sourcedid,
            }
        ).generate_request_xml()
        return sign_outcome(body, key=TOOL_KEY, secret=TOOL_SECRET, url=url)

    def post(prepared: requests.PreparedRequest, server) -> requests.Response:
        headers = dict(prepared.headers)
        headers["Host"] = f"127.0.0.1:{a.port}"
        return requests.post(
            server.url("/lti/1.1/outcomes/"), data=prepared.body, headers=headers, timeout=30
        )

    first = replace_result("0.5")
    answer = post(first, a)
    assert answer.status_code == 200, answer.text
    assert "<imsx_codeMajor>success</imsx_codeMajor>" in answer.text

    replay = post(first, b)
    assert replay.status_code == 401, replay.text
    assert "<imsx_codeMajor>failure</imsx_codeMajor>" in replay.text
    assert "oauth_nonce was already used" in replay.text

    # Control: a fresh nonce, same route and host, is accepted by B.
    fresh = post(replace_result("0.75"), b)
    assert fresh.status_code == 200, fresh.text
    assert "<imsx_codeMajor>success</imsx_codeMajor>" in fresh.text

    assert logged(a, "POST", "/lti/1.1/outcomes/", 200)
    assert logged(b, "POST", "/lti/1.1/outcomes/", 401)
    assert logged(b, "POST", "/lti/1.1/outcomes/", 200)
    # What was recorded: the two accepted scores, in order; the replay left nothing.
    assert list(ScoreEvent.objects.order_by("pk").values_list("score_given", flat=True)) == [
        0.5,
        0.75,
    ]


def test_access_token_issued_by_one_process_works_on_the_other(world, servers):
    """LTI Advantage Security §4.1 (client credentials): tokens are rows, valid on every process.

    PyLTI1p3 asks B for a token and reads results from A, then the other way round.
    """
    a, b = servers
    issuer = b.base_url
    from wagtail_lti.services.results import line_item_for

    line_item = line_item_for(world["placement13"])
    results_path = (
        f"/lti/1.3/ags/{world['course'].pk}/{world['provider13'].pk}/lineitems/{line_item.pk}"
        "/results"
    )
    for token_server, service_server in ((b, a), (a, b)):
        conf = tool_conf(world, issuer=issuer, authorize_on=b, token_on=token_server, jwks_on=a)
        registration = conf.find_registration_by_params(issuer, world["provider13"].client_id)
        connector = ServiceConnector(registration, requests_session=requests.Session())
        token = connector.get_access_token(SCOPES)
        assert logged(token_server, "POST", "/lti/1.3/token/", 200)

        answer = requests.get(
            service_server.url(results_path),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.ims.lis.v2.resultcontainer+json",
            },
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json() == []
        assert logged(service_server, "GET", results_path, 200)

    # A token nobody issued is refused by both (the check is not vacuous).
    for server in (a, b):
        answer = requests.get(
            server.url(results_path),
            headers={"Authorization": "Bearer " + "x" * 43},
            timeout=30,
        )
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_token"


def test_catalogue_change_made_by_one_process_is_seen_by_the_others(world, servers):
    """What launches keep about a placement (``wagtail_lti.launch.targets``) is dropped by every
    process when an editor changes it in another one: the generation lives in the shared Redis."""
    a, b = servers
    browser = requests.Session()
    log_in(browser, a, "lena")
    path = f"/lti/launch/{world['placement11'].lti_id}/"
    for server in (a, b):  # both processes now keep the placement
        launched = browser.get(server.url(path), headers=SAME_ORIGIN, timeout=30)
        assert "oauth_signature" in the_form(launched)["fields"]

    provider = world["placement11"].resource_link.provider
    provider.is_enabled = False
    provider.save()  # in this process, as an editor's save in a third one
    for server in (a, b):
        refused = browser.get(server.url(path), headers=SAME_ORIGIN, timeout=30)
        assert refused.status_code == 403, refused.text[:2000]
        assert "has been disabled" in refused.text

    provider.is_enabled = True
    provider.save()
    for server in (a, b):
        assert (
            "oauth_signature"
            in the_form(browser.get(server.url(path), headers=SAME_ORIGIN, timeout=30))["fields"]
        )

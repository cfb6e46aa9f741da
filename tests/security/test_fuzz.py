"""Every tool-facing endpoint, fed malformed input, answers 4xx in its spec's error format, never 500.

Endpoints: LTI 1.1 Basic Outcomes (POX, LTI 1.1 Implementation Guide §6), the token endpoint
(RFC 6749 §5.2 JSON), the OIDC authorization endpoint (OIDC Core §3.1.2.6: error page, or the
error posted to the registered redirect URI), the JWKS and OpenID configuration, Dynamic
Registration (RFC 7591 §3.2.2 JSON), every AGS endpoint and NRPS (JSON errors, RFC 6750 §3 on
401), and the deep-linking / content-item answers (an HTML page for the editor).

Two layers:

* a fixed matrix of bad inputs per endpoint (wrong methods and content types, empty, truncated and
  huge bodies, bad JSON, bad and hostile XML, bad JWTs, bad query parameters, unicode garbage),
  each of which must be refused with a 4xx;
* Hypothesis: random methods, content types, bodies, query strings and credentials per endpoint,
  and, behind valid credentials (a signed outcomes request, a bearer token, a signed client
  assertion), random field values, so the parsers and the storage behind them are reached.
  ``FUZZ_EXAMPLES`` sets the number of examples per test (default 40); runs are derandomized so
  CI is repeatable.
"""

from __future__ import annotations

import base64
import json
import os
import string
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import jwt
import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.support.hardening import (
    CSRF_EXEMPT,
    REDIRECT_URI,
    World,
    check_html_error,
    check_oauth2_error,
    check_oidc_error,
    check_pox_error,
    check_service_error,
    make_world,
    post_outcome,
    pox_request,
)
from tests.support.lti13 import JWT_BEARER


pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SCORE = "application/vnd.ims.lis.v1.score+json"
LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def world(orgs, settings) -> World:
    settings.ALLOWED_HOSTS = ["testserver", "tool.example"]
    return make_world()


@pytest.fixture
def client() -> Client:
    # A 500 must fail the test with its traceback, so let exceptions through (Django's default).
    return Client()


# --- Hostile payloads ---------------------------------------------------------------------------

XML_BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<imsx_POXEnvelopeRequest xmlns="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0">&lol4;</imsx_POXEnvelopeRequest>"""
XXE = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<imsx_POXEnvelopeRequest xmlns="http://www.imsglobal.org/services/ltiv1p1/xsd/imsoms_v1p0">&xxe;</imsx_POXEnvelopeRequest>"""
DTD_FETCH = b"""<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:9/evil.dtd"><r/>"""
QUADRATIC = (
    b"<?xml version='1.0'?><!DOCTYPE r [<!ENTITY a '"
    + b"x" * 5000
    + b"'>]><r>"
    + b"&a;" * 500
    + b"</r>"
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict, claims: dict, signature: str = "") -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}.{signature}"


BAD_JWTS = [
    "",
    "a",
    "a.b",
    "a.b.c",
    "...",
    "!!!.@@@.###",
    _unsigned({"alg": "none"}, {"iss": "x", "sub": "x"}),
    _unsigned({"alg": "RS256", "kid": 123}, {"iss": "x"}, "AAAA"),
    _unsigned({"alg": "RS256"}, [1, 2, 3], "AAAA"),  # type: ignore[arg-type]
    _unsigned({"alg": "RS256", "kid": "k"}, {"iss": {"a": 1}, "sub": {"a": 1}}, "AAAA"),
    _b64(b"\xff\xfe") + "." + _b64(b"\x00\x01") + ".x",
    jwt.encode({"iss": "x", "sub": "x"}, "a-shared-secret-of-32-bytes-long!", algorithm="HS256"),
    "e30." * 3000,
]

BAD_JSON = [
    b"",
    b"{",
    b'{"a": ',
    b"[",
    b"]",
    b"null",
    b"true",
    b"42",
    b'"a string"',
    b"[]",
    b"NaN",
    b'{"scoreGiven": NaN, "scoreMaximum": Infinity}',
    b'{"scoreGiven": 1e400, "scoreMaximum": 1e400}',
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 3000 + b"1" + b"}" * 3000,
    b"\xff\xfe\xfd",
    '{"label": "\ud800"}'.encode("utf-8", "surrogatepass"),
    b'{"label": "\x00", "scoreMaximum": 1}',
    b'{"userId": ["a"], "timestamp": {}, "scoreGiven": "1"}',
]

BAD_XML = [
    b"",
    b"<",
    b"<?xml",
    b"<a><b></a>",
    b"not xml at all",
    b"<imsx_POXEnvelopeRequest/>",
    b'<imsx_POXEnvelopeRequest xmlns="urn:other"/>',
    XML_BOMB,
    XXE,
    DTD_FETCH,
    QUADRATIC,
    b"<r>" * 5000 + b"</r>" * 5000,
    "<r>\U0001f600\u202e\ufffe</r>".encode(),
    b"\xff\xfe<\x00r\x00/\x00>\x00",
]

UNICODE_GARBAGE = [
    "\x00",
    "\u202e\u200b",
    "\ud7ff\uffff",
    "😀" * 50,
    "' OR 1=1 --",
    "%00",
    "../" * 20,
]

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND"]
CONTENT_TYPES = [
    "",
    "text/plain",
    "application/json",
    "application/xml",
    "text/xml",
    FORM,
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    SCORE,
    LINEITEM,
    "application/json; charset=utf-16",
    "a/b/c;;;=",
    "😀/😀",
]


# --- The endpoints ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: Callable[[World], str]
    check: Callable  # the spec's error format
    methods: tuple[str, ...]  # methods the endpoint serves
    body_method: str | None  # the method whose body it parses
    body_type: str  # the content type it expects
    auth: str = ""  # "bearer": the tool's access token; "registration": a registration token


def _r(name: str) -> Callable[[World], str]:
    return lambda world: reverse(f"wagtail_lti:{name}")


ENDPOINTS = [
    Endpoint(
        "outcomes", _r("lti11_outcomes"), check_pox_error, ("POST",), "POST", "application/xml"
    ),
    Endpoint("token", _r("lti13_token"), check_oauth2_error, ("POST",), "POST", FORM),
    Endpoint("authorize", _r("lti13_authorize"), check_oidc_error, ("GET", "POST"), "POST", FORM),
    Endpoint("jwks", _r("lti13_jwks"), check_service_error, ("GET", "HEAD"), None, ""),
    Endpoint(
        "openid_configuration",
        _r("lti13_openid_configuration"),
        check_service_error,
        ("GET", "HEAD"),
        None,
        "",
    ),
    Endpoint(
        "register",
        _r("lti13_register"),
        check_service_error,
        ("POST",),
        "POST",
        "application/json",
        "registration",
    ),
    Endpoint(
        "ags_lineitems",
        lambda w: w.lineitems_path,
        check_service_error,
        ("GET", "POST"),
        "POST",
        LINEITEM,
        "bearer",
    ),
    Endpoint(
        "ags_lineitem",
        lambda w: w.lineitem_path,
        check_service_error,
        ("GET", "PUT", "DELETE"),
        "PUT",
        LINEITEM,
        "bearer",
    ),
    Endpoint(
        "ags_scores",
        lambda w: w.scores_path,
        check_service_error,
        ("POST",),
        "POST",
        SCORE,
        "bearer",
    ),
    Endpoint(
        "ags_results", lambda w: w.results_path, check_service_error, ("GET",), None, "", "bearer"
    ),
    Endpoint(
        "nrps",
        lambda w: w.memberships_path,
        check_service_error,
        ("GET",),
        None,
        "",
        "bearer",
    ),
    Endpoint(
        "pns_handlers",
        lambda w: reverse("wagtail_lti:pns_handlers", kwargs={"provider_id": w.provider13.pk}),
        check_service_error,
        ("GET", "PUT"),
        "PUT",
        "application/json",
        "bearer",
    ),
    Endpoint(
        "deep_linking_return",
        _r("lti13_deep_linking_return"),
        check_html_error,
        ("POST",),
        "POST",
        FORM,
    ),
    Endpoint(
        "content_item_return",
        _r("lti11_content_item_return"),
        check_html_error,
        ("POST",),
        "POST",
        FORM,
    ),
]
BY_NAME = {endpoint.name: endpoint for endpoint in ENDPOINTS}


def test_every_tool_facing_endpoint_is_fuzzed():
    fuzzed = _url_names()
    assert CSRF_EXEMPT | {"lti13_jwks", "lti13_openid_configuration"} <= fuzzed


def _url_names() -> set[str]:
    names = {
        "outcomes": "lti11_outcomes",
        "token": "lti13_token",
        "authorize": "lti13_authorize",
        "jwks": "lti13_jwks",
        "openid_configuration": "lti13_openid_configuration",
        "register": "lti13_register",
        "nrps": "nrps_memberships",
        "deep_linking_return": "lti13_deep_linking_return",
        "content_item_return": "lti11_content_item_return",
    }
    return {names.get(endpoint.name, endpoint.name) for endpoint in ENDPOINTS}


def call(
    client, world, endpoint, *, method, body=b"", content_type="", query="", auth=None, path=None
):
    headers = {}
    if auth is None and endpoint.auth == "bearer":
        auth = f"Bearer {world.access_token}"
    elif auth is None and endpoint.auth == "registration":
        auth = f"Bearer {world.registration_token}"
    if auth:
        headers["Authorization"] = auth
    target = (path or endpoint.path(world)) + query
    return client.generic(method, target, data=body, content_type=content_type, headers=headers)


def assert_refused(endpoint: Endpoint, response, *, allow_ok: bool = False) -> None:
    """A 4xx in the endpoint's error format (outcomes: POX failure, HTTP 200 or 4xx)."""
    status = response.status_code
    assert status < 500, response.content[:2000]
    if endpoint.name == "outcomes":
        check_pox_error(response)
        return
    if endpoint.name == "authorize" and status == 200:
        check_oidc_error(response)  # the error posted back to the registered redirect URI
        return
    if allow_ok and status < 400:
        return
    if endpoint.name in ("deep_linking_return", "content_item_return") and status == 200:
        # No session cookie came with the cross-site POST: re-posted from our own page once,
        # nothing checked or consumed before.
        assert b'name="wagtail_lti_repost" value="1"' in response.content
        return
    assert 400 <= status < 500, (status, response.content[:2000])
    if status != 405 or endpoint.name not in ("deep_linking_return", "content_item_return"):
        endpoint.check(response)


# --- The fixed matrix -------------------------------------------------------------------------


def _matrix():
    for endpoint in ENDPOINTS:
        for method in ("PATCH", "TRACE", "PROPFIND"):
            yield endpoint, "wrong method " + method, {"method": method}
        if endpoint.body_method is None:
            continue
        m = endpoint.body_method
        other = "text/plain" if endpoint.body_type != "text/plain" else "application/json"
        yield endpoint, "wrong content type", {"method": m, "content_type": other, "body": b"x=1"}
        yield endpoint, "no content type", {"method": m, "content_type": "", "body": b"{}"}
        payloads = BAD_XML if endpoint.name == "outcomes" else BAD_JSON
        if endpoint.body_type == FORM:
            payloads = [
                b"",
                b"=",
                b"&&&",
                b"%",
                b"%zz=%zz",
                b"a=" + b"%ff" * 100,
                b"JWT=" + b"x" * 1000,
                b"client_assertion=" + b"%00" * 100,
            ] + [
                urlencode({"JWT": bad, "client_assertion": bad, "id_token": bad}).encode()
                for bad in BAD_JWTS
            ]
        for n, payload in enumerate(payloads):
            yield (
                endpoint,
                f"bad body {n}",
                {
                    "method": m,
                    "content_type": endpoint.body_type,
                    "body": payload,
                },
            )
        if endpoint.auth == "bearer":
            for n, bad in enumerate(BAD_JWTS + UNICODE_GARBAGE):
                yield (
                    endpoint,
                    f"bad bearer {n}",
                    {"method": endpoint.methods[0], "auth": f"Bearer {bad}"},
                )
    for name in ("ags_lineitems", "ags_results", "nrps"):
        for n, query in enumerate(MALFORMED_QUERIES):
            yield BY_NAME[name], f"bad query {n}", {"method": "GET", "query": query}
        for n, query in enumerate(ODD_QUERIES):
            yield BY_NAME[name], f"odd query {n}", {"method": "GET", "query": query}


#: Query parameters the services must refuse (AGS §3.2.4 / NRPS §2.4 paging, filters).
MALFORMED_QUERIES = [
    "?limit=-1",
    "?limit=0",
    "?limit=abc",
    "?limit=1e3",
    "?cursor=zz",
    "?cursor=" + b"[]".hex(),
    "?cursor=" + json.dumps({"a": "x", "l": [], "f": {"role": 1}}).encode().hex(),
    "?cursor=" + (b"[" * 1500).hex(),
    "?cursor=" + ("%ff" * 20),
]
#: Odd but harmless ones: answered normally (a capped page size, no match), never a 500.
ODD_QUERIES = [
    "?limit=" + "9" * 40,
    "?cursor=" + json.dumps({"a": 10**30, "l": 1}).encode().hex(),
    "?cursor=" + json.dumps({"a": -1, "l": 10**30, "f": {}}).encode().hex(),
    "?user_id=" + "%00" * 10,
    "?role=" + "%ff" * 10,
    "?rlid=" + "x" * 5000,
    "?role=" + "x" * 5000,
    "?" + "&".join(f"limit={i}" for i in range(200)),
]


@pytest.mark.parametrize("name", [e.name for e in ENDPOINTS])
def test_malformed_input_is_refused(client, world, name):
    """Every case of the matrix for one endpoint; all failures are reported together."""
    failures = []
    cases = [(case, args) for endpoint, case, args in _matrix() if endpoint.name == name]
    assert cases
    endpoint = BY_NAME[name]
    for case, request_args in cases:
        response = call(client, world, endpoint, **request_args)
        try:
            assert_refused(endpoint, response, allow_ok=case.startswith("odd query"))
        except AssertionError as exc:
            failures.append(f"{case}: {str(exc)[:300]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path_kind", ["huge ids", "zero ids", "other provider"])
@pytest.mark.parametrize(
    "name", ["ags_lineitems", "ags_lineitem", "ags_scores", "ags_results", "nrps"]
)
def test_service_urls_with_bad_ids_are_not_found(client, world, name, path_kind):
    """AGS §3.2.9: anything not this tool's deployment in this course is 404, even absurd ids."""
    endpoint = BY_NAME[name]
    big = "9" * 30
    ids = {
        "huge ids": (big, big, big),
        "zero ids": ("0", "0", "0"),
        "other provider": (str(world.course.pk), str(world.provider11.pk), str(world.line_item.pk)),
    }[path_kind]
    path = endpoint.path(world)
    prefix = "/lti/1.3/ags/" if name != "nrps" else "/lti/1.3/nrps/"
    rest = path[len(prefix) :].split("/")
    rest[0], rest[1] = ids[0], ids[1]
    if len(rest) > 3 and rest[3].isdigit():
        rest[3] = ids[2]
    response = call(
        client, world, endpoint, method=endpoint.methods[0], path=prefix + "/".join(rest)
    )
    assert response.status_code == 404, response.content
    check_service_error(response)


# --- Hypothesis: anything at all, at every endpoint ---------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.sampled_from(BAD_JSON + BAD_XML),
    st.binary(max_size=300),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.dictionaries(
        st.text(string.ascii_letters, max_size=20), st.text(max_size=40), max_size=5
    ).map(lambda d: urlencode(d).encode()),
)
queries = st.dictionaries(
    st.sampled_from(["limit", "cursor", "user_id", "role", "rlid", "resource_link_id", "tag", "x"]),
    st.text(max_size=30),
    max_size=3,
).map(lambda d: "?" + urlencode(d) if d else "")
auths = st.one_of(
    st.none(),
    st.sampled_from(
        ["", "Bearer", "Bearer ", "Basic Zm9vOmJhcg==", 'OAuth oauth_consumer_key="x"']
    ),
    st.sampled_from(BAD_JWTS).map(lambda t: "Bearer " + t),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=60),
)


@pytest.mark.parametrize("name", [e.name for e in ENDPOINTS])
def test_fuzz_anything_at_every_endpoint(client, world, name):
    endpoint = BY_NAME[name]

    @FUZZ
    @given(
        method=st.sampled_from(METHODS),
        content_type=st.sampled_from(CONTENT_TYPES),
        body=bodies,
        query=queries,
        auth=auths,
    )
    def run(method, content_type, body, query, auth):
        response = call(
            client,
            world,
            endpoint,
            method=method,
            body=body,
            content_type=content_type,
            query=query,
            auth=auth,
        )
        assert response.status_code < 500, response.content[:2000]
        if method == "HEAD":
            assert not response.content  # no body to check the format of
        elif response.status_code >= 400 or endpoint.name == "outcomes":
            assert_refused(endpoint, response)

    run()


# --- Hypothesis: behind valid credentials -------------------------------------------------------

odd_text = st.one_of(st.text(max_size=60), st.sampled_from(UNICODE_GARBAGE))
odd_numbers = st.one_of(
    st.sampled_from(
        [
            "0",
            "1",
            "0.5",
            "1.0",
            "-0",
            "-0.0",
            "1.",
            ".5",
            "1e0",
            "NaN",
            "Infinity",
            "0x1",
            "1,5",
            " 0.5 ",
            "0.5\n",
            "1" * 400,
            "0." + "9" * 400,
            "١",
        ]
    ),
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    odd_text,
)


def test_fuzz_signed_basic_outcomes(client, world):
    """Correctly signed requests with random operations, sourcedids and scores: a POX answer
    every time, success only for a score in [0, 1], and nothing recorded by a failure."""
    from wagtail_lti.models import Result, ScoreEvent

    sourcedid = world.sourcedid()

    @FUZZ
    @given(
        operation=st.sampled_from(
            ["replaceResult", "readResult", "deleteResult", "bogusResult", ""]
        ),
        score=st.one_of(st.none(), odd_numbers),
        sourced=st.one_of(
            st.just(sourcedid), odd_text, st.just(sourcedid[:-3]), st.just(sourcedid + "x")
        ),
    )
    def run(operation, score, sourced):
        escape = lambda s: s.replace("&", "&amp;").replace("<", "&lt;")  # noqa: E731
        body = pox_request(
            operation or "Request", escape(sourced), None if score is None else escape(score)
        )
        events = ScoreEvent.objects.count()
        response = post_outcome(client, body)
        assert response.status_code in (200, 401), response.content[:2000]
        text = response.content.decode()
        if "<imsx_codeMajor>success</imsx_codeMajor>" not in text:
            check_pox_error(response)
            assert ScoreEvent.objects.count() == events
        elif operation == "replaceResult":
            value = Result.objects.get(
                user=world.learner, line_item__placement=world.placement11
            ).score_given
            assert 0.0 <= value <= 1.0

    run()


timestamps = st.one_of(
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:00:00-14:00",
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:59:59.999999+00:00",
            "2030-01-01T00:00:00Z",
            "2030-01-01",
            "2030-01-01T25:00:00Z",
            "2030-13-01T00:00:00Z",
            "",
        ]
    ),
    odd_text,
)
numbers = st.one_of(
    st.none(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False),
    st.sampled_from([0, 1e-308, 5e-324, 1.7976931348623157e308, -0.0]),
    odd_text,
    st.booleans(),
)


def mutations(base: dict, fields: dict) -> st.SearchStrategy:
    """``base`` (a valid message) with one field replaced or removed, or with several random."""
    one = [
        strategy.map(lambda value, name=name: {**base, name: value})
        for name, strategy in fields.items()
    ]
    dropped = st.sampled_from(sorted(base)).map(
        lambda name: {k: v for k, v in base.items() if k != name}
    )
    several = st.fixed_dictionaries({}, optional=fields).map(lambda d: {**base, **d})
    return st.one_of(*one, dropped, several)


any_value = st.one_of(numbers, timestamps, odd_text, json_values)


def test_fuzz_ags_scores_with_a_valid_token(client, world):
    """AGS §3.4 score posts with random field values and types: 200, or a JSON 4xx that changes
    nothing."""
    from datetime import UTC, datetime, timedelta

    from wagtail_lti.models import ScoreEvent
    from wagtail_lti.security.identifiers import opaque_user_id

    user_id = opaque_user_id(world.learner)
    base = {
        "userId": user_id,
        "scoreGiven": 1,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": "",  # set per example, later each time
    }
    fields = {
        "userId": st.one_of(odd_text, json_values),
        "scoreGiven": st.one_of(numbers, any_value),
        "scoreMaximum": st.one_of(numbers, any_value),
        "activityProgress": any_value,
        "gradingProgress": any_value,
        "timestamp": st.one_of(timestamps, any_value),
        "comment": st.one_of(odd_text, json_values, st.just("c" * 70000)),
        "scoringUserId": any_value,
        "submission": json_values,
    }
    clock = [datetime.now(UTC)]

    @FUZZ
    @given(score=mutations(base, fields))
    # Found by this test: instants with no UTC equivalent overflowed when stored (500).
    @example(score={**base, "timestamp": "0001-01-01T00:00:00+01:00"})
    @example(score={**base, "timestamp": "9999-12-31T23:59:59-01:00"})
    def run(score):
        # Later each time, never ahead of the platform's clock (a timestamp more than a leeway
        # ahead is refused).
        clock[0] = max(clock[0] + timedelta(microseconds=1), datetime.now(UTC))
        if score.get("timestamp") == "":
            score = {**score, "timestamp": clock[0].isoformat()}
        events = ScoreEvent.objects.count()
        response = call(
            client,
            world,
            BY_NAME["ags_scores"],
            method="POST",
            body=json.dumps(score),
            content_type=SCORE,
        )
        assert response.status_code < 500, response.content[:2000]
        if response.status_code != 200:
            assert_refused(BY_NAME["ags_scores"], response)
            assert ScoreEvent.objects.count() == events

    run()


def test_fuzz_ags_line_items_with_a_valid_token(client, world):
    """AGS §3.2 line item POST (container) and PUT (one line item) with random definitions."""
    base = {"label": "Chapter 1", "scoreMaximum": 10, "resourceLinkId": world.placement13.lti_id}
    fields = {
        "label": st.one_of(odd_text, json_values, st.just("l" * 300)),
        "scoreMaximum": st.one_of(numbers, any_value),
        "resourceLinkId": st.one_of(st.just(world.placement11.lti_id), odd_text, json_values),
        "resourceId": any_value,
        "tag": st.one_of(any_value, st.just("t" * 300)),
        "startDateTime": st.one_of(timestamps, any_value),
        "endDateTime": st.one_of(timestamps, any_value),
        "gradesReleased": any_value,
        "id": any_value,
    }

    @FUZZ
    @given(where=st.sampled_from(["ags_lineitems", "ags_lineitem"]), item=mutations(base, fields))
    @example(where="ags_lineitems", item={**base, "startDateTime": "0001-01-01T00:00:00+05:00"})
    @example(where="ags_lineitem", item={**base, "endDateTime": "9999-12-31T23:59:59-12:00"})
    def run(where, item):
        endpoint = BY_NAME[where]
        method = "POST" if where == "ags_lineitems" else "PUT"
        response = call(
            client, world, endpoint, method=method, body=json.dumps(item), content_type=LINEITEM
        )
        assert response.status_code < 500, response.content[:2000]
        if response.status_code >= 400:
            assert_refused(endpoint, response)

    run()


def test_fuzz_service_queries_with_a_valid_token(client, world):
    @FUZZ
    @given(name=st.sampled_from(["ags_lineitems", "ags_results", "nrps"]), query=queries)
    def run(name, query):
        endpoint = BY_NAME[name]
        response = call(client, world, endpoint, method="GET", query=query)
        assert response.status_code < 500, response.content[:2000]
        if response.status_code >= 400:
            assert_refused(endpoint, response)

    run()


DROP = object()


def signed_jwt(world, overrides: dict, headers: dict | None) -> str:
    """A client assertion signed with the tool's key, claims of any JSON type (PyJWT's encoder
    would refuse some; a tool's need not)."""
    claims = jwt.decode(world.tool.assertion(), options={"verify_signature": False})
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not DROP}
    header = {"kid": world.tool.kid} if headers is None else headers
    return jwt.api_jws.PyJWS().encode(
        json.dumps(claims).encode(), world.tool.private_pem, algorithm="RS256", headers=header
    )


def test_fuzz_token_endpoint_with_signed_assertions(client, world):
    """RFC 7523 client assertions signed with the tool's real key, one or several claims replaced
    by random values: an access token only for a well-formed one, otherwise an RFC 6749 error."""
    claim_values = {
        name: st.one_of(numbers, odd_text, json_values)
        for name in ("exp", "iat", "nbf", "aud", "jti", "iss", "sub")
    }
    claim_values["exp"] = st.one_of(
        numbers, st.integers(min_value=2 * 10**9, max_value=10**40), st.just(1e300)
    )

    dropped = st.sampled_from(sorted(claim_values)).map(lambda name: {name: DROP})

    @FUZZ
    @given(
        claims=st.one_of(mutations({"keep": True}, claim_values), dropped),
        scope=st.one_of(st.just("https://purl.imsglobal.org/spec/lti-ags/scope/score"), odd_text),
        headers=st.one_of(
            st.none(),
            st.fixed_dictionaries({"kid": st.one_of(st.just(world.tool.kid), odd_text)}),
            st.dictionaries(st.text(max_size=5), json_values, max_size=3),
        ),
    )
    # Found by this test: an exp far in the future overflowed the jti's expiry (500).
    @example(claims={"exp": 1e300}, scope="x", headers=None)
    @example(claims={"exp": 10**30}, scope="x", headers=None)
    @example(claims={"exp": 253402300800}, scope="x", headers=None)
    def run(claims, scope, headers):
        claims = {k: v for k, v in claims.items() if k != "keep"}
        try:
            token = signed_jwt(world, claims, headers)
        except (jwt.InvalidTokenError, TypeError, ValueError):
            assume(False)  # a header PyJWT cannot even encode
        response = client.post(
            reverse("wagtail_lti:lti13_token"),
            urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_assertion_type": JWT_BEARER,
                    "client_assertion": token,
                    "scope": scope,
                }
            ),
            content_type=FORM,
        )
        assert response.status_code in (200, 400, 401), response.content[:2000]
        if response.status_code != 200:
            check_oauth2_error(response)

    run()


def test_fuzz_authorization_requests(client, world):
    """OIDC authentication requests with random parameters, some with the tool's real client_id
    and redirect URI (then errors go back to it), from a signed-in learner."""
    client.force_login(world.learner)
    params = st.fixed_dictionaries(
        {},
        optional={
            "client_id": st.one_of(st.just(world.provider13.client_id), odd_text),
            "redirect_uri": st.one_of(st.just(REDIRECT_URI), odd_text),
            "response_type": st.one_of(st.just("id_token"), odd_text),
            "response_mode": st.one_of(st.just("form_post"), odd_text),
            "scope": st.one_of(st.just("openid"), odd_text),
            "prompt": st.one_of(st.just("none"), odd_text),
            "nonce": odd_text,
            "state": odd_text,
            "login_hint": odd_text,
            "lti_message_hint": st.one_of(odd_text, st.just("x" * 5000)),
            "wagtail_lti_repost": st.one_of(st.sampled_from(["1", "window"]), odd_text),
        },
    )

    @FUZZ
    @given(method=st.sampled_from(["GET", "POST"]), data=params)
    def run(method, data):
        clean = {k: v.replace("\x00", "") for k, v in data.items()}
        if method == "GET":
            response = client.get(reverse("wagtail_lti:lti13_authorize"), clean)
        else:
            response = client.post(
                reverse("wagtail_lti:lti13_authorize"), urlencode(clean), content_type=FORM
            )
        assert response.status_code < 500, response.content[:2000]
        check_oidc_error(response)

    run()

"""LTI 1.1 launch parameters and their OAuth 1.0a signature, checked by independent verifiers.

The verifiers act as the tool: the ``lti`` package's ``ToolProvider`` (which also refuses any
parameter name outside the LTI 1.1 vocabulary) and oauthlib's server-side
``SignatureOnlyEndpoint`` fed the exact form body a browser posts. Neither shares code with
``wagtail_lti.lti.lti11`` beyond oauthlib's primitives.
"""

from __future__ import annotations

import dataclasses
from functools import partial
from urllib.parse import urlencode

import pytest
from lti import ToolProvider
from oauthlib.oauth1 import SignatureOnlyEndpoint

from tests.support.oauth1 import ToolValidator as SharedToolValidator
from wagtail_lti.lti.context import LaunchContext, LaunchUser, PlatformInfo
from wagtail_lti.lti.lti11 import build_launch_params, custom_parameter_name, sign_launch
from wagtail_lti.lti.substitution import VARIABLES, substitute


KEY = "acme-key"
SECRET = "s3cr&t with spaces"
TOOL_URL = "https://tool.example.com/lti/launch?tenant=acme&mode=a%20b"


# The tool knows our key and secret.
ToolValidator = partial(SharedToolValidator, key=KEY, secret=SECRET)


def make_ctx(**changes) -> LaunchContext:
    ctx = LaunchContext(
        user=LaunchUser(
            id="5f2b0c9e7d",
            username="alice",
            full_name="Alice Martin",
            given_name="Alice",
            family_name="Martin",
            email="alice@example.com",
        ),
        roles=("Learner",),
        context_id="ctx-81c3",
        context_title="Safety at work",
        context_label="SAF-101",
        resource_link_id="rl-7f1e",
        resource_link_title="Fire drill quiz",
        resource_link_description="Ten questions",
        target_url=TOOL_URL,
        platform=PlatformInfo(
            guid="learn.example.com",
            name="Acme Learning",
            description="Acme's training site",
            url="https://learn.example.com/",
            contact_email="lti-admin@example.com",
            version="0.1.0",
        ),
        custom={"custom_color": "blue", "custom_uid": "$User.id"},
        document_target="iframe",
        locale="fr-FR",
        return_url="https://learn.example.com/lti/return/rl-7f1e/?page=3",
        width=900,
        height=600,
    )
    return dataclasses.replace(ctx, **changes)


def signed_for(ctx: LaunchContext, **kwargs) -> dict[str, str]:
    return sign_launch(ctx.target_url, build_launch_params(ctx, **kwargs), KEY, SECRET)


def tool_provider(signed: dict[str, str], url: str = TOOL_URL) -> ToolProvider:
    return ToolProvider.from_unpacked_request(SECRET, dict(signed), url, {})


def test_lti_tool_provider_accepts_the_launch():
    """LTI 1.1 §4 / RFC 5849: HMAC-SHA1 over body + query parameters, key ``secret&``."""
    ctx = make_ctx()
    tp = tool_provider(signed_for(ctx))
    assert tp.is_valid_request(ToolValidator())
    assert tp.is_launch_request()
    assert tp.is_student() and not tp.is_instructor()
    assert tp.resource_link_id == "rl-7f1e"
    assert tp.user_id == "5f2b0c9e7d"
    assert tp.lis_person_name_full == "Alice Martin"
    assert tp.context_title == "Safety at work"
    assert tp.launch_presentation_return_url == ctx.return_url


def test_oauthlib_endpoint_accepts_the_form_post_and_refuses_a_changed_one():
    """The exact body the auto-submitting form posts, verified by oauthlib's server side."""
    signed = signed_for(make_ctx())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    endpoint = SignatureOnlyEndpoint(ToolValidator())
    valid, _ = endpoint.validate_request(TOOL_URL, "POST", urlencode(signed), headers)
    assert valid

    tampered = dict(signed, roles="Instructor")
    fresh = SignatureOnlyEndpoint(ToolValidator())
    assert not fresh.validate_request(TOOL_URL, "POST", urlencode(tampered), headers)[0]

    wrong_secret = SignatureOnlyEndpoint(ToolValidator(secret="another"))
    assert not wrong_secret.validate_request(TOOL_URL, "POST", urlencode(signed), headers)[0]


def test_query_parameters_of_the_launch_url_are_part_of_the_signature():
    """RFC 5849 §3.4.1.3.1: the tool sees the query string; dropping or changing it breaks it."""
    signed = signed_for(make_ctx())
    assert tool_provider(signed).is_valid_request(ToolValidator())
    without_query = TOOL_URL.split("?")[0]
    assert not tool_provider(signed, without_query).is_valid_request(ToolValidator())
    changed = TOOL_URL.replace("tenant=acme", "tenant=evil")
    assert not tool_provider(signed, changed).is_valid_request(ToolValidator())


def test_a_replayed_launch_is_refused_by_a_tool_that_tracks_nonces():
    signed = signed_for(make_ctx())
    validator = ToolValidator()
    assert tool_provider(signed).is_valid_request(validator)
    assert not tool_provider(signed).is_valid_request(validator)


def test_oauth_protocol_parameters():
    signed = signed_for(make_ctx())
    assert signed["oauth_consumer_key"] == KEY
    assert signed["oauth_signature_method"] == "HMAC-SHA1"
    assert signed["oauth_version"] == "1.0"
    assert signed["oauth_callback"] == "about:blank"
    assert signed["oauth_timestamp"].isdigit()
    assert signed["oauth_nonce"] != signed_for(make_ctx())["oauth_nonce"]


def test_every_required_and_recommended_parameter_is_sent():
    """Checklist §1 (LTI 1.1 Implementation Guide §B): required + recommended parameters."""
    params = build_launch_params(make_ctx())
    assert params["lti_message_type"] == "basic-lti-launch-request"
    assert params["lti_version"] == "LTI-1p0"
    assert params["resource_link_id"] == "rl-7f1e"
    assert params["resource_link_title"] == "Fire drill quiz"
    assert params["resource_link_description"] == "Ten questions"
    assert params["user_id"] == "5f2b0c9e7d"
    assert params["roles"] == "Learner"
    assert params["lis_person_name_full"] == "Alice Martin"
    assert params["lis_person_name_given"] == "Alice"
    assert params["lis_person_name_family"] == "Martin"
    assert params["lis_person_contact_email_primary"] == "alice@example.com"
    assert params["context_id"] == "ctx-81c3"
    assert params["context_type"] == "CourseOffering"
    assert params["context_title"] == "Safety at work"
    assert params["context_label"] == "SAF-101"
    assert params["launch_presentation_document_target"] == "iframe"
    assert params["launch_presentation_locale"] == "fr-FR"
    assert params["launch_presentation_return_url"] == make_ctx().return_url
    assert params["launch_presentation_width"] == "900"
    assert params["launch_presentation_height"] == "600"
    assert params["tool_consumer_info_product_family_code"] == "wagtail-lti"
    assert params["tool_consumer_info_version"] == "0.1.0"
    assert params["tool_consumer_instance_guid"] == "learn.example.com"
    assert params["tool_consumer_instance_name"] == "Acme Learning"
    assert params["tool_consumer_instance_description"] == "Acme's training site"
    assert params["tool_consumer_instance_url"] == "https://learn.example.com/"
    assert params["tool_consumer_instance_contact_email"] == "lti-admin@example.com"
    assert "lis_outcome_service_url" not in params
    assert "lis_result_sourcedid" not in params
    assert all(isinstance(v, str) for v in params.values())


def test_instructor_role_and_window_target():
    ctx = make_ctx(roles=("Instructor",), document_target="window", width=None, height=None)
    signed = signed_for(ctx)
    tp = tool_provider(signed)
    assert tp.is_valid_request(ToolValidator())
    assert tp.is_instructor() and not tp.is_student()
    assert signed["launch_presentation_document_target"] == "window"
    assert "launch_presentation_width" not in signed


def test_privacy_no_name_or_email_when_the_context_has_none():
    """Privacy: a provider that may not receive the name/email gets no lis_person_* at all, and
    a custom parameter cannot ask for them either (the variable is passed through unchanged)."""
    ctx = make_ctx(
        user=LaunchUser(id="5f2b0c9e7d"),
        custom={
            "custom_name": "$Person.name.full",
            "custom_given": "$Person.name.given",
            "custom_family": "$Person.name.family",
            "custom_mail": "$Person.email.primary",
            "custom_login": "$User.username",
        },
    )
    signed = signed_for(ctx)
    tp = tool_provider(signed)
    assert tp.is_valid_request(ToolValidator())
    assert not [name for name in signed if name.startswith("lis_person")]
    assert "alice" not in urlencode(signed).lower()
    assert signed["custom_name"] == "$Person.name.full"
    assert signed["custom_given"] == "$Person.name.given"
    assert signed["custom_family"] == "$Person.name.family"
    assert signed["custom_mail"] == "$Person.email.primary"
    assert signed["custom_login"] == "$User.username"
    assert signed["user_id"] == "5f2b0c9e7d"


def test_name_without_email():
    ctx = make_ctx(user=dataclasses.replace(make_ctx().user, email=""))
    params = build_launch_params(ctx)
    assert params["lis_person_name_full"] == "Alice Martin"
    assert "lis_person_contact_email_primary" not in params


def test_custom_parameters_are_merged_and_substituted():
    """Every supported variable (LTI Core App. B); unknown ones pass through unchanged."""
    custom = {
        "custom_uid": "$User.id",
        "custom_login": "$User.username",
        "custom_full": "$Person.name.full",
        "custom_given": "$Person.name.given",
        "custom_family": "$Person.name.family",
        "custom_mail": "$Person.email.primary",
        "custom_course": "$Context.id",
        "custom_course_title": "$Context.title",
        "custom_link": "$ResourceLink.id",
        "custom_link_title": "$ResourceLink.title",
        "custom_role": "$Membership.role",
        "custom_link_history": "$ResourceLink.id.history",
        "custom_course_history": "$Context.id.history",
        "custom_unknown": "$Canvas.user.id",
        "custom_vendor": "$com.example.Foo.bar",
        "custom_embedded": "id=$User.id",
        "custom_plain": "some value = 1",
        "custom_spaced": " $Context.id ",
    }
    signed = signed_for(make_ctx(custom=custom))
    tp = tool_provider(signed)
    assert tp.is_valid_request(ToolValidator())
    assert tp.get_custom_param("uid") == "5f2b0c9e7d"
    expected = {
        "custom_uid": "5f2b0c9e7d",
        "custom_login": "alice",
        "custom_full": "Alice Martin",
        "custom_given": "Alice",
        "custom_family": "Martin",
        "custom_mail": "alice@example.com",
        "custom_course": "ctx-81c3",
        "custom_course_title": "Safety at work",
        "custom_link": "rl-7f1e",
        "custom_link_title": "Fire drill quiz",
        "custom_role": "Learner",
        "custom_link_history": "",  # not a copy: the spec's empty value
        "custom_course_history": "",
        "custom_unknown": "$Canvas.user.id",
        "custom_vendor": "$com.example.Foo.bar",
        "custom_embedded": "id=$User.id",
        "custom_plain": "some value = 1",
        "custom_spaced": "ctx-81c3",
    }
    assert {k: v for k, v in signed.items() if k.startswith("custom_")} == expected
    assert (
        len(VARIABLES) == 17
    )  # the four window variables ($ResourceLink.available.*, .submission.*)


def test_membership_role_in_lti13_vocabulary():
    ctx = make_ctx(roles=("Instructor",))
    out = substitute({"custom_role": "$Membership.role"}, ctx, lti_version="1.3")
    assert out == {"custom_role": "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"}


def test_custom_parameter_names_follow_the_lti11_mapping():
    """LTI 1.1 §B.5: lower-case, every character outside [a-z0-9] becomes ``_``."""
    assert custom_parameter_name("custom_Review-Chapter") == "custom_review_chapter"
    assert custom_parameter_name("Chapter.One") == "custom_chapter_one"
    params = build_launch_params(make_ctx(custom={"custom_Max Attempts": "3"}))
    assert params["custom_max_attempts"] == "3"


def test_outcome_parameters_only_when_given():
    params = build_launch_params(
        make_ctx(),
        outcome_service_url="https://learn.example.com/lti/1.1/outcomes/",
        result_sourcedid="opaque-value",
    )
    assert params["lis_outcome_service_url"] == "https://learn.example.com/lti/1.1/outcomes/"
    assert params["lis_result_sourcedid"] == "opaque-value"
    tp = tool_provider(sign_launch(TOOL_URL, params, KEY, SECRET))
    assert tp.is_valid_request(ToolValidator())
    assert tp.is_outcome_service()
    with pytest.raises(ValueError):
        build_launch_params(make_ctx(), outcome_service_url="https://x.example/")


def test_non_ascii_values_are_signed_correctly():
    ctx = make_ctx(
        context_title="Sécurité & santé — 日本語",
        custom={"custom_note": "a+b=c&d %20 é"},
    )
    signed = signed_for(ctx)
    assert tool_provider(signed).is_valid_request(ToolValidator())
    endpoint = SignatureOnlyEndpoint(ToolValidator())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert endpoint.validate_request(TOOL_URL, "POST", urlencode(signed), headers)[0]


def test_sign_launch_refuses_oauth_names_in_params():
    with pytest.raises(ValueError):
        sign_launch(TOOL_URL, {"oauth_signature": "x"}, KEY, SECRET)

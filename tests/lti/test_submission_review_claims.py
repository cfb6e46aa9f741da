"""Submission Review 1.0, the protocol core: the ``for_user`` claim and the review's custom
parameters (``lti/submission_review.py``), and the message in a signed id_token
(``lti/lti13.py: build_id_token_claims``), read back with PyJWT as a tool reads it.

Spec sections cited: LTI Submission Review Service 1.0, "LtiSubmissionReviewRequest" (``for_user``:
``user_id`` required, the person's names and email, ``roles``; ``custom``: the line item's
declaration merged with the resource link's).
"""

from __future__ import annotations

import time

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from wagtail_lti.lti.context import LaunchContext, LaunchUser, PlatformInfo
from wagtail_lti.lti.lti13 import (
    AGS_ENDPOINT_CLAIM,
    LTI_CLAIM,
    build_id_token_claims,
    sign_id_token,
)
from wagtail_lti.lti.submission_review import (
    FOR_USER_CLAIM,
    SUBMISSION_REVIEW_REQUEST,
    for_user_claim,
    review_custom,
)


LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


def test_for_user_has_the_id_always_and_the_person_only_as_given():
    bare = LaunchUser(id="u-1")
    assert for_user_claim(bare, ["Learner"]) == {"user_id": "u-1", "roles": [LEARNER]}
    full = LaunchUser(
        id="u-1", full_name="Lena Lind", given_name="Lena", family_name="Lind", email="l@x.org"
    )
    assert for_user_claim(full, [LEARNER]) == {
        "user_id": "u-1",
        "given_name": "Lena",
        "family_name": "Lind",
        "name": "Lena Lind",
        "email": "l@x.org",
        "roles": [LEARNER],
    }


def test_the_declarations_custom_wins_over_the_links_whatever_the_prefix():
    base = {"custom_unit": "3", "custom_level": "beginner", "plain": "1"}
    merged = review_custom(base, {"custom": {"level": "expert", "action": "review"}})
    assert merged == {"custom_unit": "3", "plain": "1", "level": "expert", "action": "review"}
    assert review_custom(base, None) == base
    assert review_custom(base, {"reviewableStatus": []}) == base


def test_a_review_message_signed_and_read_back_with_pyjwt():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ctx = LaunchContext(
        user=LaunchUser(id="reviewer-9"),
        roles=("Instructor",),
        context_id="ctx-1",
        context_title="Writing",
        context_label="WRI-1",
        resource_link_id="rl-1",
        resource_link_title="Essay",
        resource_link_description="",
        target_url="https://tool.example/review",
        platform=PlatformInfo(guid="example.org", name="Example"),
        custom=review_custom({"custom_unit": "3"}, {"custom": {"action": "review"}}),
        document_target="window",
    )
    extra = {
        FOR_USER_CLAIM: for_user_claim(LaunchUser(id="learner-1"), ["Learner"]),
        AGS_ENDPOINT_CLAIM: {"scope": [], "lineitem": "https://p.example/li/1"},
    }
    claims = build_id_token_claims(
        ctx,
        issuer="https://p.example",
        client_id="c",
        deployment_id="d",
        nonce="n",
        message_type=SUBMISSION_REVIEW_REQUEST,
        extra=extra,
        now=int(time.time()),
        ttl=300,
        iat_backdate=5,
    )
    token = sign_id_token(claims, "k1", key)
    read = jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="c")
    assert read[LTI_CLAIM + "message_type"] == "LtiSubmissionReviewRequest"
    assert read["sub"] == "reviewer-9"
    assert read[FOR_USER_CLAIM] == {"user_id": "learner-1", "roles": [LEARNER]}
    assert read[AGS_ENDPOINT_CLAIM]["lineitem"] == "https://p.example/li/1"
    assert read[LTI_CLAIM + "resource_link"] == {"id": "rl-1", "title": "Essay"}
    assert read[LTI_CLAIM + "context"]["id"] == "ctx-1"
    assert read[LTI_CLAIM + "target_link_uri"] == "https://tool.example/review"
    assert read[LTI_CLAIM + "custom"] == {"unit": "3", "action": "review"}

"""The pure parts of Deep Linking 2.0 and Content-Item: settings claim, response and item reading.

Deep Linking 2.0 §4.4 (settings), §4.5 (response), §3.2 (ltiResourceLink); Content-Item Message 1.0
§4 (ContentItemSelection), §5 (LtiLinkItem, lineItem score constraints).
"""

from __future__ import annotations

import json

import pytest

from wagtail_lti.lti import content_item, deep_linking
from wagtail_lti.lti.deep_linking import (
    CONTENT_ITEMS_CLAIM,
    DATA_CLAIM,
    DL_CLAIM,
    LTI_CLAIM,
    DeepLinkingError,
)


def response_claims(items, **changes):
    claims = {
        "nonce": "n-1",
        LTI_CLAIM + "message_type": "LtiDeepLinkingResponse",
        LTI_CLAIM + "version": "1.3.0",
        LTI_CLAIM + "deployment_id": "dep",
        DATA_CLAIM: "data-1",
        CONTENT_ITEMS_CLAIM: items,
    }
    claims.update(changes)
    return claims


def test_settings_claim_accepts_resource_links_only():
    settings = deep_linking.deep_linking_settings(
        return_url="https://lms.example/lti/1.3/deep-linking/return/", data="abc", title="T"
    )
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_multiple"] is True and settings["data"] == "abc"
    assert "text" not in settings
    with pytest.raises(ValueError):
        deep_linking.deep_linking_settings(return_url="", data="abc")


def test_item_fields_are_read_and_checked():
    answer = deep_linking.read_response(
        response_claims(
            [
                {
                    "type": "ltiResourceLink",
                    "title": "  Quiz  ",
                    "url": "https://tool.example/q",
                    "custom": {"n": 3, "flag": True, "s": "x"},
                    "lineItem": {"label": "Quiz score", "scoreMaximum": "12.5"},
                    "window": {"targetName": "x"},
                },
                {
                    "type": "ltiResourceLink",
                    "lineItem": {"label": "Only a label", "scoreMaximum": 1},
                },
            ]
        ),
        deployment_id="dep",
    )
    quiz, labelled = answer.items
    assert quiz.title == "Quiz" and quiz.custom == {"n": "3", "flag": "true", "s": "x"}
    assert quiz.score_maximum == 12.5 and quiz.open_in == "window"
    assert labelled.name == "Only a label"
    assert (answer.nonce, answer.data) == ("n-1", "data-1")


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"type": "ltiResourceLink"}, "has no title"),
        ({"type": "ltiResourceLink", "title": 3}, "not text"),
        ({"type": "ltiResourceLink", "title": "x", "custom": ["a"]}, "not a JSON object"),
        ({"type": "ltiResourceLink", "title": "x", "custom": {"a": {"b": 1}}}, "not text"),
        ({"type": "ltiResourceLink", "title": "x", "custom": {"a": "1\n2"}}, "several lines"),
        ({"type": "ltiResourceLink", "title": "x", "lineItem": {"scoreMaximum": -1}}, "greater"),
        ({"type": "ltiResourceLink", "title": "x", "lineItem": {}}, "greater than zero"),
        ({"type": "ltiResourceLink", "title": "x", "url": "ftp://t/x"}, "http(s)"),
        ({"type": "image", "url": "https://t/x.png"}, "type “image”"),
        ("not an object", "not a JSON object"),
    ],
)
def test_bad_items_refuse_the_whole_answer(item, message):
    with pytest.raises(DeepLinkingError, match=message.replace("(", r"\(").replace(")", r"\)")):
        deep_linking.read_response(
            response_claims([{"type": "ltiResourceLink", "title": "ok"}, item]),
            deployment_id="dep",
        )


def test_too_many_items_and_single_item_requests():
    items = [{"type": "ltiResourceLink", "title": f"{n}"} for n in range(3)]
    with pytest.raises(DeepLinkingError, match="at most 2"):
        deep_linking.read_response(response_claims(items), deployment_id="dep", max_items=2)
    with pytest.raises(DeepLinkingError, match="only one"):
        deep_linking.read_response(
            response_claims(items), deployment_id="dep", accept_multiple=False
        )


def test_messages_are_read_leniently():
    answer = deep_linking.read_response(
        response_claims(
            None,
            **{DL_CLAIM + "msg": " Done ", DL_CLAIM + "errormsg ": "Oops", DL_CLAIM + "log": 5},
        ),
        deployment_id="dep",
    )
    assert (answer.msg, answer.errormsg, answer.log, answer.items) == ("Done", "Oops", "", [])


def test_audience_precheck():
    assert deep_linking.unverified_audience_matches({"aud": ["a", "b"]}, "b")
    assert deep_linking.unverified_audience_matches({"aud": "b"}, "b")
    assert not deep_linking.unverified_audience_matches({"aud": ["a"]}, "b")
    assert not deep_linking.unverified_audience_matches({}, "b")


def test_custom_text_form():
    assert (
        deep_linking.custom_parameters_text({"a": "1", "b_2": "x=y"})
        == "custom_a=1\ncustom_b_2=x=y"
    )


# --- Content-Item -------------------------------------------------------------------------------


def selection(graph, **extra):
    params = {
        "lti_message_type": "ContentItemSelection",
        "lti_version": "LTI-1p0",
        "data": "d",
        "content_items": json.dumps({"@context": content_item.CONTEXT_URL, "@graph": graph}),
    }
    params.update(extra)
    return params


@pytest.mark.parametrize(
    ("constraints", "maximum"),
    [
        ({"normalMaximum": 10}, 10),
        ({"normalMaximum": 10, "extraCreditMaximum": 2}, 12),
        ({"normalMaximum": 10, "totalMaximum": 15}, 15),
        (None, 1.0),
    ],
)
def test_line_item_score_constraints(constraints, maximum):
    line_item = {"@type": "LineItem", "label": "L"}
    if constraints is not None:
        line_item["scoreConstraints"] = {"@type": "NumericLimits", **constraints}
    answer = content_item.read_selection(
        selection([{"@type": "LtiLinkItem", "title": "T", "lineItem": line_item}])
    )
    assert answer.items[0].score_maximum == maximum


def test_content_item_link_without_media_type_and_generic_content_item_of_ltilink():
    answer = content_item.read_selection(
        selection(
            [
                {"@type": "LtiLinkItem", "title": "A"},
                {
                    "@type": "ContentItem",
                    "mediaType": content_item.LTI_LINK_MEDIA_TYPE,
                    "title": "B",
                },
            ]
        )
    )
    assert [item.title for item in answer.items] == ["A", "B"]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lti_version": "LTI-2p0"}, "LTI version"),
        ({"data": ""}, "does not echo"),
        ({"content_items": "[]"}, "not a JSON object"),
        ({"content_items": '{"@graph": {}}'}, "not a list"),
    ],
)
def test_bad_selections(params, message):
    with pytest.raises(content_item.ContentItemError, match=message):
        content_item.read_selection(selection([], **params))


def test_unknown_presentation_target_is_refused():
    with pytest.raises(content_item.ContentItemError, match="“none”"):
        content_item.read_selection(
            selection(
                [
                    {
                        "@type": "LtiLinkItem",
                        "title": "T",
                        "placementAdvice": {"presentationDocumentTarget": "none"},
                    }
                ]
            )
        )


def test_no_content_items_is_an_empty_selection():
    params = selection([])
    del params["content_items"]
    assert content_item.read_selection(params).items == []

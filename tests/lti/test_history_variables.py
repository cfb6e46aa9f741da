"""``$ResourceLink.id.history`` and ``$Context.id.history`` in the pure core (``lti/substitution.py``).

LTI Core 1.3, custom property substitution (#customproperty) ("ResourceLink.id.history", "Context.id.history"): a comma-separated list
of the URL-encoded ids of the resource link's / context's previous copies, the most recent first;
a link first added to this context, or a context created from scratch, has an **empty value** (so
these two are substituted even when empty, unlike the privacy-guarded variables). The same
variables for LTI 1.1 custom parameters (Implementation Guide §B).
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from tests.lti.test_lti13_oidc import claims_for, make_ctx
from wagtail_lti.courses.copies import history_of
from wagtail_lti.lti.lti11 import build_launch_params
from wagtail_lti.lti.lti13 import LTI_CLAIM
from wagtail_lti.lti.substitution import VARIABLES, substitute


CUSTOM = {
    "custom_link_history": "$ResourceLink.id.history",
    "custom_context_history": " $Context.id.history ",
    "custom_mail": "$Person.email.primary",
}


def test_both_variables_are_supported():
    assert {"$ResourceLink.id.history", "$Context.id.history"} <= set(VARIABLES)


def test_history_values_are_substituted_in_both_versions():
    ctx = make_ctx(resource_link_id_history="rl-b,rl-a", context_id_history="ctx-b,ctx-a")
    for version in ("1.1", "1.3"):
        values = substitute(CUSTOM, ctx, lti_version=version)
        assert values["custom_link_history"] == "rl-b,rl-a"
        assert values["custom_context_history"] == "ctx-b,ctx-a"


def test_not_a_copy_gives_an_empty_value_not_the_variable_name():
    values = substitute(CUSTOM, make_ctx(user=make_ctx().user.__class__(id="u")))
    assert values["custom_link_history"] == ""
    assert values["custom_context_history"] == ""
    # Privacy-guarded variables without a value still pass through unchanged.
    assert values["custom_mail"] == "$Person.email.primary"


def test_the_lti13_custom_claim_carries_the_history():
    ctx = make_ctx(custom=CUSTOM, resource_link_id_history="rl-b", context_id_history="")
    custom = claims_for(ctx)[LTI_CLAIM + "custom"]
    assert custom["link_history"] == "rl-b"
    assert custom["context_history"] == ""
    # The claims themselves carry the copy's own ids (LTI Core 1.3 §5.4.1, §5.4.2 define no
    # history member).
    claims = claims_for(ctx)
    assert claims[LTI_CLAIM + "resource_link"]["id"] == ctx.resource_link_id
    assert claims[LTI_CLAIM + "context"]["id"] == ctx.context_id


def test_the_lti11_form_carries_the_history():
    ctx = make_ctx(custom=CUSTOM, resource_link_id_history="rl-b,rl-a")
    params = build_launch_params(ctx)
    assert params["custom_link_history"] == "rl-b,rl-a"
    assert params["custom_context_history"] == ""


def test_history_ids_are_url_encoded_most_recent_first():
    assert history_of("a,b c", "older") == "a%2Cb%20c,older"
    assert history_of("x") == "x"
    assert parse_qsl("v=" + history_of("p", history_of("q")))[0][1] == "p,q"

"""A Deep Linking request to a tool moved from LTI 1.1 carries the ``lti1p1`` claim (LTI 1.3
Core, LTI 1.1 migration claim): the editor's LTI 1.1 ``user_id``, the LTI 1.1 key and its
signature, verified by the tool's check written from the spec; PyLTI1p3 validates the request.
"""

from __future__ import annotations

import pytest

from tests.content_selection.test_deep_linking import (  # noqa: F401 - fixtures
    deep_linking_launch,
    tool_keys,
    world,
)
from tests.support.migration import LTI1P1, tool_verifies_lti1p1
from wagtail_lti.security.identifiers import opaque_user_id


pytestmark = pytest.mark.django_db


def test_a_deep_linking_request_to_a_moved_tool_carries_the_signed_claim(world):  # noqa: F811
    provider = world.provider
    provider.consumer_key = "content-lti11-key"
    provider.secret = "content-lti11-secret"
    provider.save()
    assert provider.moved_from_lti11

    launched = deep_linking_launch(world)
    data = launched.message_launch.get_launch_data()
    assert launched.message_launch.is_deep_link_launch()
    claim = data[LTI1P1]
    assert tool_verifies_lti1p1(data, lti11_keys={"content-lti11-key": "content-lti11-secret"})
    assert claim["user_id"] == opaque_user_id(world.editor) == data["sub"]
    assert "resource_link_id" not in claim and "context_id" not in claim


def test_no_claim_for_a_tool_that_never_used_lti11(world):  # noqa: F811
    launched = deep_linking_launch(world)
    assert LTI1P1 not in launched.message_launch.get_launch_data()

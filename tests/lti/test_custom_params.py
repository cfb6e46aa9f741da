"""Custom parameters, exactly as the setup guide describes them."""

import pytest

from wagtail_lti.lti.custom_params import merge_custom_parameters, parse_custom_parameters
from wagtail_lti.lti.errors import CustomParameterError


def test_parses_lines_and_keeps_values_verbatim():
    text = "custom_value_1=some value with 1\n\n  \ncustom_query=a=b&c=d \n"
    assert parse_custom_parameters(text) == {
        "custom_value_1": "some value with 1",
        "custom_query": "a=b&c=d ",
    }


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("custom_ok=1\nnot a parameter", 2, "has no “=”"),
        ("value_1=x", 1, "must start with “custom_”"),
        ("custom_CamelCase=x", 1, "snake case"),
        ("custom_a=1\ncustom_a=2", 2, "more than once"),
        ("custom_=x", 1, "not a valid name"),
    ],
)
def test_bad_lines_are_refused_with_their_number(text, line, fragment):
    with pytest.raises(CustomParameterError) as info:
        parse_custom_parameters(text)
    numbers = [n for n, _ in info.value.errors]
    assert line in numbers
    assert fragment in str(info.value)


def test_link_wins_over_provider():
    merged = merge_custom_parameters({"custom_a": "p", "custom_b": "p"}, {"custom_b": "l"})
    assert merged == {"custom_a": "p", "custom_b": "l"}

"""Every content item type a tool can return (Deep Linking 2.0 §3, Content-Item 1.0 §5), what each
place of the platform asks for, and the items refused for the place."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from wagtail_lti.lti import content_item, content_items, deep_linking
from wagtail_lti.lti.content_items import FileItem, HtmlItem, ImageItem, LinkItem
from wagtail_lti.lti.deep_linking import DeepLinkingError, ResourceLinkItem

from .test_content_selection_messages import response_claims, selection


RICH = content_items.rich_text(["application/pdf"])
BLOCK = content_items.block(["application/pdf"])


# --- What each place asks for ----------------------------------------------------------------------


def test_resource_links_place_is_the_default_request():
    settings = deep_linking.deep_linking_settings(return_url="https://lms/r", data="d")
    assert settings["accept_types"] == ["ltiResourceLink"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window"]
    assert "accept_media_types" not in settings


def test_rich_text_place_asks_for_every_type_and_the_file_media_types():
    settings = deep_linking.deep_linking_settings(return_url="https://lms/r", data="d", place=RICH)
    assert settings["accept_types"] == ["ltiResourceLink", "link", "html", "image", "file"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window", "embed"]
    assert settings["accept_media_types"] == "application/pdf"
    assert settings["accept_multiple"] is True and settings["auto_create"] is True


def test_without_file_media_types_no_file_is_asked_for():
    settings = deep_linking.deep_linking_settings(
        return_url="https://lms/r", data="d", place=content_items.rich_text()
    )
    assert "file" not in settings["accept_types"]
    assert "accept_media_types" not in settings


def test_block_place_asks_for_one_item():
    settings = deep_linking.deep_linking_settings(return_url="https://lms/r", data="d", place=BLOCK)
    assert settings["accept_multiple"] is False


def test_content_item_request_says_what_the_place_takes():
    from wagtail_lti.lti.context import LaunchContext, LaunchUser, PlatformInfo

    ctx = LaunchContext(
        user=LaunchUser(id="u"),
        roles=("Instructor",),
        context_id="",
        context_title="",
        context_label="",
        resource_link_id="",
        resource_link_title="",
        resource_link_description="",
        target_url="https://tool/ci",
        platform=PlatformInfo(guid="g", name="P"),
    )
    params = content_item.build_request_params(
        ctx, return_url="https://lms/r", data="d", place=BLOCK
    )
    assert params["accept_media_types"] == (
        "application/vnd.ims.lti.v1.ltilink,text/html,image/*,application/pdf"
    )
    assert params["accept_presentation_document_targets"] == "iframe,window,embed"
    assert params["accept_multiple"] == "false"
    plain = content_item.build_request_params(ctx, return_url="https://lms/r", data="d")
    assert plain["accept_media_types"] == "application/vnd.ims.lti.v1.ltilink"


@pytest.mark.parametrize(
    ("media_type", "patterns", "expected"),
    [
        ("image/png", ["image/*"], True),
        ("IMAGE/PNG; q=1", ["image/*"], True),
        ("application/pdf", ["image/*"], False),
        ("application/pdf", ["application/pdf"], True),
        ("pdf", ["*/*"], False),
    ],
)
def test_media_type_matching(media_type, patterns, expected):
    assert content_items.media_type_matches(media_type, patterns) is expected


# --- Deep Linking 2.0 items ----------------------------------------------------------------------


def dl_items(*items, place=RICH):
    return deep_linking.read_response(
        response_claims(list(items)), deployment_id="dep", place=place
    ).items


def test_dl_link_item_with_icon_thumbnail_embed_and_window():
    (item,) = dl_items(
        {
            "type": "link",
            "url": "https://video.example/v/1",
            "title": "Video",
            "text": "A video",
            "icon": {"url": "https://video.example/i.png", "width": 16, "height": 16},
            "thumbnail": {"url": "https://video.example/t.png", "width": 90, "height": 90},
            "embed": {"html": "<iframe src='https://video.example/e/1'></iframe>"},
            "window": {"targetName": "v", "width": 800, "height": 600},
        }
    )
    assert isinstance(item, LinkItem)
    assert item.url == "https://video.example/v/1" and item.title == "Video"
    assert item.icon.width == 16 and item.thumbnail.url == "https://video.example/t.png"
    assert "iframe" in item.embed_html
    assert (item.target, item.width, item.height) == ("window", 800, 600)


def test_dl_link_with_iframe_and_plain_link():
    framed, plain = dl_items(
        {"type": "link", "url": "https://a.example/", "iframe": {"width": 640, "height": 360}},
        {"type": "link", "url": "https://b.example/"},
    )
    assert (framed.target, framed.width) == ("iframe", 640)
    assert plain.target == "" and plain.embed_html == ""


def test_dl_html_image_and_file_items():
    html, image, file = dl_items(
        {"type": "html", "html": "<p>Hi</p>", "title": "Snippet"},
        {"type": "image", "url": "https://img.example/a.png", "width": 300, "height": 200},
        {
            "type": "file",
            "url": "https://files.example/a.pdf",
            "mediaType": "application/pdf",
            "expiresAt": "2030-01-02T03:04:05Z",
        },
    )
    assert html == HtmlItem(html="<p>Hi</p>", title="Snippet")
    assert isinstance(image, ImageItem) and (image.width, image.height) == (300, 200)
    assert isinstance(file, FileItem)
    assert file.expires_at == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_dl_resource_link_items_are_read_as_before_in_every_place():
    (item,) = dl_items({"type": "ltiResourceLink", "title": "Quiz"})
    assert isinstance(item, ResourceLinkItem) and item.title == "Quiz"


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"type": "link"}, "has no URL"),
        ({"type": "link", "url": "javascript:alert(1)"}, "not an http"),
        ({"type": "image", "url": "ftp://x/y.png"}, "not an http"),
        ({"type": "html"}, "without HTML"),
        ({"type": "html", "html": 5}, "not text"),
        ({"type": "image", "url": "https://i/a.png", "width": -3}, "out of range"),
        ({"type": "image", "url": "https://i/a.png", "width": "wide"}, "not a number"),
        (
            {"type": "file", "url": "https://f/a.exe", "mediaType": "application/x-msdownload"},
            "cannot be added here",
        ),
        ({"type": "file", "url": "https://f/a.pdf", "expiresAt": "soon"}, "not a date"),
        ({"type": "link", "url": "https://l/", "icon": "x"}, "not a JSON object"),
        ({"type": "quiz"}, "“quiz”"),
    ],
)
def test_dl_items_refused(item, message):
    with pytest.raises(DeepLinkingError, match=message):
        dl_items(item)


def test_dl_wrong_type_for_the_place_is_refused():
    with pytest.raises(DeepLinkingError, match="“html”"):
        dl_items({"type": "html", "html": "<p>x</p>"}, place=content_items.RESOURCE_LINKS)
    with pytest.raises(DeepLinkingError, match="“file”"):
        dl_items({"type": "file", "url": "https://f/a.pdf"}, place=content_items.rich_text())


def test_dl_block_takes_one_item():
    with pytest.raises(DeepLinkingError, match="only one"):
        dl_items({"type": "html", "html": "a"}, {"type": "html", "html": "b"}, place=BLOCK)


# --- Content-Item 1.0 items -------------------------------------------------------------------------


def ci_items(*items, place=RICH):
    return content_item.read_selection(selection(list(items)), place=place).items


def test_ci_content_items_of_each_kind():
    link, image, html, file, lti = ci_items(
        {
            "@type": "ContentItem",
            "mediaType": "text/html",
            "url": "https://site.example/page",
            "title": "Page",
            "icon": {"@id": "https://site.example/i.png", "width": 16, "height": 16},
            "placementAdvice": {"presentationDocumentTarget": "window"},
        },
        {
            "@type": "ContentItem",
            "mediaType": "image/png",
            "url": "https://img.example/a.png",
            "placementAdvice": {
                "presentationDocumentTarget": "embed",
                "displayWidth": 320,
                "displayHeight": 240,
            },
        },
        {
            "@type": "ContentItem",
            "mediaType": "text/html",
            "text": "<p>Embedded</p>",
            "placementAdvice": {"presentationDocumentTarget": "embed"},
        },
        {
            "@type": "FileItem",
            "mediaType": "application/pdf",
            "url": "https://files.example/a.pdf",
            "expiresAt": "2030-01-01T00:00:00+01:00",
        },
        {"@type": "LtiLinkItem", "mediaType": content_item.LTI_LINK_MEDIA_TYPE, "title": "Quiz"},
    )
    assert isinstance(link, LinkItem) and link.target == "window" and link.icon.width == 16
    assert isinstance(image, ImageItem) and (image.width, image.height) == (320, 240)
    assert html == HtmlItem(html="<p>Embedded</p>")
    assert isinstance(file, FileItem) and file.expires_at.utcoffset().total_seconds() == 3600
    assert isinstance(lti, ResourceLinkItem)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"@type": "ContentItem", "mediaType": "video/mp4", "url": "https://v/a.mp4"}, "video/mp4"),
        ({"@type": "FileItem", "mediaType": "application/zip", "url": "https://f/a.zip"}, "zip"),
        ({"@type": "ContentItem", "mediaType": "image/png"}, "has no URL"),
        (
            {
                "@type": "ContentItem",
                "mediaType": "text/html",
                "placementAdvice": {"presentationDocumentTarget": "embed"},
            },
            "without HTML",
        ),
        (
            {
                "@type": "ContentItem",
                "mediaType": "text/html",
                "url": "https://a/",
                "placementAdvice": {"presentationDocumentTarget": "none"},
            },
            "“none”",
        ),
    ],
)
def test_ci_items_refused(item, message):
    with pytest.raises(content_item.ContentItemError, match=message):
        ci_items(item)


def test_ci_non_lti_items_are_refused_where_only_links_go():
    with pytest.raises(content_item.ContentItemError, match="only LTI links"):
        content_item.read_selection(
            selection([{"@type": "ContentItem", "mediaType": "image/png", "url": "https://i/"}])
        )


def test_ci_block_takes_one_item():
    items = [{"@type": "LtiLinkItem", "title": "A"}, {"@type": "LtiLinkItem", "title": "B"}]
    with pytest.raises(content_item.ContentItemError, match="only one"):
        content_item.read_selection(selection(items), place=BLOCK)
    assert json.dumps(items)  # the same answer is fine where several are taken
    assert len(content_item.read_selection(selection(items), place=RICH).items) == 2

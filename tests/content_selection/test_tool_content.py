"""Content from tools in pages: "Insert from a tool" (rich text) and the "Tool content" block.

PyLTI1p3 is the LTI 1.3 tool: it validates our ``LtiDeepLinkingRequest`` and signs the
``LtiDeepLinkingResponse`` (its ``get_message_jwt`` with the content items of the spec's other
types, which its ``DeepLinkResource`` cannot build, signed by its ``encode_jwt``). Files are
served by a local HTTP server on 127.0.0.1 (the tests' settings allow local addresses). The
course page form is posted through Django's test client; pages are rendered as a visitor sees them.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from wagtail.models import GroupPagePermission
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from tests.content_selection import test_deep_linking as deep_linking_tests
from tests.content_selection.test_deep_linking import REDIRECT_URI, Launched, links, resource
from tests.support.factories import enroll, make_learner, site_root
from tests.support.forms import the_form
from tests.support.lti13 import decode_platform_token, pylti_launch, pylti_login
from wagtail_lti.lti.deep_linking import CONTENT_ITEMS_CLAIM, SETTINGS_CLAIM
from wagtail_lti.models import ContentSelection, Placement, ToolContent


pytestmark = pytest.mark.django_db

# The deep linking tests' world: an Acme editor and PyLTI1p3's registration as a provider.
tool_keys = deep_linking_tests.tool_keys
world = deep_linking_tests.world

PDF = b"%PDF-1.4\n% a tiny file\n"


def _png() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), "teal").save(out, "PNG")
    return out.getvalue()


PNG = _png()


# --- A file server playing the tool's file host ----------------------------------------------------


class FileServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FileHandler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class FileHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/notes.pdf":
            self._send(200, PDF, [("Content-Type", "application/pdf")])
        elif self.path == "/pixel.png":
            self._send(200, PNG, [("Content-Type", "image/png")])
        elif self.path == "/broken.png":
            self._send(200, PNG[:20], [("Content-Type", "image/png")])
        elif self.path == "/big.pdf":
            self._send(200, PDF * 1000, [("Content-Type", "application/pdf")])
        elif self.path == "/archive.pdf":
            self._send(200, b"PK\x03\x04", [("Content-Type", "application/zip")])
        elif self.path == "/moved.pdf":
            self._send(302, headers=[("Location", "/notes.pdf")])
        else:
            self._send(404)


@pytest.fixture
def files():
    caches["default"].clear()
    server = FileServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    caches["default"].clear()


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


# --- The flow -----------------------------------------------------------------------------------


def tool_content_path(place="rich_text", organization=None) -> str:
    query = f"?place={place}" + (f"&organization={organization.pk}" if organization else "")
    return reverse("wagtail_lti_tool_content") + query


def launch(world, place="rich_text") -> Launched:
    """The editor chooses the tool for a page; PyLTI1p3 validates the deep linking launch."""
    client = world.client
    page = client.get(tool_content_path(place, world.orgs["acme"]))
    assert page.status_code == 200
    response = client.post(
        tool_content_path(place, world.orgs["acme"]),
        {"provider": world.provider.pk, "organization": world.orgs["acme"].pk},
    )
    assert response.status_code == 200, response.content.decode()
    init = the_form(response)["fields"]
    conf = world.tool_conf()
    login_response = pylti_login(init, conf, REDIRECT_URI)
    answer = client.get(login_response["Location"])
    form = the_form(answer)
    message_launch = pylti_launch(form["fields"], login_response, conf)
    message_launch.get_launch_data()
    return Launched(init, form, message_launch)


def answer_with(world, launched: Launched, items: list[dict]):
    """The tool's response: PyLTI1p3's message with ``items`` as its content items, signed."""
    deep_link = launched.message_launch.get_deep_link()
    message = deep_link.get_message_jwt([])
    message[CONTENT_ITEMS_CLAIM] = items
    token = deep_link.encode_jwt(message)
    return world.client.post(reverse("wagtail_lti:lti13_deep_linking_return"), {"JWT": token})


def contents():
    return list(ToolContent.objects.order_by("pk"))


def test_rich_text_selection_says_what_it_takes_and_keeps_every_item_type(world, files):
    launched = launch(world)
    claims = decode_platform_token(
        launched.id_token_form["fields"]["id_token"], world.provider.client_id
    )
    settings = claims[SETTINGS_CLAIM]
    assert settings["accept_types"] == ["ltiResourceLink", "link", "html", "image", "file"]
    assert settings["accept_presentation_document_targets"] == ["iframe", "window", "embed"]
    assert "application/pdf" in settings["accept_media_types"].split(",")
    assert settings["accept_multiple"] is True and settings["auto_create"] is True

    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = answer_with(
        world,
        launched,
        [
            {"type": "link", "url": "https://video.example/v/1", "title": "Video"},
            {
                "type": "html",
                "title": "Snippet",
                "html": "<p onclick='steal()'>Hello<script>alert(1)</script></p>",
            },
            {"type": "image", "url": "https://img.example/a.png", "title": "Chart", "width": 40},
            {
                "type": "file",
                "url": f"{files.base}/notes.pdf",
                "title": "Notes",
                "mediaType": "application/pdf",
                "expiresAt": later,
            },
            resource("Quiz", "https://tool.example/lti/quiz").to_dict(),
        ],
    )
    assert response.status_code == 303, response.content.decode()
    selection = ContentSelection.objects.get()
    assert response["Location"] == reverse("wagtail_lti_tool_content_done", args=[selection.pk])
    link, html, image, file, activity = contents()
    assert (link.kind, link.url, link.title) == ("link", "https://video.example/v/1", "Video")
    assert html.html == "<p>Hello</p>"
    assert (image.kind, image.url, image.width) == ("image", "https://img.example/a.png", 40)
    assert file.kind == "file" and file.url == "" and file.document is not None
    with file.document.file.open("rb") as stored:
        assert stored.read() == PDF
    assert activity.kind == "ltiResourceLink" and activity.resource_link.name == "Quiz"
    assert links().filter(name="Quiz").count() == 1
    assert {c.organization for c in contents()} == {world.orgs["acme"]}
    assert selection.created_content_ids == [c.pk for c in contents()]

    done = world.client.get(response["Location"])
    assert done.status_code == 200
    text = done.content.decode()
    assert 'id="wagtail-lti-tool-content-message"' in text
    assert '"place": "rich_text"' in text and '"title": "Snippet"' in text
    assert "<script>alert" not in text  # no HTML of the tool's on the editor's page


def test_block_takes_one_item_and_says_so(world):
    launched = launch(world, place="block")
    claims = decode_platform_token(
        launched.id_token_form["fields"]["id_token"], world.provider.client_id
    )
    assert claims[SETTINGS_CLAIM]["accept_multiple"] is False
    response = answer_with(
        world,
        launched,
        [{"type": "html", "html": "<p>a</p>"}, {"type": "html", "html": "<p>b</p>"}],
    )
    assert response.status_code == 400
    assert "only one" in response.content.decode()
    assert contents() == []


def test_resource_link_flow_still_refuses_other_types(world):
    from tests.content_selection.test_deep_linking import deep_linking_launch

    launched = deep_linking_launch(world)
    response = answer_with(world, launched, [{"type": "html", "html": "<p>x</p>"}])
    assert response.status_code == 400
    assert "“html”" in response.content.decode()
    assert contents() == []


@pytest.mark.parametrize(
    ("path", "changes", "message"),
    [
        ("/notes.pdf", {"expiresAt": "2001-01-01T00:00:00Z"}, "has expired"),
        ("/big.pdf", {}, "larger than"),
        ("/archive.pdf", {}, "application/zip"),
        ("/moved.pdf", {}, "redirect"),
        ("/missing.pdf", {}, "could not be fetched"),
    ],
)
def test_refused_files_store_nothing(world, files, settings, path, changes, message):
    from wagtail.documents import get_document_model

    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "TOOL_CONTENT_MAX_FILE_BYTES": 5000}
    launched = launch(world)
    item = {"type": "file", "url": files.base + path, "title": "Notes", **changes}
    response = answer_with(world, launched, [{"type": "html", "html": "<p>kept?</p>"}, item])
    assert response.status_code == 400
    assert message in response.content.decode()
    assert contents() == [] and get_document_model().objects.count() == 0
    assert ContentSelection.objects.get().used_at is None


def test_a_file_of_a_type_the_site_does_not_take_is_refused_by_its_declared_type(world, files):
    launched = launch(world)
    item = {"type": "file", "url": f"{files.base}/notes.pdf", "mediaType": "application/x-sh"}
    response = answer_with(world, launched, [item])
    assert response.status_code == 400
    assert "application/x-sh" in response.content.decode()
    assert contents() == []


def test_images_are_imported_into_the_library_when_the_site_says_so(world, files, settings):
    from wagtail.images import get_image_model

    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "TOOL_CONTENT_IMPORT_IMAGES": True}
    launched = launch(world)
    response = answer_with(
        world, launched, [{"type": "image", "url": f"{files.base}/pixel.png", "title": "Dot"}]
    )
    assert response.status_code == 303, response.content.decode()
    (image,) = contents()
    assert image.image == get_image_model().objects.get() and image.image.title == "Dot"
    assert (image.image.width, image.image.height) == (4, 3)


def test_an_image_file_that_is_not_an_image_is_refused(world, files, settings):
    settings.WAGTAIL_LTI = {**settings.WAGTAIL_LTI, "TOOL_CONTENT_IMPORT_IMAGES": True}
    launched = launch(world)
    response = answer_with(world, launched, [{"type": "image", "url": f"{files.base}/broken.png"}])
    assert response.status_code == 400
    assert "not an image this site can read" in response.content.decode()
    assert contents() == []


def test_a_provider_the_organization_may_not_use_cannot_be_asked(world, orgs, tool_keys):
    from tests.content_selection.test_deep_linking import make_13_provider

    partner_tool = make_13_provider(orgs["partner"], tool_keys[1], name="Partner tool")
    response = world.client.post(
        tool_content_path("rich_text", orgs["acme"]),
        {"provider": partner_tool.pk, "organization": orgs["acme"].pk},
    )
    assert response.status_code == 200
    assert "Choose an LTI provider" in response.content.decode()
    assert ContentSelection.objects.count() == 0


def test_trusted_provider_keeps_its_own_iframes_only(world):
    world.provider.trusted_for_embeds = True
    world.provider.save()
    launched = launch(world)
    frame = '<iframe src="https://tool.example/embed/1"></iframe>'
    foreign = '<iframe src="https://evil.example/x"></iframe>'
    response = answer_with(
        world, launched, [{"type": "html", "html": frame + foreign + "<p>t</p>"}]
    )
    assert response.status_code == 303
    (content,) = contents()
    assert 'src="https://tool.example/embed/1"' in content.html
    assert "evil.example" not in content.html and "sandbox=" in content.html


# --- In a course page: saved, checked again, rendered -----------------------------------------------


@pytest.fixture
def page_editor(world):
    from django.contrib.auth.models import Group

    group = Group.objects.get(name="LTI editors")
    for permission_type in ("add", "change", "publish"):
        GroupPagePermission.objects.create(
            group=group, page=site_root(), permission_type=permission_type
        )
    return world


def add_url():
    return reverse("wagtailadmin_pages:add", args=["courses", "coursepage", site_root().pk])


def post_page(client, organization, body_html="", blocks=(), slug="tools"):
    from courses.models import RICH_TEXT_FEATURES

    body = []
    if body_html:
        body.append(("paragraph", rich_text(body_html, features=RICH_TEXT_FEATURES)))
    for content_id in blocks:
        body.append(("tool_content", content_id))
    data = nested_form_data(
        {
            "title": "Tools",
            "slug": slug,
            "course_organization": organization.pk,
            "course_code": "T-1",
            "body": streamfield(body),
        }
    )
    data["action-publish"] = "publish"
    return client.post(add_url(), data)


def make_content(world, **fields) -> ToolContent:
    values = {"kind": "html", "html": "<p>Hi</p>", "title": "Snippet"}
    values.update(fields)
    return ToolContent.objects.create(
        provider=world.provider, organization=world.orgs["acme"], **values
    )


def embed(content) -> str:
    return f'<p>Before</p><embed embedtype="lti-tool" id="{content.pk}"/><p>After</p>'


def test_rich_text_keeps_only_the_id_and_renders_at_view_time(page_editor):
    from courses.models import CoursePage

    world = page_editor
    content = make_content(world)
    response = post_page(world.client, world.orgs["acme"], embed(content))
    assert response.status_code == 302, response.context["form"].errors
    page = CoursePage.objects.get(slug="tools")
    stored = page.body[0].value.source
    assert f'<embed embedtype="lti-tool" id="{content.pk}"/>' in stored
    assert "Hi" not in stored  # only the id

    # Rendering never trusts what is stored: unsafe HTML put in behind the sanitiser's back is
    # sanitised again.
    ToolContent.objects.filter(pk=content.pk).update(html="<p>Hi</p><img src=x onerror=alert(1)>")
    learner = make_learner()
    enroll(learner, page)
    visitor = Client()
    visitor.force_login(learner)
    html = visitor.get(page.url).content.decode()
    assert (
        '<div class="lti-tool-content lti-tool-content--html"><p>Hi</p><img src="x"></div>' in html
    )
    assert "onerror" not in html


def test_saving_rechecks_the_provider_and_the_html(page_editor, orgs):
    world = page_editor
    content = make_content(world)
    # Engineering is a sub-organization of Acme: Acme's provider is usable there.
    assert post_page(world.client, orgs["engineering"], embed(content)).status_code == 302

    # A provider no longer usable: a clear error, nothing saved.
    from courses.models import CoursePage

    partner = make_content(world, title="Partner snippet")
    partner.provider.organization = orgs["partner"]
    partner.provider.save()
    response = post_page(world.client, orgs["acme"], embed(partner), slug="tools-2")
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "“Partner snippet” comes from “Content tool”" in errors
    assert "may no longer use" in errors
    assert not CoursePage.objects.filter(slug="tools-2").exists()


def test_saving_refuses_stored_html_the_sanitiser_did_not_pass(page_editor):
    world = page_editor
    content = make_content(world, html="<p onclick='x()'>Hi</p>")
    response = post_page(world.client, world.orgs["acme"], embed(content))
    assert response.status_code == 200
    assert "not safe to show" in " ".join(response.context["form"].non_field_errors())


def test_an_unknown_item_is_refused_on_save(page_editor):
    world = page_editor
    response = post_page(
        world.client, world.orgs["acme"], '<embed embedtype="lti-tool" id="999999"/>'
    )
    assert response.status_code == 200
    assert "no longer exists" in " ".join(response.context["form"].non_field_errors())


def test_tool_content_block_renders_each_kind(page_editor, files):
    from courses.models import CoursePage
    from wagtail.documents import get_document_model

    world = page_editor
    document = get_document_model().objects.create(title="Notes")
    from django.core.files.base import ContentFile

    document.file.save("notes.pdf", ContentFile(PDF))
    items = [
        make_content(world, kind="link", url="https://video.example/v", title="Video", html=""),
        make_content(world, kind="image", url="https://img.example/a.png", title="Chart", html=""),
        make_content(world, kind="file", document=document, media_type="application/pdf", html=""),
    ]
    response = post_page(world.client, world.orgs["acme"], blocks=[c.pk for c in items])
    assert response.status_code == 302, response.context["form"].errors
    page = CoursePage.objects.get(slug="tools")
    html = Client().get(page.url).content.decode()
    assert 'href="https://video.example/v"' in html and ">Video</a>" in html
    assert '<img src="https://img.example/a.png" alt="Chart"' in html
    assert f'href="{document.url}" download' in html


def test_a_resource_link_in_rich_text_is_a_placement_and_launches(page_editor):
    from courses.models import CoursePage

    from wagtail_lti.content_selection.tool_content import activity_block_id

    world = page_editor
    content = make_content(
        world, kind="ltiResourceLink", html="", resource_link=world.existing, title="Inline quiz"
    )
    response = post_page(world.client, world.orgs["acme"], embed(content))
    assert response.status_code == 302, response.context["form"].errors
    page = CoursePage.objects.get(slug="tools")
    placement = Placement.objects.get(page=page, block_id=activity_block_id(content))
    assert placement.resource_link == world.existing and placement.is_active

    learner = make_learner()
    enroll(learner, page)
    visitor = Client()
    visitor.force_login(learner)
    html = visitor.get(page.url).content.decode()
    launch_url = reverse("wagtail_lti:launch", args=[placement.lti_id])
    assert f'action="{launch_url}"' in html
    assert "Inline quiz" in html
    # The launch goes through the same rules as an activity block's.
    launched = visitor.post(launch_url, {"csrfmiddlewaretoken": visitor.cookies["csrftoken"].value})
    assert launched.status_code == 200


def test_a_resource_link_from_a_tool_is_part_of_the_courses_lti_state(
    page_editor, make_editor, orgs
):
    """Inserting an LTI activity through rich text changes the course's LTI part: the rule of
    ``courses/lti_changes.py`` applies (an editor of another organization may not)."""
    from courses.models import CoursePage
    from wagtail.rich_text import RichText

    from wagtail_lti.courses.lti_changes import course_lti_state, lti_change_refusal

    world = page_editor
    assert post_page(world.client, world.orgs["acme"], "<p>Plain</p>").status_code == 302
    page = CoursePage.objects.get(slug="tools")
    old = course_lti_state(page)
    content = make_content(world, kind="ltiResourceLink", html="", resource_link=world.existing)
    page.body = [("paragraph", RichText(embed(content)))]
    new = course_lti_state(page)
    assert new != old
    assert ("body", f"tool-content-{content.pk}") in [entry[:2] for entry in new.activities]
    assert lti_change_refusal(world.editor, old, new) is None
    outsider = make_editor("olga", orgs["partner"])
    assert lti_change_refusal(outsider, old, new) is not None
    # HTML from a tool is page content, not the LTI part.
    html = make_content(world)
    page.body = [("paragraph", RichText(embed(html)))]
    assert course_lti_state(page) == old

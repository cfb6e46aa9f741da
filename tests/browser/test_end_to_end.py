"""The whole loop in Chromium, against the built-in demo tool served by the same live server.

1. An editor (not a superuser; manages the Engineering department) creates, through the real
   admin forms and choosers, an LTI 1.1 provider with the demo tool's key and secret and an LTI 1.3
   provider with the tool's URLs; the tool's administrator then registers the 1.3 provider with
   the tool (``demo_tool.setup.register_provider_with_tool``: the vendor's side, done in Python).
2. The editor creates resource links (two require a score, one does not), adds them to a course
   page as activity blocks in the page editor's StreamField and publishes the page.
3. A learner logs in, launches the LTI 1.1 activity into its frame, sends a score from the demo
   tool's page inside the frame, returns to the course: "Completed" and the score. The same with
   the LTI 1.3 activity (OIDC login, id_token, AGS score with a client-credentials token).
4. The editor opens the results report, sees the rows, and exports them as CSV and XLSX.

The site and the tool share one host (``live_server.url``'s ``localhost``), so the tool's LTI 1.3
state cookie (``SameSite=Lax``) comes back with the launch, as in the demo.

Screenshots: ``test-artifacts/screenshots/e2e-*.png``. With ``UPDATE_DOCS_SCREENSHOTS=1`` the
README's screenshots (``docs/screenshots/``) are written as well.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from tests.browser.docs_screenshots import docs_shot
from tests.support.factories import enroll, make_learner, site_root


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LTI11_KEY = "demo-tool-key"
LTI11_SECRET = "demo tool secret & more"


@pytest.fixture
def starting_point(live_server, orgs, make_editor):
    """What exists before the editor starts: the demo tool's LTI 1.1 registration (its key and
    secret, as the tool's administrator would hand them over), an editor of Engineering with page
    permissions on the site, a published course page of Engineering with an introduction and no
    activities yet, and two enrolled learners."""
    from courses.models import CoursePage
    from django.contrib.auth.models import Permission
    from wagtail.models import GroupPagePermission

    from demo_tool.models import ToolRegistration

    ToolRegistration.objects.create(
        slug="platform-lti11",
        name="wagtail-lti (LTI 1.1)",
        lti_version=ToolRegistration.Version.LTI_1P1,
        consumer_key=LTI11_KEY,
        shared_secret=LTI11_SECRET,
    )
    editor = make_editor("eddie", orgs["engineering"])
    home = site_root()
    group = editor.groups.get()
    for codename in ("add_page", "change_page", "publish_page"):
        GroupPagePermission.objects.create(
            group=group,
            page=home,
            permission=Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            ),
        )
    course = CoursePage(
        title="Workplace safety",
        slug="workplace-safety",
        course_organization=orgs["engineering"],
        course_code="SAF-101",
        body=[
            (
                "paragraph",
                "<p>Three short activities. Launch each one, send a score from the tool and "
                "come back: the activity shows as completed.</p>",
            )
        ],
    )
    home.add_child(instance=course)
    course.save_revision().publish()
    learner = make_learner("lena", first_name="Lena", last_name="Learner")
    enroll(learner, course)
    enroll(make_learner("liam", first_name="Liam", last_name="Learner"), course)
    return {"editor": editor, "course": course, "learner": learner, "base": live_server.url}


# --- Admin helpers --------------------------------------------------------------------------------


def _save_snippet(page, name: str):
    page.locator("button.action-save").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text(name)


def _choose(page, choice: str):
    modal = page.locator(".modal-dialog")
    expect(modal).to_be_visible()
    modal.locator("input[name=q]").fill(choice)
    option = modal.locator("a[data-chooser-modal-choice]", has_text=choice)
    expect(option).to_have_count(1)
    option.click()
    expect(modal).to_be_hidden()


def _create_resource_link(page, base, shot, *, name, provider, url, requires_score):
    page.goto(f"{base}/admin/snippets/wagtail_lti/ltiresourcelink/add/")
    page.fill("#id_name", name)
    expect(page.locator("#id_organization-chooser")).to_contain_text("Engineering")
    page.locator("#id_provider-chooser").get_by_role("button", name="Choose LTI provider").click()
    _choose(page, provider)
    expect(page.locator("#id_provider-chooser")).to_contain_text(provider)
    page.fill("#id_url", url)
    if requires_score:
        page.get_by_role("checkbox", name="This resource requires a score for completion").check()
    page.get_by_role("radio", name="Embedded in the page").check()
    shot(page, "e2e-link-" + re.sub(r"\W+", "-", name.lower()))
    _save_snippet(page, name)


def _add_activity(page, link_name: str):
    """Append an "LTI course activity" block to the Body stream and choose ``link_name``."""
    body = page.locator("[data-contentpath=body]")
    body.locator("button.c-sf-add-button").last.click()
    page.get_by_role("option", name="LTI course activity").click()
    block = body.locator("[data-contentpath=resource_link]").last
    block.get_by_role("button", name=re.compile("Choose")).click()
    _choose(page, link_name)
    expect(block).to_contain_text(link_name)


# --- Learner helpers ------------------------------------------------------------------------------


def _launch_send_score_and_return(page, placement, version: str, score: str, shot):
    """Start the activity, check what the demo tool received, send ``score`` from the tool's
    page in the frame and follow its "Return to the course" link."""
    activity = page.locator(f"#lti-activity-{placement.block_id}")
    frame_box = activity.locator("[data-lti-frame]")
    expect(frame_box).to_be_hidden()
    activity.get_by_role("button", name="Start activity").click()
    expect(frame_box).to_be_visible()
    tool = page.frame_locator(f"iframe[name='lti-frame-{placement.block_id}']")
    expect(tool.locator("h1")).to_have_text("Hello, Lena Learner", timeout=20_000)
    expect(tool.locator(".tool-header__tag")).to_have_text(f"LTI {version}")
    expect(tool.locator(".lead")).to_contain_text(placement.resource_link.name)
    name = "lti" + version.replace(".", "")
    shot(page, f"e2e-{name}-1-launched")
    tool.get_by_label("Score (0–100 %)").fill(score)
    tool.get_by_role("button", name="Send the score").click()
    expect(tool.locator("#answer-title")).to_have_text("The platform accepted the score")
    shot(page, f"e2e-{name}-2-score-sent")
    tool.get_by_role("link", name="Return to the course").click()
    page.wait_for_url(f"{page.url.split('#')[0]}#lti-activity-{placement.block_id}")


def test_editor_builds_a_course_learner_completes_it_editor_exports_results(
    browser, page, live_server, starting_point, quiet_editor, login, learner_login, shot, tmp_path
):
    from demo_tool.setup import register_provider_with_tool
    from wagtail_lti.models import LearnerActivity, LtiProvider, LtiResourceLink, Placement

    base, course = starting_point["base"], starting_point["course"]

    # --- 1. The editor creates the providers ---------------------------------------------------
    quiet_editor(page)
    login(page, live_server, "eddie")
    page.goto(f"{base}/admin/snippets/wagtail_lti/ltiprovider/add/")
    page.fill("#id_name", "Demo tool 1.1")
    expect(page.locator("#id_organization-chooser")).to_contain_text("Engineering")
    expect(page.get_by_role("radio", name="LTI 1.1")).to_be_checked()
    page.fill("#id_consumer_key", LTI11_KEY)
    page.fill("#id_secret", LTI11_SECRET)
    shot(page, "e2e-01-provider-lti11-form")
    _save_snippet(page, "Demo tool 1.1")

    page.goto(f"{base}/admin/snippets/wagtail_lti/ltiprovider/add/")
    page.fill("#id_name", "Demo tool 1.3")
    page.get_by_role("radio", name="LTI 1.3").check()
    page.fill("#id_login_url", f"{base}/demo-tool/1.3/login/")
    page.fill("#id_launch_url", f"{base}/demo-tool/1.3/launch/")
    page.fill("#id_redirect_uris", f"{base}/demo-tool/1.3/launch/")
    page.fill("#id_jwks_url", f"{base}/demo-tool/1.3/jwks/")
    expect(page.get_by_role("checkbox", name="Assignment and Grade Services")).to_be_checked()
    shot(page, "e2e-02-provider-lti13-form")
    _save_snippet(page, "Demo tool 1.3")

    lti11 = LtiProvider.objects.get(name="Demo tool 1.1")
    assert (lti11.lti_version, lti11.consumer_key, lti11.secret) == ("1.1", LTI11_KEY, LTI11_SECRET)
    assert lti11.organization.name == "Engineering"
    lti13 = LtiProvider.objects.get(name="Demo tool 1.3")
    assert lti13.lti_version == "1.3" and lti13.client_id and lti13.deployment_id
    # The tool vendor's side: the tool learns the platform's issuer, endpoints and the client
    # and deployment IDs the platform issued (shown on the provider's form for the vendor).
    register_provider_with_tool(lti13, base)

    # The saved provider shows the IDs the platform issued, with the platform's endpoints.
    page.goto(f"{base}/admin/snippets/wagtail_lti/ltiprovider/edit/{lti13.pk}/")
    details = page.locator("[data-lti-detail]")
    expect(details.first).to_be_visible()
    expect(page.get_by_label("Client ID")).to_have_value(lti13.client_id)
    expect(page.get_by_label("Deployment ID")).to_have_value(lti13.deployment_id)
    shot(page, "e2e-02-provider-lti13-saved")
    page.get_by_role("button", name="Toggle sidebar").click()
    page.locator("[data-panel-heading-text]", has_text="LTI version").evaluate(
        "heading => heading.scrollIntoView()"
    )
    docs_shot(page, "provider-form")
    page.get_by_role("button", name="Toggle sidebar").click()

    # --- 2. Resource links, and the course page ------------------------------------------------
    _create_resource_link(
        page,
        base,
        shot,
        name="Fire safety quiz",
        provider="Demo tool 1.1",
        url=f"{base}/demo-tool/1.1/launch/?activity=quiz",
        requires_score=True,
    )
    _create_resource_link(
        page,
        base,
        shot,
        name="Evacuation lab",
        provider="Demo tool 1.3",
        url=f"{base}/demo-tool/1.3/launch/?activity=lab",
        requires_score=True,
    )
    _create_resource_link(
        page,
        base,
        shot,
        name="Safety handbook",
        provider="Demo tool 1.1",
        url=f"{base}/demo-tool/1.1/launch/?activity=reading",
        requires_score=False,
    )
    assert LtiResourceLink.objects.filter(requires_score=True).count() == 2

    page.goto(f"{base}/admin/pages/{course.pk}/edit/")
    page.wait_for_load_state("networkidle")
    for name in ("Fire safety quiz", "Evacuation lab", "Safety handbook"):
        _add_activity(page, name)
    shot(page, "e2e-03-page-editor")
    page.locator("footer").get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(".messages")).to_contain_text("published")
    placements = {
        p.resource_link.name: p
        for p in Placement.objects.filter(page=course, is_active=True).select_related(
            "resource_link"
        )
    }
    assert set(placements) == {"Fire safety quiz", "Evacuation lab", "Safety handbook"}

    # --- 3. The learner --------------------------------------------------------------------------
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        lp = context.new_page()
        lp.set_default_timeout(15_000)
        learner_login(lp, live_server, "lena", next=course.url)
        assert lp.url == f"{base}{course.url}"
        for placement in placements.values():
            badge = lp.locator(f"#lti-activity-{placement.block_id} .lti-badge")
            expect(badge).to_have_text("Not started")
        shot(lp, "e2e-04-course-not-started")

        for title, version, score in (
            ("Fire safety quiz", "1.1", "85"),
            ("Evacuation lab", "1.3", "70"),
        ):
            placement = placements[title]
            _launch_send_score_and_return(lp, placement, version, score, shot)
            activity = lp.locator(f"#lti-activity-{placement.block_id}")
            expect(activity.locator(".lti-badge")).to_have_text("Completed")
            expect(activity.locator(".lti-activity__score")).to_have_text(f"Score: {score}%")
            expect(activity.locator(".lti-activity__message")).to_contain_text(
                f"The demo tool sent your score: {score} %."
            )
            shot(lp, f"e2e-05-completed-lti{version.replace('.', '')}")

        lp.reload()
        for title, status in (
            ("Fire safety quiz", "Completed"),
            ("Evacuation lab", "Completed"),
            ("Safety handbook", "Not started"),
        ):
            badge = lp.locator(f"#lti-activity-{placements[title].block_id} .lti-badge")
            expect(badge).to_have_text(status)
        expect(lp.locator(".lti-activity__message")).to_have_count(0)
        lp.set_viewport_size({"width": 1280, "height": 800})
        shot(lp, "e2e-07-course-completed")
        docs_shot(lp, "course-page")
    finally:
        context.close()

    learner = starting_point["learner"]
    scores = {
        a.placement.resource_link.name: (a.status, a.score)
        for a in LearnerActivity.objects.filter(user=learner).select_related(
            "placement__resource_link"
        )
    }
    assert scores == {
        "Fire safety quiz": ("completed", pytest.approx(0.85)),
        "Evacuation lab": ("completed", pytest.approx(0.70)),
    }

    # --- 4. The editor's results report and exports -------------------------------------------------
    page.goto(f"{base}/admin/")
    page.get_by_role("button", name="Reports").click()
    page.get_by_role("link", name="LTI results").click()
    page.wait_for_load_state("networkidle")
    # One row per learner and activity: Lena's two scores, and what nobody started yet.
    expected = {
        ("lena", "Fire safety quiz"): ("Completed", 85),
        ("lena", "Evacuation lab"): ("Completed", 70),
        ("lena", "Safety handbook"): ("Not started", None),
        ("liam", "Fire safety quiz"): ("Not started", None),
        ("liam", "Evacuation lab"): ("Not started", None),
        ("liam", "Safety handbook"): ("Not started", None),
    }
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(len(expected))
    for (username, title), (status, score) in expected.items():
        row = rows.filter(has_text=f"({username})").filter(has_text=title)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(status, ignore_case=True)  # the tag is upper-cased by CSS
        if score is not None:
            expect(row).to_contain_text(f"{score}%")
    shot(page, "e2e-08-results-report")
    page.get_by_role("button", name="Toggle sidebar").click()
    docs_shot(page, "results-report")

    def exported(rows) -> dict:
        return {
            (row["Username"], row["Activity"]): (
                row["Status"],
                float(row["Score (%)"]) if row["Score (%)"] not in (None, "") else None,
            )
            for row in rows
        }

    page.locator("header").get_by_role("button", name="Actions").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    content = download.value.path().read_text(encoding="utf-8-sig")
    csv_rows = list(csv.DictReader(io.StringIO(content)))
    assert exported(csv_rows) == expected
    assert {(row["Learner"], row["Course"], row["Organization"]) for row in csv_rows} == {
        ("Lena Learner (lena)", "Workplace safety", "Engineering"),
        ("Liam Learner (liam)", "Workplace safety", "Engineering"),
    }

    page.reload()
    page.locator("header").get_by_role("button", name="Actions").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    path = tmp_path / "results.xlsx"
    download.value.save_as(path)
    from openpyxl import load_workbook

    sheet = load_workbook(path).active
    header, *data = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:8] == [
        "Learner",
        "Username",
        "Email",
        "Course",
        "Organization",
        "Activity",
        "Status",
        "Score (%)",
    ]
    assert exported(dict(zip(header, row, strict=True)) for row in data) == expected

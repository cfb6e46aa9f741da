"""``manage.py load_demo_data``: the example site's demo data, created idempotently.

Running it again creates only what is missing and changes nothing that exists (passwords of
existing users included). It prints the site's URL and the demo logins.

The data, in the order of ``Command.steps``:

- organizations: the company "Acme Learning" with its departments "Engineering" and "Sales", and
  the partner organization "Partner University";
- the home page of the default site;
- users: a superuser, an editor who manages Engineering (in the "LTI editors" group: admin access,
  the LTI permissions, and page permissions on the site), an instructor and two learners, members
  of Engineering;
- providers registered with the built-in demo tool (LTI 1.1 and LTI 1.3), owned by Acme Learning
  and made available to Partner University;
- resource links of those providers: one requires a score, one does not, one embedded, one in a
  new window;
- a published course page of Engineering holding those links as activities, with the learners and
  the instructor enrolled, open to self-enrollment ("Enroll in this course" for anyone else logged
  in); the editor, who manages Engineering, sees the providers and links of Acme Learning in the
  LTI listings as "Shared with us", read-only;
- the demo tool's side of the registrations (consumer key and secret for 1.1; issuer, client ID,
  deployment ID, the platform's endpoints and the tool's key pair for 1.3).

The summary also prints the demo course's class view (the instructor's learners × activities, with
score overrides and export), and where to try "Add from a tool" (the demo tool answers Deep Linking
and Content-Item requests), "Register a tool by URL" (the demo tool's Dynamic Registration URL) and
a submission review (the demo tool declares the line items it scores reviewable).

Steps that need a part of the project that is not installed are skipped with a note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone


SITE_NAME = "Wagtail LTI example"
COMPANY, ENGINEERING, SALES, PARTNER = "Acme Learning", "Engineering", "Sales", "Partner University"
EDITORS_GROUP = "LTI editors"
COURSE_SLUG = "getting-started-with-lti"

# username, password, first name, last name, description
USERS = [
    ("admin", "admin", "Ada", "Admin", "superuser: everything"),
    ("editor", "editor", "Eddie", "Editor", f"editor, manages {ENGINEERING} ({COMPANY})"),
    (
        "instructor",
        "instructor",
        "Ivy",
        "Instructor",
        "instructor of the demo course (its class view: progress, overrides, export)",
    ),
    ("learner1", "learner1", "Lena", "Learner", "learner enrolled in the demo course"),
    ("learner2", "learner2", "Liam", "Learner", "learner enrolled in the demo course"),
]

# The demo tool's 1.1 credentials, known to both sides of the demo registration.
DEMO_CONSUMER_KEY = "wagtail-lti-demo"
DEMO_SHARED_SECRET = "demo-shared-secret"  # noqa: S105 - a published demo value

# name, provider key ("1.1" or "1.3"), demo tool path, requires a score, opens in
RESOURCE_LINKS = [
    ("Demo quiz (LTI 1.1, scored)", "1.1", "quiz", True, "embed"),
    ("Demo reading (LTI 1.1)", "1.1", "reading", False, "window"),
    ("Demo lab (LTI 1.3, scored)", "1.3", "lab", True, "window"),
    ("Demo video (LTI 1.3)", "1.3", "video", False, "embed"),
]
# Dates and presentation shown on the course page: the lab is due in two weeks (later scores are
# marked late) and opens in its own named window, reused by every launch of it.
LINK_EXTRAS = {
    "Demo lab (LTI 1.3, scored)": lambda now: {
        "submission_end": (now + timedelta(days=14)).replace(minute=0, second=0, microsecond=0),
        "window_target_name": "demo-lab",
    },
}


@dataclass
class Demo:
    """What the steps created or found, for the next steps and the summary."""

    base_url: str
    orgs: dict[str, Any] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    home: Any = None
    group: Any = None
    providers: dict[str, Any] = field(default_factory=dict)
    links: list[Any] = field(default_factory=list)
    course: Any = None
    created: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class Command(BaseCommand):
    help = (
        "Creates the example site's demo organizations, users, LTI records and course (idempotent)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000/",
            help="Where the site is served (default http://127.0.0.1:8000/): printed, and used "
            "for the demo tool's URLs in the demo providers and resource links.",
        )

    @property
    def steps(self):
        return [
            self.organizations,
            self.home_page,
            self.editors_group,
            self.users,
            self.providers,
            self.resource_links,
            self.course_page,
            self.enrollments,
            self.demo_tool_registrations,
        ]

    def handle(self, *args, url: str, **options):
        if not url.startswith(("http://", "https://")):
            raise CommandError("--url must be an absolute http(s) URL")
        demo = Demo(base_url=url.rstrip("/"))
        with transaction.atomic():
            for step in self.steps:
                step(demo)
        self.summary(demo)

    # --- Steps ----------------------------------------------------------------------------------

    def organizations(self, demo: Demo) -> None:
        from wagtail_lti.models import Organization

        def root(name: str):
            node = Organization.get_root_nodes().filter(name=name).first()
            if node is None:
                node = Organization.add_root(name=name)
                demo.created.append(f"organization {name}")
            return Organization.objects.get(pk=node.pk)

        def child(parent, name: str):
            node = parent.get_children().filter(name=name).first()
            if node is None:
                node = parent.add_child(name=name)
                demo.created.append(f"organization {parent.name} / {name}")
            return Organization.objects.get(pk=node.pk)

        company = root(COMPANY)
        demo.orgs[COMPANY] = company
        demo.orgs[ENGINEERING] = child(company, ENGINEERING)
        company = Organization.objects.get(pk=company.pk)
        demo.orgs[SALES] = child(company, SALES)
        demo.orgs[COMPANY] = Organization.objects.get(pk=company.pk)
        demo.orgs[PARTNER] = root(PARTNER)

    def home_page(self, demo: Demo) -> None:
        """A ``HomePage`` as the root page of the default site, replacing Wagtail's welcome page."""
        from wagtail.coreutils import get_supported_content_language_variant
        from wagtail.models import Locale, Page, Site

        from courses.models import HomePage

        home = HomePage.objects.filter(depth=2).first()
        if home is None:
            welcome = Page.objects.filter(
                depth=2, content_type=ContentType.objects.get_for_model(Page)
            ).first()
            if welcome is not None and not welcome.get_children().exists():
                # The site that points at it goes with it (Site.root_page cascades); made again below.
                welcome.delete()
            root = Page.get_first_root_node()
            if root is None:  # a flushed database: Wagtail's migrations made it, flush removed it
                if not Locale.objects.exists():
                    Locale.objects.create(
                        language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
                    )
                root = Page.add_root(instance=Page(title="Root", slug="root"))
            slug = "home" if not Page.objects.filter(depth=2, slug="home").exists() else "lti-home"
            home = root.add_child(instance=HomePage(title=SITE_NAME, slug=slug))
            demo.created.append("home page")
        demo.home = home

        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            Site.objects.create(
                hostname="localhost",
                port=80,
                root_page=home,
                is_default_site=True,
                site_name=SITE_NAME,
            )
            demo.created.append("default site")
        elif site.root_page_id != home.pk:
            site.root_page = home
            site.save(update_fields=["root_page"])
            demo.created.append("default site's root page")

    def editors_group(self, demo: Demo) -> None:
        """Admin access, every LTI permission, and adding, editing and publishing pages of the site.

        What an editor may see and change among the LTI records is narrowed further to the
        organizations they manage (wagtail_lti.scoping).
        """
        from wagtail.models import GroupPagePermission

        group, created = Group.objects.get_or_create(name=EDITORS_GROUP)
        if created:
            demo.created.append(f"group {EDITORS_GROUP}")
        wanted = Permission.objects.filter(
            content_type__app_label="wagtail_lti"
        ) | Permission.objects.filter(
            content_type__app_label="wagtailadmin", codename="access_admin"
        )
        missing = wanted.exclude(pk__in=group.permissions.values("pk"))
        if missing.exists():
            demo.created.append(f"{missing.count()} permission(s) of group {EDITORS_GROUP}")
            group.permissions.add(*missing)
        for codename in ("add_page", "change_page", "publish_page"):
            permission = Permission.objects.get(
                content_type__app_label="wagtailcore", codename=codename
            )
            _, created = GroupPagePermission.objects.get_or_create(
                group=group, page=demo.home, permission=permission
            )
            if created:
                demo.created.append(f"page permission {codename} of group {EDITORS_GROUP}")
        demo.group = group

    def users(self, demo: Demo) -> None:
        from wagtail_lti.models import OrganizationMembership

        User = get_user_model()
        engineering = demo.orgs[ENGINEERING]
        for username, password, first, last, _ in USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    email=f"{username}@example.com",
                    first_name=first,
                    last_name=last,
                    is_staff=username == "admin",
                    is_superuser=username == "admin",
                )
                user.set_password(password)
                user.save()
                demo.created.append(f"user {username}")
            demo.users[username] = user

        editor = demo.users["editor"]
        if not editor.groups.filter(pk=demo.group.pk).exists():
            editor.groups.add(demo.group)
            demo.created.append(f"editor in group {EDITORS_GROUP}")

        roles = {"editor": OrganizationMembership.Role.MANAGER}
        for username in ("editor", "instructor", "learner1", "learner2"):
            _, created = OrganizationMembership.objects.get_or_create(
                user=demo.users[username],
                organization=engineering,
                defaults={"role": roles.get(username, OrganizationMembership.Role.MEMBER)},
            )
            if created:
                demo.created.append(f"membership of {username} in {ENGINEERING}")

    def _demo_tool_url(self, demo: Demo, name: str) -> str | None:
        if not apps.is_installed("demo_tool"):
            return None
        try:
            return demo.base_url + reverse(f"demo_tool:{name}")
        except NoReverseMatch:
            return None

    def providers(self, demo: Demo) -> None:
        from wagtail_lti.models import LtiProvider

        launch11 = self._demo_tool_url(demo, "lti11_launch")
        login13 = self._demo_tool_url(demo, "lti13_login")
        launch13 = self._demo_tool_url(demo, "lti13_launch")
        jwks13 = self._demo_tool_url(demo, "lti13_jwks")
        if not (launch11 and login13 and launch13 and jwks13):
            demo.skipped.append("providers and resource links (the demo tool's URLs are missing)")
            return
        company, partner = demo.orgs[COMPANY], demo.orgs[PARTNER]

        specs = {
            "1.1": {
                "name": "Demo tool (LTI 1.1)",
                "lti_version": LtiProvider.Version.LTI_1P1,
                "consumer_key": DEMO_CONSUMER_KEY,
            },
            "1.3": {
                "name": "Demo tool (LTI 1.3)",
                "lti_version": LtiProvider.Version.LTI_1P3,
                "login_url": login13,
                "launch_url": launch13,
                "redirect_uris": launch13,
                "jwks_url": jwks13,
            },
        }
        for key, spec in specs.items():
            provider = LtiProvider.objects.filter(name=spec["name"], organization=company).first()
            if provider is None:
                provider = LtiProvider(
                    organization=company,
                    custom_parameters="custom_demo_site=wagtail-lti example",
                    send_name=True,
                    send_email=True,
                    **spec,
                )
                if key == "1.1":
                    provider.secret = DEMO_SHARED_SECRET
                provider.save()
                provider.available_to.add(partner)
                demo.created.append(f"provider {provider.name}")
            demo.providers[key] = provider

    def resource_links(self, demo: Demo) -> None:
        from wagtail_lti.models import LtiResourceLink

        if not demo.providers:
            return
        company, partner = demo.orgs[COMPANY], demo.orgs[PARTNER]
        targets = {
            "1.1": self._demo_tool_url(demo, "lti11_launch"),
            "1.3": self._demo_tool_url(demo, "lti13_launch"),
        }
        for name, version, path, requires_score, open_in in RESOURCE_LINKS:
            link = LtiResourceLink.objects.filter(name=name, organization=company).first()
            if link is None:
                link = LtiResourceLink(
                    organization=company,
                    name=name,
                    provider=demo.providers[version],
                    url=f"{targets[version]}?activity={path}",
                    custom_parameters=f"custom_activity={path}",
                    requires_score=requires_score,
                    score_maximum=10,
                    open_in=open_in,
                    **LINK_EXTRAS.get(name, lambda now: {})(timezone.now()),
                )
                link.save()
                link.available_to.add(partner)
                demo.created.append(f"resource link {name}")
            demo.links.append(link)

    def course_page(self, demo: Demo) -> None:
        """A published course page of Engineering with the demo links as activities."""
        try:
            CoursePage = apps.get_model("courses", "CoursePage")
        except LookupError:
            demo.skipped.append("course page (no CoursePage model)")
            return
        course = CoursePage.objects.filter(slug=COURSE_SLUG).first()
        if course is not None:
            demo.course = course
            return
        from wagtail.rich_text import RichText

        body: list[tuple[str, Any]] = [
            (
                "paragraph",
                RichText(
                    "<p>Welcome! This demo course holds activities served by the built-in demo "
                    "tool over LTI 1.1 and LTI 1.3. Launch one, send a score back from the tool, "
                    "and come back: the activity shows as completed.</p>"
                ),
            )
        ]
        body += [("lti_activity", {"resource_link": link, "title": ""}) for link in demo.links]
        course = demo.home.add_child(
            instance=CoursePage(
                title="Getting started with LTI",
                slug=COURSE_SLUG,
                course_organization=demo.orgs[ENGINEERING],
                course_code="LTI-101",
                # Open: a logged-in visitor who is not on the roster sees "Enroll in this course".
                allow_self_enrollment=True,
                body=body,
            )
        )
        course.save_revision(user=demo.users["admin"]).publish(user=demo.users["admin"])
        demo.course = CoursePage.objects.get(pk=course.pk)
        demo.created.append(f"course page {course.title} ({len(demo.links)} activities)")

    def enrollments(self, demo: Demo) -> None:
        from wagtail_lti.models import Enrollment

        if demo.course is None:
            return
        roles = {
            "instructor": Enrollment.Role.INSTRUCTOR,
            "learner1": Enrollment.Role.LEARNER,
            "learner2": Enrollment.Role.LEARNER,
        }
        for username, role in roles.items():
            _, created = Enrollment.objects.get_or_create(
                course=demo.course, user=demo.users[username], defaults={"role": role}
            )
            if created:
                demo.created.append(f"enrollment of {username}")

    def demo_tool_registrations(self, demo: Demo) -> None:
        """The tool's side: the same 1.1 key and secret; the 1.3 platform's identity and endpoints."""
        try:
            ToolRegistration = apps.get_model("demo_tool", "ToolRegistration")
        except LookupError:
            demo.skipped.append("demo tool registrations (no demo tool models)")
            return
        if ToolRegistration._meta.db_table not in connection.introspection.table_names():
            demo.skipped.append("demo tool registrations (the demo tool's tables are missing)")
            return
        if not demo.providers:
            return
        if not ToolRegistration.objects.filter(slug="wagtail-lti-1-1").exists():
            ToolRegistration.objects.create(
                slug="wagtail-lti-1-1",
                name="This site's wagtail-lti (LTI 1.1)",
                lti_version="1.1",
                consumer_key=DEMO_CONSUMER_KEY,
                shared_secret=DEMO_SHARED_SECRET,
            )
            demo.created.append("demo tool registration (LTI 1.1)")

        provider = demo.providers["1.3"]
        if not ToolRegistration.objects.filter(slug="wagtail-lti-1-3").exists():
            from demo_tool.lti13 import generate_private_key_pem

            ToolRegistration.objects.create(
                slug="wagtail-lti-1-3",
                name="This site's wagtail-lti (LTI 1.3)",
                lti_version="1.3",
                issuer=demo.base_url,
                client_id=provider.client_id,
                deployment_id=provider.deployment_id,
                auth_login_url=demo.base_url + reverse("wagtail_lti:lti13_authorize"),
                auth_token_url=demo.base_url + reverse("wagtail_lti:lti13_token"),
                key_set_url=demo.base_url + reverse("wagtail_lti:lti13_jwks"),
                private_key_pem=generate_private_key_pem(),
            )
            demo.created.append("demo tool registration (LTI 1.3)")

        # Both sides in sync on --url: providers' tool URLs and PEM, the tool's issuer, client and
        # deployment IDs and the platform's endpoints (demo_tool.setup, idempotent).
        from demo_tool.setup import ensure_demo_registrations

        synced = ensure_demo_registrations(demo.base_url, demo.orgs[COMPANY])
        demo.created += [f"demo tool: {item}" for item in synced["created"]]

    # --- Output ---------------------------------------------------------------------------------

    def summary(self, demo: Demo) -> None:
        out = self.stdout
        if demo.created:
            out.write(f"Created {len(demo.created)} demo item(s):")
            for item in demo.created:
                out.write(f"  + {item}")
        else:
            out.write("Demo data already present; nothing changed.")
        for item in demo.skipped:
            out.write(f"  (skipped: {item})")
        out.write("")
        out.write(self.style.SUCCESS(f"Site:  {demo.base_url}/"))
        out.write(f"Admin: {demo.base_url}/admin/")
        if demo.course is not None:
            out.write(f"Course: {demo.base_url}{demo.course.url}")
            class_view = reverse("wagtail_lti:class_view", args=[demo.course.pk])
            out.write(f"Class view (instructor / instructor): {demo.base_url}{class_view}")
        out.write("Logins (username / password):")
        for username, password, _, _, description in USERS:
            out.write(f"  {username + ' / ' + password:<25} {description}")
        self.where_to_try(demo)

    def where_to_try(self, demo: Demo) -> None:
        """Where to try the features the demo tool answers besides launches."""
        tool = self._demo_tool_url(demo, "index")
        if not tool or not demo.providers:
            return
        out = self.stdout
        select = demo.base_url + reverse("wagtail_lti_select_content")
        register = demo.base_url + reverse("wagtail_lti_register_tool")
        out.write("")
        out.write(f"Demo tool: {tool}")
        out.write("Try, logged in as editor / editor:")
        out.write(
            "  Add from a tool (Deep Linking, Content-Item): LTI > LTI resource links > "
            f"Add from a tool ({select}), choose “Demo tool (LTI 1.3)” or “Demo tool (LTI 1.1)”"
        )
        out.write(
            "  Register a tool by URL (Dynamic Registration): LTI > LTI providers > Register a "
            f"tool by URL ({register}), registration URL "
            f"{self._demo_tool_url(demo, 'register')}"
        )
        report = demo.base_url + reverse("wagtail_lti_results_report")
        out.write(
            "  Review a submission (Submission Review): once learner1 has sent a score from the "
            "LTI 1.3 activity, “Review in the demo tool” appears in Reports > LTI results "
            f"({report}) and, for learner1, on the course page"
        )
        if demo.course is not None:
            edit = demo.base_url + reverse("wagtailadmin_pages:edit", args=[demo.course.pk])
            out.write(
                "  Content from a tool in a page: edit the course page "
                f"({edit}), type “/” in a paragraph and choose “Insert from a tool” (or add a "
                "“Tool content” block), then pick a link, the fact box, the diagram or an "
                "activity in the demo tool"
            )

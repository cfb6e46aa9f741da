"""The records tests build: providers, resource links, course pages, learners, enrollments.

One factory per record, used by every test (import what you use). A course page is a real
``courses.CoursePage`` published under the default site's root page, so publishing goes through
Wagtail's ``page_published`` signal and serving through Wagtail's view. The fixtures built on
these (``provider``, ``link``, ``course``, ``learner``, ``orgs``, ...) are in
``tests/support/fixtures.py``.
"""

from __future__ import annotations

import itertools

from django.contrib.auth import get_user_model


_counter = itertools.count(1)

#: The LTI 1.1 key and secret a provider gets unless told otherwise.
KEY = "tool-key"
SECRET = "tool secret & more"


def make_provider(
    organization,
    *,
    name="Quiz tool",
    version="1.1",
    key=KEY,
    secret=SECRET,
    available_to=(),
    **fields,
):
    """An LTI Provider of ``organization`` (LTI 1.1 with ``key`` and ``secret`` unless told
    otherwise; ``version="1.3"`` for an LTI 1.3 tool; ``secret=None``: no secret stored), shared
    with ``available_to``."""
    from wagtail_lti.models import LtiProvider

    provider = LtiProvider(
        name=name, organization=organization, lti_version=version, consumer_key=key, **fields
    )
    if secret is not None:
        provider.secret = secret
    provider.save()
    if available_to:
        provider.available_to.set(available_to)
        provider.save()
    return provider


def make_link(
    provider,
    *,
    name="Quiz 1",
    organization=None,
    url="https://tool.example.com/launch?item=1",
    available_to=(),
    **fields,
):
    """An LTI Resource Link to ``provider``, owned by ``organization`` (the provider's unless
    told otherwise), shared with ``available_to``."""
    from wagtail_lti.models import LtiResourceLink

    link = LtiResourceLink(
        name=name,
        organization=organization or provider.organization,
        provider=provider,
        url=url,
        **fields,
    )
    link.save()
    if available_to:
        link.available_to.set(available_to)
        link.save()
    return link


def site_root():
    """The default site's root page; recreated (locale, root, home page, site) when a
    transactional test flushed what Wagtail's migrations created."""
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale, Page, Site

    site = Site.objects.filter(is_default_site=True).first()
    if site is None:
        from courses.models import HomePage
        from django.conf import settings

        Locale.objects.get_or_create(
            language_code=get_supported_content_language_variant(settings.LANGUAGE_CODE)
        )
        root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
        home = root.add_child(instance=HomePage(title="Home", slug="home"))
        site = Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    return site.root_page.specific


def make_course(organization, links, *, title=None, code="ENG-101", publish=True, parent=None):
    """A published course page with one activity block per link (``(link, title)`` pairs allowed)."""
    from courses.models import CoursePage

    number = next(_counter)
    body = []
    for item in links:
        link, block_title = item if isinstance(item, tuple) else (item, "")
        body.append(("lti_activity", {"resource_link": link, "title": block_title}))
    page = CoursePage(
        title=title or f"Course {number}",
        slug=f"course-{number}",
        course_organization=organization,
        course_code=code,
        body=body,
    )
    (parent or site_root()).add_child(instance=page)
    if publish:
        page.save_revision().publish()
    else:
        page.save_revision()
    page.refresh_from_db()
    return page


def make_learner(username="lee", **fields):
    return get_user_model().objects.create_user(
        username=username,
        password="password",
        email=fields.pop("email", f"{username}@example.com"),
        first_name=fields.pop("first_name", "Lee"),
        last_name=fields.pop("last_name", "Learner"),
        **fields,
    )


def enroll(user, course, role="learner", via="class"):
    from wagtail_lti.models import Enrollment

    return Enrollment.objects.create(user=user, course=course, role=role, via=via)


def placements_of(page):
    from wagtail_lti.models import Placement

    return list(Placement.objects.filter(page=page, is_active=True).order_by("pk"))

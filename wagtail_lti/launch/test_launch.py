"""An editor's test launch: trying an activity before learners do (Canvas's "Student view",
Moodle's "Test launch").

An editor launches a tool as themselves with the ``Instructor`` role, or as their **test
learner** with the ``Learner`` role, from three doors:

* a resource link or a provider in the admin's catalogue (no course: the tool gets a test context
  and a test resource link of its own; no scores can come back);
* an activity of a course page (the page itself, or its preview) for the editors of that course:
  the placement's real course context, resource link id and, for a test learner, its result id or
  AGS claim, so the tool's scores come back.

The rules, all here:

* **Who may test-launch what** (:func:`check_may_test_launch`): an activity of a course, whoever
  manages the course's organization (``scoping.user_manages``: the editors who see its roster and
  results), while the course's organization may use the link and its provider
  (``rules.check_tool_usable``; the course page offers the test launches to the same editors,
  asking ``scoping.manages_expression`` in the query it makes anyway); a resource link or provider of the catalogue, whoever manages an
  organization that may use it (``scoping.usable_by_any_managed``), when the provider is enabled
  and set up (``rules.check_provider_ready``). Nothing else: no enrollment is needed.
* **Who the tool sees** (:func:`person_for`): the editor (``Instructor``), or the editor's test
  learner (``Learner``): one user per editor and course (:func:`test_learner`, a ``TestLearner``
  row; an account without a password or email, so nobody logs in as it), enrolled in the course as ``Via.TEST``, so the
  tool's scores for it are accepted (AGS, Basic Outcomes) and recorded on its own rows, which the
  results report never counts (:func:`counted_enrollments`). What the tool learns of either person
  is the privacy rule's (``launch.privacy.launch_user``).
* **One launch path**: the context is ``launch.context.build_launch_context`` (a course's
  activity) or :func:`catalogue_context`; LTI 1.1 signs with ``launch.lti11``, LTI 1.3 starts with
  ``launch.lti13.start_login`` / ``start_message``, whose authorization step re-checks this rule
  (:func:`recheck`) instead of the learner's enrollment and records the launch for the test learner
  only (:func:`progress_of`). The launch log marks every row of it ``is_test``.
* The tool's way back is the test launch's own return URL (``wagtail_lti:test_launch_return``),
  which records what the tool said in the launch log and shows it to the editor.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..lti.context import LaunchContext
from ..models import Enrollment, LtiProvider, LtiResourceLink, TestLearner
from .rules import LaunchRefused, check_provider_ready, check_tool_usable
from .targets import LaunchTarget, launch_target


INSTRUCTOR = "instructor"
LEARNER = "learner"
#: The roles an editor may test-launch with, and how the admin names them.
ROLES = {INSTRUCTOR: gettext_lazy("Instructor"), LEARNER: gettext_lazy("Test learner")}
LTI_ROLES = {INSTRUCTOR: ("Instructor",), LEARNER: ("Learner",)}
#: What the launch log's action says of a test launch.
TEST_ACTION = "Test launch"


@dataclass
class TestTarget:
    """What an editor test-launches: an activity of a course page (``target``), or a resource
    link or a provider of the catalogue (``target`` is ``None``)."""

    provider: LtiProvider
    link: LtiResourceLink | None = None
    target: LaunchTarget | None = None

    @property
    def placement(self):
        return self.target.placement if self.target is not None else None

    @property
    def course(self):
        """The course's facts (``targets.CourseFacts``), or ``None`` outside a course."""
        return self.target.course if self.target is not None else None

    @property
    def title(self) -> str:
        if self.placement is not None:
            return self.placement.title or (self.link.name if self.link else "")
        return self.link.name if self.link is not None else self.provider.name

    def query(self) -> dict[str, str]:
        """The URL parameters naming this target (the test launch and return URLs)."""
        if self.placement is not None:
            return {"placement": self.placement.lti_id}
        if self.link is not None:
            return {"link": str(self.link.pk)}
        return {"provider": str(self.provider.pk)}


def _not_found() -> LaunchRefused:
    return LaunchRefused(
        _("This activity or tool does not exist (any more)."), status=404, code="not_found"
    )


def find_target(params) -> TestTarget:
    """The :class:`TestTarget` named by ``params`` (``placement``: an activity's ``lti_id``;
    ``link`` or ``provider``: a primary key); :class:`LaunchRefused` 404 when there is none."""
    if params.get("placement"):
        target = launch_target(lti_id=str(params["placement"]))
        if target is None or target.link is None:
            raise _not_found()
        return TestTarget(provider=target.provider, link=target.link, target=target)
    for name, model in (("link", LtiResourceLink), ("provider", LtiProvider)):
        value = str(params.get(name) or "")
        if value:
            if not value.isdigit():
                raise _not_found()
            queryset = model.objects.filter(pk=int(value))
            if model is LtiResourceLink:
                queryset = queryset.select_related("provider")
            record = queryset.first()
            if record is None:
                raise _not_found()
            if model is LtiResourceLink:
                return TestTarget(provider=record.provider, link=record)
            return TestTarget(provider=record)
    raise _not_found()


def role_of(params) -> str:
    """The role asked for (``role``): :data:`INSTRUCTOR` unless :data:`LEARNER`; anything else is
    a :class:`LaunchRefused` 400."""
    role = str(params.get("role") or INSTRUCTOR)
    if role not in ROLES:
        raise LaunchRefused(
            _("A test launch is made as an instructor or as a test learner."),
            status=400,
            code="bad_role",
        )
    return role


# --- Who may test-launch what -----------------------------------------------------------------


def check_may_test_launch(user, test: TestTarget) -> None:
    """Raise :class:`LaunchRefused` unless ``user`` may test-launch ``test`` now (the rule: see
    the module docstring). A record the user may not see is "not found" (404)."""
    from .. import scoping

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        raise LaunchRefused(_("Log in to start this activity."), code="login_required")
    if test.target is not None:
        target = test.target
        course = target.course
        if not target.placement.is_active or course is None:
            raise LaunchRefused(
                _("This activity has been removed from the course."), status=404, code="removed"
            )
        if not course.is_course or course.organization is None:
            raise LaunchRefused(
                _("This page is not set up as a course, so its activities cannot be launched."),
                code="not_a_course",
            )
        if not scoping.user_manages(user, course.organization):
            raise LaunchRefused(
                _(
                    "Only the editors of “%(course)s” (who manage %(organization)s) may make a "
                    "test launch of its activities."
                )
                % {"course": course.title, "organization": course.organization},
                code="not_course_editor",
            )
        check_tool_usable(target)
        return
    records = [test.provider] if test.link is None else [test.link, test.provider]
    for record in records:
        visible = scoping.usable_by_any_managed(type(record).objects.filter(pk=record.pk), user)
        if not visible.exists():
            raise _not_found()
    check_provider_ready(test.provider)


def may_test_launch(user, test: TestTarget) -> bool:
    """Whether ``user`` may test-launch ``test`` (:func:`check_may_test_launch`), for the doors
    that only show the way to one."""
    try:
        check_may_test_launch(user, test)
    except LaunchRefused:
        return False
    return True


# --- The test learner -------------------------------------------------------------------------


def test_learner(editor, course_id: int | None = None):
    """The test learner of ``editor`` in the course ``course_id`` (``None``: of the catalogue's
    test launches), created (and enrolled, ``Via.TEST``) the first time."""
    found = TestLearner.objects.select_related("user").filter(editor=editor, course_id=course_id)
    row = found.first()
    if row is None:
        User = get_user_model()
        user = User(**{User.USERNAME_FIELD: f"lti-test-learner-{secrets.token_hex(8)}"})
        name = editor.get_full_name() if hasattr(editor, "get_full_name") else ""
        if hasattr(user, "first_name"):
            user.first_name = _("Test learner")
        if hasattr(user, "last_name"):
            user.last_name = f"({(name or editor.get_username()).strip()})"[:150]
        # Never logs in (no password, no email for a reset): only a tool hears of it. Active, as
        # the scores a tool sends are for active users (security/sourcedid.py, services/ags.py).
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
                row = TestLearner.objects.create(course_id=course_id, editor=editor, user=user)
        except IntegrityError:  # made at the same moment by another request
            row = found.get()
    if course_id is not None:
        enrollment, created = Enrollment.objects.get_or_create(
            course_id=course_id,
            user=row.user,
            defaults={"role": Enrollment.Role.LEARNER, "via": Enrollment.Via.TEST},
        )
        if not created and not enrollment.is_active:
            enrollment.is_active = True
            enrollment.save(update_fields=["is_active"])
    return row.user


def is_test_learner(user) -> bool:
    return TestLearner.objects.filter(user_id=getattr(user, "pk", None)).exists()


def counted_enrollments(enrollments):
    """``enrollments`` without the editors' test learners: what the results report counts."""
    return enrollments.exclude(via=Enrollment.Via.TEST)


def person_for(editor, test: TestTarget, role: str):
    """The user the tool is told about: the editor, or the editor's test learner."""
    if role == LEARNER:
        course = test.course
        return test_learner(editor, course.pk if course is not None else None)
    return editor


# --- The launch ---------------------------------------------------------------------------------


def return_url(request: HttpRequest, test: TestTarget, role: str) -> str:
    """The test launch's ``launch_presentation_return_url``."""
    query = urlencode({**test.query(), "role": role})
    return request.build_absolute_uri(f"{reverse('wagtail_lti:test_launch_return')}?{query}")


def _test_id(kind: str, pk) -> str:
    from ..security.identifiers import test_launch_id

    return test_launch_id(kind, pk)


def catalogue_context(request: HttpRequest, test: TestTarget, person, role: str) -> LaunchContext:
    """The launch context of a test launch from the catalogue: the test context of the editor
    (its own ``context_id``), a test resource link per link or provider, the link's (or the
    provider's) custom parameters; the person as the privacy rule allows."""
    from ..conf import lti_settings
    from .context import platform_info, presentation, request_locale, tool_custom_parameters
    from .privacy import launch_user

    link = test.link
    # Where it opens, as a learner's launch says it (a provider alone: the test page's frame).
    where = (
        presentation(link)
        if link is not None
        else {"document_target": "iframe", "height": lti_settings.IFRAME_HEIGHT}
    )
    kind, pk = ("link", link.pk) if link is not None else ("provider", test.provider.pk)
    return LaunchContext(
        user=launch_user(test.provider, person),
        roles=LTI_ROLES[role],
        context_id=_test_id("context", request.user.pk),
        context_title=_("Test launches"),
        context_label="TEST",
        resource_link_id=_test_id(kind, pk),
        resource_link_title=test.title,
        resource_link_description=link.description if link is not None else "",
        target_url=(link.url if link is not None else "") or test.provider.launch_url,
        platform=platform_info(request),
        custom=tool_custom_parameters(test.provider, link),
        locale=request_locale(),
        return_url=return_url(request, test, role),
        **where,
    )


def launch_context(request: HttpRequest, test: TestTarget, person, role: str) -> LaunchContext:
    if test.target is None:
        return catalogue_context(request, test, person, role)
    from .context import build_launch_context

    enrollment = Enrollment(
        role=Enrollment.Role.INSTRUCTOR if role == INSTRUCTOR else Enrollment.Role.LEARNER
    )
    return build_launch_context(
        request, test.target, enrollment, person=person, return_to=return_url(request, test, role)
    )


def start(request: HttpRequest, test: TestTarget, role: str) -> HttpResponse:
    """Start the test launch of ``test`` as ``role`` for ``request.user`` (checked by the caller
    with :func:`check_may_test_launch`): LTI 1.1's signed form or LTI 1.3's login initiation."""
    from .. import launch_log

    person = person_for(request.user, test, role)
    ctx = launch_context(request, test, person, role)
    launch_log.note(request, is_test=True, action=f"{TEST_ACTION} as {role}")
    provider = test.provider
    if provider.is_lti13:
        return _start_lti13(request, test, role, person, ctx)
    from . import lti11

    if test.target is not None:
        return lti11.launch_form(
            request, test.target, ctx, progress_of=person if role == LEARNER else None
        )
    if not ctx.target_url:
        raise _not_set_up()
    return lti11.signed_form(request, provider=provider, url=ctx.target_url, ctx=ctx)


def _not_set_up() -> LaunchRefused:
    return LaunchRefused(
        _(
            "This tool cannot be launched: it has no launch URL (or, for LTI 1.3, no login URL) "
            "set up."
        ),
        code="provider_incomplete",
    )


def _start_lti13(request, test: TestTarget, role: str, person, ctx) -> HttpResponse:
    from . import lti13

    keep = {"test": {"role": role, "person": person.pk, "target": test.query()}}
    if test.target is not None:
        return lti13.start_login(request, test.placement, ctx, keep=keep)
    provider = test.provider
    if not provider.login_url or not ctx.target_url:
        raise _not_set_up()
    started = lti13.start_message(
        request,
        provider,
        ctx,
        message_type=lti13.RESOURCE_LINK_REQUEST,
        keep=keep,
        deployment_id=provider.deployment_id,
        title=ctx.resource_link_title or provider.name,
        message=_("Opening the activity…"),
        button=_("Continue to the activity"),
        framable=True,
    )
    return started.response


# --- The authorization step of LTI 1.3 -------------------------------------------------------


def recheck(user, test_data: dict, target: LaunchTarget | None) -> None:
    """At the LTI 1.3 authorization step of a test launch: the editor may still test-launch
    what the launch was started for (the test launch's rule, not a learner's enrollment)."""
    if target is not None:
        test = TestTarget(provider=target.provider, link=target.link, target=target)
    else:
        test = find_target(test_data.get("target") or {})
    check_may_test_launch(user, test)


def progress_of(test_data: dict, editor):
    """Whose launch a test launch records: the test learner's (``Learner``), nobody's
    (``Instructor``)."""
    if test_data.get("role") != LEARNER:
        return None
    row = (
        TestLearner.objects.select_related("user")
        .filter(editor=editor, user_id=test_data.get("person"))
        .first()
    )
    return row.user if row is not None else None


def role_label(role: str) -> str:
    return str(ROLES.get(role, ROLES[INSTRUCTOR]))


# Not tests, whatever pytest thinks of their names when a test module imports them.
TestTarget.__test__ = False
test_learner.__test__ = False

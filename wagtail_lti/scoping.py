"""Organization scoping, in one place.

Every door (listings, edit/delete/history/usage views, choosers, form validation, launches) asks
this module. Two questions are answered here:

* **Which organizations does a user manage?** Those where the user is a manager, and all their
  sub-organizations. Superusers manage every organization.
* **Which organizations may use a record?** The availability rule: a provider or resource link can
  be used by its owning organization, by each organization on its Availability tab, and by all
  their sub-organizations.

Both are answered with a constant number of queries whatever the size of the tree: organizations
are a materialized-path tree, so "X and its descendants" is ``path__startswith`` and "X and its
ancestors" is ``path__in`` the prefixes of X's path.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import reduce
from operator import or_
from typing import TYPE_CHECKING

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast

from .models import Enrollment, Organization, OrganizationMembership, OrganizationOwnedMixin


if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

_CACHE_ATTR = "_wagtail_lti_managed_paths"


def _minimal_roots(paths: Iterable[str]) -> list[str]:
    """Drop paths that lie under another path of the list."""
    roots: list[str] = []
    for path in sorted(set(paths)):
        if not roots or not path.startswith(roots[-1]):
            roots.append(path)
    return roots


def managed_root_paths(user: User) -> list[str] | None:
    """Paths of the top-most organizations the user manages; ``None`` means all (superuser).

    One query, cached on the user object for the rest of the request.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return None
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    paths = OrganizationMembership.objects.filter(
        user=user, role=OrganizationMembership.Role.MANAGER
    ).values_list("organization__path", flat=True)
    roots = _minimal_roots(paths)
    setattr(user, _CACHE_ATTR, roots)
    return roots


def _subtree_q(roots: list[str], field: str = "path") -> Q:
    if not roots:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__startswith": root}) for root in roots))


def managed_organizations(user: User) -> QuerySet[Organization]:
    """The organizations a user manages: a lazy queryset (one query when evaluated)."""
    roots = managed_root_paths(user)
    qs = Organization.objects.all()
    if roots is None:
        return qs
    return qs.filter(_subtree_q(roots))


def user_manages(user: User, organization: Organization | None) -> bool:
    """Whether ``user`` manages ``organization`` (no query once the roots are cached)."""
    if organization is None:
        return False
    roots = managed_root_paths(user)
    if roots is None:
        return True
    return any(organization.path.startswith(root) for root in roots)


def manages_expression(user: User, path: str = "path"):
    """:func:`user_manages` as an expression on a query of organizations (``path``: the field
    holding the organization's path), for a page that must read it in a query it already makes
    (a course page's editors, ``courses/view.py``). ``Value(True)`` for superusers."""
    from django.db.models import BooleanField, CharField, ExpressionWrapper, F, OuterRef, Value
    from django.db.models.lookups import StartsWith

    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Value(False, output_field=BooleanField())
    if user.is_superuser:
        return Value(True, output_field=BooleanField())
    outer_path = ExpressionWrapper(OuterRef(path), output_field=CharField())
    memberships = OrganizationMembership.objects.filter(
        StartsWith(outer_path, F("organization__path")),
        user_id=user.pk,
        role=OrganizationMembership.Role.MANAGER,
    )
    return Exists(memberships)


def owned_by_managed(queryset: QuerySet, user: User) -> QuerySet:
    """Records (providers, resource links) whose owning organization the user manages."""
    roots = managed_root_paths(user)
    if roots is None:
        return queryset
    return queryset.filter(_subtree_q(roots, "organization__path"))


def of_managed_providers(queryset: QuerySet, user: User, field: str = "provider") -> QuerySet:
    """Records about a provider whose provider's owning organization the user manages; records
    without a provider only for superusers."""
    roots = managed_root_paths(user)
    if roots is None:
        return queryset
    return queryset.filter(_subtree_q(roots, f"{field}__organization__path"))


# --- Launch log -----------------------------------------------------------------------------------
# Who sees which launch-log entries (``LaunchLogEntry``) and which of their fields. An entry has two
# parties: the provider's owning organization (its tool was launched or called) and the entry's
# ``organization``, whose data the person, the course and the debug data are (the course's
# organization; the organization a content selection was made for).
#
# * Managers of the entry's organization see the entry in full.
# * Managers of the provider's organization see the entry; in full only when the entry has no
#   organization (token requests, unknown clients, entries of a provider nobody else uses);
#   otherwise the date, kind, outcome, HTTP status, provider, action and error only: that their
#   tool was launched or called and how it went, not who, in which course, nor what was sent.
# * Superusers see everything. Entries with neither a provider nor an organization: superusers.


def launch_log_visible_to(entries: QuerySet, user: User) -> QuerySet:
    """The launch log entries ``user`` may see at all (the listing, its exports, the detail view)."""
    roots = managed_root_paths(user)
    if roots is None:
        return entries
    if not roots:
        return entries.none()
    return entries.filter(
        _subtree_q(roots, "provider__organization__path") | _subtree_q(roots, "organization__path")
    )


def launch_log_details_q(user: User) -> Q:
    """The condition on an entry for ``user`` to see its person, course, activity and debug data
    (and to find it by the person's username); ``Q()`` (everything) for superusers."""
    roots = managed_root_paths(user)
    if roots is None:
        return Q()
    return _subtree_q(roots, "organization__path") | (
        Q(organization__isnull=True) & _subtree_q(roots, "provider__organization__path")
    )


def with_launch_log_details(entries: QuerySet, user: User) -> QuerySet:
    """``entries`` annotated with ``shows_details``: :func:`launch_log_details_q` per entry."""
    from django.db.models import BooleanField, ExpressionWrapper, Value

    roots = managed_root_paths(user)
    if roots is None or not roots:
        return entries.annotate(shows_details=Value(roots is None, output_field=BooleanField()))
    return entries.annotate(
        shows_details=ExpressionWrapper(launch_log_details_q(user), output_field=BooleanField())
    )


def usable_by(queryset: QuerySet, organization: Organization) -> QuerySet:
    """Records the organization may use under the availability rule (one query, no duplicates)."""
    ancestors = organization.ancestor_paths()
    through = queryset.model.available_to.through
    shared = through.objects.filter(
        **{f"{queryset.model._meta.model_name}_id": OuterRef("pk")},
        organization__path__in=ancestors,
    )
    return queryset.filter(Q(organization__path__in=ancestors) | Exists(shared))


def usable_by_any_managed(queryset: QuerySet, user: User) -> QuerySet:
    """Records usable by at least one organization the user manages (for choosers)."""
    roots = managed_root_paths(user)
    if roots is None:
        return queryset
    if not roots:
        return queryset.none()
    # Usable by some organization O under a root R: the record's owner or one of its
    # availability organizations is R's ancestor-or-self, or lies inside R's subtree.
    ancestor_paths = {p for root in roots for p in Organization(path=root).ancestor_paths()}
    through = queryset.model.available_to.through
    shared = through.objects.filter(
        Q(organization__path__in=ancestor_paths) | _subtree_q(roots, "organization__path"),
        **{f"{queryset.model._meta.model_name}_id": OuterRef("pk")},
    )
    return queryset.filter(
        Q(organization__path__in=ancestor_paths)
        | _subtree_q(roots, "organization__path")
        | Exists(shared)
    )


def is_usable_by(record, organization: Organization | None) -> bool:
    """Whether one record may be used by ``organization`` (one query)."""
    if organization is None or record is None:
        return False
    return usable_by(type(record).objects.filter(pk=record.pk), organization).exists()


# --- May use, may edit ---------------------------------------------------------------------------
# A provider or resource link is *edited* (edit, delete, its Availability tab) by the managers of its
# owning organization (``owned_by_managed``, the permission policy's rule). It is *used* (listed
# read-only, inspected, chosen for a course, its history read) by the managers of every
# organization that may use it (``usable_by_any_managed``). The admin listings show what a user may
# use, each row marked owned or shared.

OWNED, SHARED = "owned", "shared"


def listed_records(queryset: QuerySet, user: User) -> QuerySet:
    """The providers or resource links the admin lists for ``user``: those an organization they
    manage may use (which includes those it owns), annotated with ``is_owned`` (may edit)."""
    from django.db.models import BooleanField, ExpressionWrapper, Value

    roots = managed_root_paths(user)
    if roots is None:
        return queryset.annotate(is_owned=Value(True, output_field=BooleanField()))
    return usable_by_any_managed(queryset, user).annotate(
        is_owned=ExpressionWrapper(
            _subtree_q(roots, "organization__path"), output_field=BooleanField()
        )
    )


def filter_ownership(queryset: QuerySet, user: User, value: str | None) -> QuerySet:
    """The listing's "Owned by us / Shared with us / All" filter (``OWNED``, ``SHARED``, empty)."""
    if value not in (OWNED, SHARED):
        return queryset
    roots = managed_root_paths(user)
    if roots is None:  # a superuser may edit everything: nothing is merely shared with them
        return queryset if value == OWNED else queryset.none()
    owned = _subtree_q(roots, "organization__path")
    return queryset.filter(owned) if value == OWNED else queryset.exclude(owned)


def may_edit(user: User, record) -> bool:
    """Whether ``user`` may edit (and delete, and share) a provider or resource link: they manage
    its owning organization."""
    if record is None or getattr(record, "organization_id", None) is None:
        return False
    return user_manages(user, record.organization)


def may_use(user: User, record) -> bool:
    """Whether ``user`` may see a provider or resource link read-only (listing, inspect view,
    choosers): an organization they manage may use it."""
    if record is None or record.pk is None:
        return False
    if may_edit(user, record):
        return True
    records = type(record)._default_manager.filter(pk=record.pk)
    return usable_by_any_managed(records, user).exists()


# --- Sharing (the Availability tab) ----------------------------------------------------------------
# Who may share with whom. Sharing grants use only, never edit: the organizations on a record's
# Availability tab (and their sub-organizations) may place it in their courses and launch it; only
# the owner's managers change it. An editor may offer a record they may edit to:
#
# * every organization they manage, and
# * every organization of the same top-level organization as one they manage (their company's
#   departments and teams), found by search or in the tree.
#
# Organizations of other top-level organizations (other companies, partners) are neither offered nor
# named: a superuser (who may offer any organization) or a manager there shares with them.
# Organizations already on the tab that the editor may not offer are kept unchanged on save.


def shareable_organizations(user: User) -> QuerySet[Organization]:
    """The organizations ``user`` may make a record available to (see above): a lazy queryset."""
    roots = managed_root_paths(user)
    qs = Organization.objects.all()
    if roots is None:
        return qs
    if not roots:
        return qs.none()
    steplen = Organization.steplen
    tops = sorted({root[:steplen] for root in roots})
    return qs.filter(_subtree_q(tops))


def availability_shown(record, user: User) -> tuple[list[Organization], int]:
    """The organizations on ``record``'s Availability tab that ``user`` is shown by name, and how
    many others there are. Those who may edit the record see every name; those who only use it see
    the organizations they manage (the others are counted). Reads the prefetched
    ``available_to`` when there is one."""
    organizations = sorted(record.available_to.all(), key=lambda org: org.path)
    if may_edit(user, record):
        return organizations, 0
    shown = [org for org in organizations if user_manages(user, org)]
    return shown, len(organizations) - len(shown)


def first_managed_organization(user: User) -> Organization | None:
    """The default organization for a new record: the user's first managed one (tree order)."""
    return managed_organizations(user).order_by("path").first()


def choosable(queryset: QuerySet, user: User, organization: Organization | None = None) -> QuerySet:
    """Records a user may pick in a chooser.

    With ``organization`` (the organization of the record being edited, passed by the chooser's
    linked field): the records that organization may use, and only if the user manages it.
    Without: the records usable by at least one organization the user manages.
    """
    if organization is not None:
        if not user_manages(user, organization):
            return queryset.none()
        return usable_by(queryset, organization)
    return usable_by_any_managed(queryset, user)


# --- Courses --------------------------------------------------------------------------------------
# Course pages carry their organization in ``course_organization`` (``CoursePageMixin``), on
# whichever page models use the mixin; these answer with base ``Page`` querysets (one query).


def _courses_under(roots: list[str] | None) -> QuerySet:
    from .models.courses import Enrollment, get_course_page_models

    page_model = Enrollment._meta.get_field("course").related_model
    condition = Q(pk__in=[])
    for model in get_course_page_models():
        pages = model._default_manager.all()
        if roots is not None:
            pages = pages.filter(_subtree_q(roots, "course_organization__path"))
        condition |= Q(pk__in=pages.values("pk"))
    return page_model._default_manager.filter(condition)


def managed_courses(user: User) -> QuerySet:
    """Course pages whose organization the user manages (every course for a superuser)."""
    return _courses_under(managed_root_paths(user))


def courses_of_organization(organization: Organization) -> QuerySet:
    """Course pages of ``organization`` and of its sub-organizations."""
    return _courses_under([organization.path])


def enrollments_of_managed_courses(queryset: QuerySet, user: User) -> QuerySet:
    """Enrollments in courses whose organization the user manages (every one for a superuser)."""
    if managed_root_paths(user) is None:
        return queryset
    return queryset.filter(course__in=managed_courses(user))


# --- Admin history ---------------------------------------------------------------------------------
# Wagtail's audit log of wagtail-lti records (``LtiLogEntry``): Reports → "Site history", its
# filters and exports, and each record's own history page.


def memberships_of_managed(queryset: QuerySet, user: User) -> QuerySet:
    """Memberships of organizations the user manages."""
    if managed_root_paths(user) is None:
        return queryset
    return queryset.filter(organization__in=managed_organizations(user))


def admin_visible_records(model, user: User) -> QuerySet | None:
    """The records of ``model`` the user may see in the admin: the rule of the model's listing.

    Providers and resource links: owned by an organization the user manages, the records they may
    edit (records merely made available to the user's organizations can be used there, in
    choosers and launches, listed and inspected read-only (:func:`listed_records`,
    :func:`may_use`) and their history read (:func:`history_records`), but not edited). Organizations: managed ones. Memberships: of managed
    organizations. Enrollments: in courses of managed organizations. ``None``: no rule for the
    model, so only superusers see its records' history.
    """
    if issubclass(model, OrganizationOwnedMixin):
        return owned_by_managed(model._default_manager.all(), user)
    if model is Organization:
        return managed_organizations(user)
    if model is OrganizationMembership:
        return memberships_of_managed(model._default_manager.all(), user)
    if model is Enrollment:
        return enrollments_of_managed_courses(model._default_manager.all(), user)
    return None


def history_records(model, user: User) -> QuerySet | None:
    """The records of ``model`` whose admin history ``user`` may read.

    The admin listing's rule (:func:`admin_visible_records`) and, for providers and resource links,
    also the records usable by an organization the user manages (:func:`usable_by_any_managed`:
    shared with it on the Availability tab, or owned by one of its parent organizations). Their
    owner can change them (URLs, privacy options) for every organization that uses them; the
    managers of those organizations read who changed what and when. ``None``: no rule for the
    model (only superusers).
    """
    visible = admin_visible_records(model, user)
    if visible is not None and issubclass(model, OrganizationOwnedMixin):
        return visible | usable_by_any_managed(model._default_manager.all(), user)
    return visible


def may_read_history(user: User, record) -> bool:
    """Whether ``user`` may open ``record``'s own history page (:func:`history_records`)."""
    if record is None or record.pk is None:
        return False
    if managed_root_paths(user) is None:
        return True
    records = history_records(type(record), user)
    return records is not None and records.filter(pk=record.pk).exists()


def organization_id_of(record) -> int | None:
    """The organization a record belongs to, kept with each log entry of it.

    A provider's, link's or membership's organization; an organization's parent (whose managers
    manage it); an enrollment's course organization. ``None`` for anything else.
    """
    if isinstance(record, Organization):
        parent = record.get_parent() if record.path else None
        return parent.pk if parent is not None else None
    if isinstance(record, OrganizationOwnedMixin | OrganizationMembership):
        return record.organization_id
    if isinstance(record, Enrollment):
        course = record.course.specific if record.course_id else None
        return getattr(course, "course_organization_id", None)
    return None


def _pk_text(queryset: QuerySet) -> QuerySet:
    """The primary keys as text, to compare with a log entry's ``object_id``."""
    return queryset.order_by().annotate(_pk_text=Cast("pk", CharField())).values("_pk_text")


def history_visible_to(entries: QuerySet, user: User, models: Iterable[type]) -> QuerySet:
    """The log entries of ``entries`` (an ``LtiLogEntry`` queryset) the user may see.

    Only entries about records of ``models`` (those the user has a model permission for) count.
    An entry is visible when the user may read its record's history now (:func:`history_records`:
    the records the admin lists for the user, and the providers and resource links their
    organizations may use);
    once the record is deleted, when the user manages the organization recorded with the entry
    (:func:`organization_id_of` at the time of the action). Superusers see everything. One query
    when evaluated, whatever the number of entries.
    """
    roots = managed_root_paths(user)
    if roots is None:
        return entries
    if not roots:
        return entries.none()
    managed = managed_organizations(user).order_by().values("pk")
    condition = Q(pk__in=[])
    for model in models:
        visible = history_records(model, user)
        if visible is None:
            continue
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
        still_there = _pk_text(model._default_manager.all()).filter(_pk_text=OuterRef("object_id"))
        condition |= Q(content_type_id=content_type.pk) & (
            Q(object_id__in=_pk_text(visible))
            | (Q(organization_id__in=managed) & ~Exists(still_there))
        )
    return entries.filter(condition)


# --- Naming records ----------------------------------------------------------------------------------
# Error messages and "in use by" lists name a record only when the user may see it elsewhere in the
# admin; the others are counted, never named (a crafted id must not reveal another organization's
# course titles or link names).


def may_name(user: User, record) -> bool:
    """Whether the admin may show ``record``'s name to ``user``.

    Providers and resource links: those the user's listing or choosers show (owned by, or usable
    by, an organization they manage). Organizations, memberships, enrollments: the admin listing's
    rule (:func:`admin_visible_records`). Course pages, their placements and gradebook columns:
    courses of managed organizations; pages that are no course belong to no organization and are
    named (Wagtail's page permissions govern them). Superusers
    may see everything; anything else is not named.
    """
    from wagtail.models import Page

    from .models import LineItem, LtiProvider, LtiResourceLink, Placement

    if record is None:
        return False
    if managed_root_paths(user) is None:
        return True
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if isinstance(record, LtiProvider | LtiResourceLink):
        records = type(record)._default_manager.filter(pk=record.pk)
        return (
            owned_by_managed(records, user).exists()
            or usable_by_any_managed(records, user).exists()
        )
    if isinstance(record, Placement | LineItem):
        record = record.page if isinstance(record, Placement) else record.course
    if isinstance(record, Page):
        from .models.courses import CoursePageMixin

        if not issubclass(record.specific_class or Page, CoursePageMixin):
            return True  # a page that is no course belongs to no organization
        return managed_courses(user).filter(pk=record.pk).exists()
    visible = admin_visible_records(type(record), user)
    if visible is None:
        return False
    return visible.filter(pk=record.pk).exists()


# --- Organizations and people ------------------------------------------------------------------------


def may_delete_organization(user: User, organization: Organization) -> bool:
    """Whether ``user`` may delete ``organization``: superusers, and managers of its parent.

    A manager of X manages X's subtree but not X itself as a record of the tree: deleting X (and
    with it the memberships of X's other managers) is for whoever manages the level above.
    """
    if organization is None or not organization.path:
        return False
    roots = managed_root_paths(user)
    if roots is None:
        return True
    parent_path = organization.path[: -organization.steplen]
    return bool(parent_path) and any(parent_path.startswith(root) for root in roots)


def offerable_users(current_user_id: int | None = None) -> QuerySet:
    """The people a membership or enrollment form offers: active users who are not superusers
    (superusers manage everything and need neither), plus the record's current user so an existing
    record can be saved unchanged."""
    from django.contrib.auth import get_user_model

    users = get_user_model()._default_manager.all()
    condition = Q(is_active=True, is_superuser=False)
    if current_user_id is not None:
        condition |= Q(pk=current_user_id)
    return users.filter(condition)


# --- A course's class ---------------------------------------------------------------------------------
# Who sees a course's class (learners × activities, scores and their history) and who may override
# a score: asked by every door (the class view and its export, a cell's detail and its override
# form, the course page's link, the results report's link).


class ClassAccess:
    """What one person may do with one course's class (:func:`class_access`)."""

    __slots__ = ("may_see", "may_override", "as_instructor")

    def __init__(self, may_see: bool = False, may_override: bool = False, as_instructor=False):
        self.may_see = may_see
        self.may_override = may_override
        self.as_instructor = as_instructor

    def __bool__(self) -> bool:
        return self.may_see


def class_access(user: User, course) -> ClassAccess:
    """What ``user`` may do with the class of ``course`` (a course page).

    * An instructor (an active ``Instructor`` enrollment in the course) sees the class and may
      override scores.
    * An editor of the course's organization (:func:`managed_courses`) sees it with the
      permission to view learners' results (``wagtail_lti.view_learneractivity`` or
      ``change_learneractivity``, as the results report asks) and overrides scores with
      ``change_learneractivity``. Superusers may do both.
    * Nobody else: learners, another course's instructors, editors of other organizations.
    """
    if course is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return ClassAccess()
    if not hasattr(type(course), "course_organization"):
        return ClassAccess()
    if Enrollment.objects.filter(
        course_id=course.pk, user=user, is_active=True, role=Enrollment.Role.INSTRUCTOR
    ).exists():
        return ClassAccess(True, True, as_instructor=True)
    if not managed_courses(user).filter(pk=course.pk).exists():
        return ClassAccess()
    may_change = user.has_perm("wagtail_lti.change_learneractivity")
    may_view = may_change or user.has_perm("wagtail_lti.view_learneractivity")
    return ClassAccess(may_view, may_change)

"""Enrolling people in a course: many at once, and by themselves.

One module decides who is enrolled how; the admin's bulk form (``admin/courses.py``) and the course
page's "Enroll in this course" button (``courses/view.py``) only call it.

**Bulk enrollment** (:func:`read_upload`, :func:`read_people`, :func:`plan`, :func:`enroll`) is
all-or-nothing: every line names a person (a username, or an email address that belongs to exactly
one person) among those the admin offers (``scoping.offerable_users``: active, not superusers), or
nothing is enrolled and each bad line is reported with its number. People already on the roster and
lines naming someone a second time are not errors: they are skipped and reported. Everyone of an
organization the editor manages (its members and managers, and those of its sub-organizations) can
be added the same way. The input is bounded: ``BULK_ENROLLMENT_MAX_BYTES`` for a file and
``BULK_ENROLLMENT_MAX_ROWS`` people in all.

**Self-enrollment** (:func:`may_self_enroll`, :func:`self_enroll`): a course page whose
``allow_self_enrollment`` is ticked (off by default) offers a logged-in, active person who is not on
its roster "Enroll in this course"; they become a learner, ``via`` ``Enrollment.Via.SELF``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from .. import scoping
from ..conf import lti_settings
from ..models import Enrollment, OrganizationMembership


class BulkRefused(Exception):
    """The input cannot be read (too large, not text, too many rows): a message for the editor."""


#: Header cells skipped when they are the first line (a CSV exported from a spreadsheet).
HEADER_NAMES = {"username", "user", "email", "e-mail", "email address", "login"}


@dataclass
class Line:
    """One person of a bulk enrollment: where they came from and what becomes of them."""

    number: int | None  # line number in the pasted list or file; None: organization member
    value: str
    source: str = ""  # "Line %(number)d", "File line %(number)d": where the line is
    user: object = None
    status: str = ""  # NEW, ALREADY, DUPLICATE, UNKNOWN, AMBIGUOUS

    NEW, ALREADY, DUPLICATE, UNKNOWN, AMBIGUOUS = (
        "new",
        "already",
        "duplicate",
        "unknown",
        "ambiguous",
    )

    @property
    def is_problem(self) -> bool:
        return self.status in (self.UNKNOWN, self.AMBIGUOUS)

    def describe(self) -> str:
        if self.number is None:
            where = _("Organization member")
        else:
            where = (self.source or _("Line %(number)d")) % {"number": self.number}
        reason = {
            self.UNKNOWN: _("no person with this username or email address"),
            self.AMBIGUOUS: _("several people have this email address: use the username"),
            self.ALREADY: _("already enrolled, skipped"),
            self.DUPLICATE: _("named more than once, enrolled once"),
            self.NEW: _("enrolled"),
        }[self.status]
        return f"{where}: “{self.value}”: {reason}"


@dataclass
class Plan:
    """What a bulk enrollment would do; :func:`enroll` carries it out if it has no problems."""

    course: object
    role: str
    via: str
    lines: list[Line] = field(default_factory=list)

    def of(self, status: str) -> list[Line]:
        return [line for line in self.lines if line.status == status]

    @property
    def problems(self) -> list[Line]:
        return [line for line in self.lines if line.is_problem]

    @property
    def new(self) -> list[Line]:
        return self.of(Line.NEW)


def read_upload(upload) -> str:
    """The text of an uploaded CSV file, or :class:`BulkRefused` (too large, not UTF-8 text)."""
    limit = lti_settings.BULK_ENROLLMENT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise BulkRefused(
            _("The file is too large: at most %(kb)d KB. Split it into smaller files.")
            % {"kb": limit // 1024}
        )
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise BulkRefused(
            _("The file is too large: at most %(kb)d KB. Split it into smaller files.")
            % {"kb": limit // 1024}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BulkRefused(
            _(
                "The file is not a CSV text file (UTF-8). Save it from your spreadsheet as "
                "“CSV UTF-8” and try again."
            )
        ) from None
    if "\x00" in text:
        raise BulkRefused(_("The file is not a CSV text file: it contains binary data."))
    return text


def read_people(text: str, *, first_number: int = 1) -> list[tuple[int, str]]:
    """``(line number, username or email)`` for each non-blank line: the first cell of a CSV row
    (comma or semicolon separated); a header line (``username``, ``email``...) is skipped."""
    rows: list[tuple[int, str]] = []
    sample = text[:2048]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        for index, row in enumerate(reader):
            cell = next((c.strip() for c in row if c.strip()), "")
            if not cell:
                continue
            if index == 0 and cell.lower() in HEADER_NAMES:
                continue
            rows.append((first_number + index, cell[:254]))
            if len(rows) > lti_settings.BULK_ENROLLMENT_MAX_ROWS:
                raise BulkRefused(too_many())
    except csv.Error as exc:
        raise BulkRefused(
            _("The list could not be read as CSV: %(error)s") % {"error": exc}
        ) from None
    return rows


def too_many() -> str:
    return _("Too many people at once: at most %(max)d. Split the list.") % {
        "max": lti_settings.BULK_ENROLLMENT_MAX_ROWS
    }


def organization_members(organization):
    """Everyone of ``organization`` and its sub-organizations the admin may enroll."""
    memberships = OrganizationMembership.objects.filter(
        organization__path__startswith=organization.path
    ).values("user_id")
    return scoping.offerable_users().filter(pk__in=memberships).order_by("username")


def plan(course, entries, *, role: str, via: str, members=()) -> Plan:
    """What enrolling ``entries`` and ``members`` (users) in ``course`` would do.

    An entry is ``(line number, username or email)`` or ``(source, line number, username or
    email)``, the source saying where the line is (``"File line %(number)d"``). A constant number
    of queries, however many lines."""
    entries = [entry if len(entry) == 3 else ("", *entry) for entry in entries]
    result = Plan(course=course, role=role, via=via)
    members = list(members)
    if len(entries) + len(members) > lti_settings.BULK_ENROLLMENT_MAX_ROWS:
        raise BulkRefused(too_many())
    values = [value for _source, _number, value in entries]
    usernames = set(values)
    emails = {value.lower() for value in values if "@" in value}
    by_username, by_email = {}, {}
    if values:
        candidates = scoping.offerable_users().annotate(_email=Lower("email"))
        candidates = candidates.filter(Q(username__in=usernames) | Q(_email__in=emails))
        for user in candidates:
            by_username[user.get_username()] = user
            if user._email:
                by_email.setdefault(user._email, []).append(user)
    enrolled = set(Enrollment.objects.filter(course=course).values_list("user_id", flat=True))
    seen: set[int] = set()

    def add(line: Line, user) -> None:
        line.user = user
        if user.pk in seen:
            line.status = Line.DUPLICATE
        elif user.pk in enrolled:
            line.status = Line.ALREADY
        else:
            line.status = Line.NEW
        seen.add(user.pk)
        result.lines.append(line)

    for source, number, value in entries:
        line = Line(number=number, value=value, source=str(source))
        user = by_username.get(value)
        if user is None and "@" in value:
            matches = by_email.get(value.lower(), [])
            if len(matches) > 1:
                line.status = Line.AMBIGUOUS
            elif matches:
                user = matches[0]
        if user is not None:
            add(line, user)
        else:
            line.status = line.status or Line.UNKNOWN
            result.lines.append(line)
    for user in members:
        add(Line(number=None, value=user.get_username()), user)
    return result


def enroll(plan_: Plan) -> list[Enrollment]:
    """Carry out a plan without problems, in one transaction: all its new people, or nobody."""
    if plan_.problems:
        raise BulkRefused(
            _("Nobody was enrolled: %(count)d lines do not name one person.")
            % {"count": len(plan_.problems)}
        )
    rows = [
        Enrollment(course=plan_.course, user=line.user, role=plan_.role, via=plan_.via)
        for line in plan_.new
    ]
    try:
        with transaction.atomic():
            created = Enrollment.objects.bulk_create(rows)
    except IntegrityError:  # someone enrolled one of them meanwhile
        raise BulkRefused(
            _("The roster changed while you were enrolling: nobody was enrolled. Try again.")
        ) from None
    return created


# --- Self-enrollment ------------------------------------------------------------------------------


def may_self_enroll(course, user) -> bool:
    """Whether ``user`` may enroll in ``course`` (a live course page) by themselves."""
    if course is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    page = course.specific if hasattr(course, "specific") else course
    if not getattr(page, "allow_self_enrollment", False) or not page.live:
        return False
    return not Enrollment.objects.filter(course_id=page.pk, user=user).exists()


def self_enroll(course, user) -> Enrollment | None:
    """Enroll ``user`` as a learner through self-enrollment; ``None`` when they may not."""
    if not may_self_enroll(course, user):
        return None
    try:
        with transaction.atomic():
            return Enrollment.objects.create(
                course_id=course.pk,
                user=user,
                role=Enrollment.Role.LEARNER,
                via=Enrollment.Via.SELF,
            )
    except IntegrityError:  # a second click enrolled them already
        return None

"""The privacy rule: what a tool learns about a person, in one place.

A provider's privacy options decide it: ``send_name`` lets the tool receive the person's name
(full, given and family name) and username; ``send_email`` lets it receive the email address.
The opaque user id (``security.identifiers.opaque_user_id``) is always sent.

Every door that tells a tool about a person asks :func:`launch_user`: a learner's launch
(``launch.context.build_launch_context``, LTI 1.1 parameters and LTI 1.3 claims), a submission
review (the reviewer, and the learner in the ``for_user`` claim:
``services.submission_review``), an editor's
content selection (``content_selection.service.editor_context``: Deep Linking and Content-Item
requests), and the members of an NRPS roster (``services.views.nrps``, each member and the
``message`` of a resource link). The launch log's debug data is made from the parameters or
claims actually sent, so it carries what this rule let through and nothing else.
"""

from __future__ import annotations

from ..lti.context import LaunchUser
from ..security.identifiers import opaque_user_id


def _text(value) -> str:
    return (value or "").strip() if isinstance(value, str) else ""


def launch_user(provider, user) -> LaunchUser:
    """What ``provider`` may learn about ``user``: the opaque id always; the name and username
    only when ``provider.send_name``; the email only when ``provider.send_email``. Fields the
    provider may not receive are empty strings (the protocol core then leaves them out)."""
    full_name = given = family = username = email = ""
    if provider.send_name is True:
        given = _text(getattr(user, "first_name", ""))
        family = _text(getattr(user, "last_name", ""))
        full_name = _text(user.get_full_name() if hasattr(user, "get_full_name") else "")
        username = user.get_username()
    if provider.send_email is True:
        email = _text(getattr(user, "email", ""))
    return LaunchUser(
        id=opaque_user_id(user),
        username=username,
        full_name=full_name,
        given_name=given,
        family_name=family,
        email=email,
    )

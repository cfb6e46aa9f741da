"""The world a test sets up: the platform's records and what the tool holds.

One ``World`` for every area. A fixture fills in what its tests use and leaves the rest empty:

* LTI 1.3 launches (``tests/launch/test_lti13_launch.py``): ``provider``, ``link``, ``course``,
  ``placement``, ``learner`` (signed in on ``client``) and the tool's key pair;
* deep linking (``tests/content_selection/test_deep_linking.py``): ``orgs``, ``provider``, an
  ``existing`` link, an ``editor`` (signed in on ``client``) and the tool's key pair;
* hardening and fuzzing (``tests/support/hardening.py``): a course with an LTI 1.1 and an LTI 1.3
  activity (``provider11``, ``placement11``, ``tool``, ``placement13``, ``line_item``) and what the
  tools hold (``access_token``, ``registration_token``, ``secrets``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from tests.tooling.lti13_tool import make_tool_conf


#: The platform's issuer in tests (``ISSUER`` is empty in the example settings: the request's
#: scheme and host).
ISSUER = "http://testserver"


@dataclass
class World:
    client: object = None  # django.test.Client of the learner or editor
    orgs: dict | None = None
    provider: object = None  # the LTI 1.3 provider under test
    link: object = None
    existing: object = None  # a link the organization already has
    course: object = None
    placement: object = None
    learner: object = None
    editor: object = None
    tool_private: str = ""  # the tool's key pair (PEM)
    tool_public: str = ""
    provider11: object = None
    placement11: object = None
    tool: object = None  # tests.support.lti13.Tool
    placement13: object = None
    line_item: object = None
    access_token: str = ""
    registration_token: str = ""
    secrets: dict[str, str] = field(default_factory=dict)

    def tool_conf(self, provider=None, **kwargs):
        """PyLTI1p3's configuration of the tool registered as ``provider`` (``self.provider``
        unless told otherwise)."""
        provider = provider or self.provider
        return make_tool_conf(
            issuer=ISSUER,
            client_id=provider.client_id,
            deployment_id=provider.deployment_id,
            private_pem=self.tool_private,
            public_pem=self.tool_public,
            platform_base=ISSUER,
            **kwargs,
        )

    @property
    def provider13(self):
        return self.tool.provider if self.tool is not None else self.provider

    def ags(self, name: str, **extra) -> str:
        kwargs = {"course_id": self.course.pk, "provider_id": self.provider13.pk} | extra
        return reverse(f"wagtail_lti:{name}", kwargs=kwargs)

    @property
    def lineitems_path(self) -> str:
        return self.ags("ags_lineitems")

    @property
    def lineitem_path(self) -> str:
        return self.ags("ags_lineitem", line_item_id=self.line_item.pk)

    @property
    def scores_path(self) -> str:
        return self.ags("ags_scores", line_item_id=self.line_item.pk)

    @property
    def results_path(self) -> str:
        return self.ags("ags_results", line_item_id=self.line_item.pk)

    @property
    def memberships_path(self) -> str:
        return reverse(
            "wagtail_lti:nrps_memberships",
            kwargs={"course_id": self.course.pk, "provider_id": self.provider13.pk},
        )

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def sourcedid(self) -> str:
        from wagtail_lti.security.sourcedid import make_sourcedid

        return make_sourcedid(self.placement11, self.learner)

"""LTI Providers (external tools) and LTI Resource Links (a tool's content), owned by organizations."""

from __future__ import annotations

import secrets

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from modelcluster.models import ClusterableModel
from wagtail.models import RevisionMixin
from wagtail.search import index

from ..lti.migration import Lti11Credentials
from ..security.encryption import decrypt, encrypt
from .organizations import Organization


def _new_client_id() -> str:
    return secrets.token_urlsafe(18)


def _new_deployment_id() -> str:
    return secrets.token_urlsafe(12)


class OrganizationOwnedMixin(models.Model):
    """Fields shared by records owned by one organization and shared with others.

    The availability rule (``wagtail_lti.scoping``): a record can be used by its owning
    organization, by each organization it is made available to, and by all their
    sub-organizations.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", verbose_name=_("organization")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class LtiProvider(OrganizationOwnedMixin, RevisionMixin, index.Indexed, ClusterableModel):
    class Version(models.TextChoices):
        LTI_1P1 = "1.1", _("LTI 1.1")
        LTI_1P3 = "1.3", _("LTI 1.3")

    class Status(models.TextChoices):
        """What an editor sees of a provider (``status``): on, switched off by an editor, or made
        by Dynamic Registration and not yet reviewed (enabled) by one."""

        ENABLED = "enabled", _("Enabled")
        DISABLED = "disabled", _("Disabled")
        AWAITING_REVIEW = "awaiting_review", _("Waiting for review")

    name = models.CharField(_("name"), max_length=255)
    lti_version = models.CharField(
        _("LTI version"), max_length=8, choices=Version.choices, default=Version.LTI_1P1
    )
    available_to = ParentalManyToManyField(
        Organization,
        blank=True,
        related_name="available_lti_providers",
        verbose_name=_("available to"),
    )

    # LTI 1.1. Kept when the provider moves to LTI 1.3: its launches then carry the lti1p1
    # claim, signed with this secret (``moved_from_lti11``).
    consumer_key = models.CharField(_("LTI key"), max_length=255, blank=True)
    secret_encrypted = models.TextField(blank=True, editable=False)

    # LTI 1.3: the tool's registration
    login_url = models.URLField(_("OIDC login initiation URL"), max_length=1024, blank=True)
    launch_url = models.URLField(_("target link URL"), max_length=1024, blank=True)
    redirect_uris = models.TextField(_("redirect URIs"), blank=True, help_text=_("One per line."))
    jwks_url = models.URLField(_("public keyset (JWKS) URL"), max_length=1024, blank=True)
    public_key_pem = models.TextField(_("public key (PEM)"), blank=True)
    # Where editors select content from the tool: the target link URI of LTI 1.3 Deep Linking
    # requests (empty: the launch URL), the URL LTI 1.1 Content-Item requests are posted to.
    content_selection_url = models.URLField(_("content selection URL"), max_length=1024, blank=True)
    # LTI 1.3: issued by the platform on save, never edited.
    client_id = models.CharField(
        _("client ID"), max_length=255, unique=True, default=_new_client_id, editable=False
    )
    deployment_id = models.CharField(
        _("deployment ID"), max_length=255, default=_new_deployment_id, editable=False
    )
    # LTI 1.3: services the tool may use (OAuth 2 scopes it may be granted).
    allow_ags = models.BooleanField(_("Assignment and Grade Services"), default=True)
    allow_nrps = models.BooleanField(_("Names and Role Provisioning Services"), default=False)

    custom_parameters = models.TextField(_("custom parameters"), blank=True)
    send_name = models.BooleanField(_("send the learner's name"), default=True)
    send_email = models.BooleanField(_("send the learner's email"), default=False)
    trusted_for_embeds = models.BooleanField(
        _("trusted for embeds"),
        default=False,
        help_text=_(
            "Keep the tool's own iframes (https, on the hosts of this provider's URLs) in the "
            "HTML it inserts into pages. Other HTML from the tool is sanitised all the same; "
            "iframes of other sites are always removed."
        ),
    )
    # The launch log keeps the exact parameters (1.1) or claims (1.3) sent while this is on.
    debug_launches = models.BooleanField(
        _("debug launches"),
        default=False,
        help_text=_(
            "Keep the exact parameters or claims sent to the tool in the launch log (Reports → "
            "LTI launch log), for the managers of each launching course's organization. They "
            "include learners' personal data: turn it off when done (that deletes them)."
        ),
    )

    # Off for a provider made by Dynamic Registration until an editor has reviewed it: a disabled
    # provider cannot be launched and gets no access token.
    is_enabled = models.BooleanField(
        _("enabled"),
        default=True,
        help_text=_(
            "Learners can launch this tool, and the tool can send scores and use the services "
            "allowed on this form, only while this is on."
        ),
    )
    # Set for a provider made by Dynamic Registration; cleared for good the first time it is
    # saved enabled (``save``). Only tells "waiting for review" from "disabled" (``status``).
    awaiting_review = models.BooleanField(default=False, editable=False)

    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        verbose_name = _("LTI provider")
        verbose_name_plural = _("LTI providers")
        ordering = ["name"]

    #: Not content: credentials and identifiers issued to the tool. Revisions neither store nor
    #: restore them, so reverting to an earlier revision never brings back a rotated secret.
    #: ``awaiting_review`` is state, not content: a revision made before the review never brings
    #: it back.
    REVISION_EXCLUDED_FIELDS = ("secret_encrypted", "client_id", "deployment_id", "awaiting_review")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.is_enabled:
            self.awaiting_review = False
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "is_enabled" in update_fields:
                kwargs["update_fields"] = {*update_fields, "awaiting_review"}
        super().save(*args, **kwargs)

    def serializable_data(self):
        """The revision content (Wagtail's ``RevisionMixin``): without the credentials."""
        data = super().serializable_data()
        for name in self.REVISION_EXCLUDED_FIELDS:
            data.pop(name, None)
        return data

    def with_content_json(self, content):
        """The provider as in a revision, with today's credentials (never the revision's, even
        in a revision saved before they were left out)."""
        content = {k: v for k, v in content.items() if k not in self.REVISION_EXCLUDED_FIELDS}
        obj = super().with_content_json(content)
        for name in self.REVISION_EXCLUDED_FIELDS:
            setattr(obj, name, getattr(self, name))
        return obj

    # The secret is write-only: only its encrypted form is stored.
    @property
    def secret(self) -> str:
        return decrypt(self.secret_encrypted)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = encrypt(value)

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_encrypted)

    @property
    def is_lti13(self) -> bool:
        return self.lti_version == self.Version.LTI_1P3

    @property
    def moved_from_lti11(self) -> bool:
        """The rule of a tool moved from LTI 1.1 to 1.3: an LTI 1.3 provider that kept its LTI 1.1
        key and secret. Its LTI 1.3 messages carry the ``lti1p1`` claim and its NRPS members
        their ``lti11_legacy_user_id`` (``lti11_credentials``)."""
        return self.is_lti13 and bool(self.consumer_key) and self.has_secret

    def lti11_credentials(self) -> Lti11Credentials | None:
        """The kept LTI 1.1 key and secret when ``moved_from_lti11``, else None."""
        if not self.moved_from_lti11:
            return None
        return Lti11Credentials(consumer_key=self.consumer_key, secret=self.secret)

    @property
    def status(self) -> Status:
        """The one rule of a provider's status label (listings, the review panel, the launch
        refusal): enabled; waiting for review (made by Dynamic Registration, never enabled yet);
        or disabled by an editor."""
        if self.is_enabled:
            return self.Status.ENABLED
        if self.awaiting_review:
            return self.Status.AWAITING_REVIEW
        return self.Status.DISABLED

    @property
    def status_label(self) -> str:
        return str(self.status.label)

    def label_with_version(self) -> str:
        """The name followed by the LTI version ("Quiz (LTI 1.3)"), unless the name says it."""
        version = str(self.get_lti_version_display())
        if version.casefold() in self.name.casefold():
            return self.name
        return f"{self.name} ({version})"

    def get_redirect_uris(self) -> list[str]:
        return [line.strip() for line in self.redirect_uris.splitlines() if line.strip()]


class LtiResourceLink(OrganizationOwnedMixin, RevisionMixin, index.Indexed, ClusterableModel):
    class OpenIn(models.TextChoices):
        EMBED = "embed", _("Embedded in the page")
        WINDOW = "window", _("A new window")

    name = models.CharField(_("name"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    provider = models.ForeignKey(
        LtiProvider,
        on_delete=models.PROTECT,
        related_name="resource_links",
        verbose_name=_("LTI provider"),
    )
    url = models.URLField(_("resource link URL"), max_length=1024)
    custom_parameters = models.TextField(_("custom parameters"), blank=True)
    requires_score = models.BooleanField(
        _("this resource requires a score for completion"), default=False
    )
    score_maximum = models.FloatField(_("maximum score"), default=100)
    open_in = models.CharField(
        _("opens in"), max_length=16, choices=OpenIn.choices, default=OpenIn.EMBED
    )
    available_to = ParentalManyToManyField(
        Organization,
        blank=True,
        related_name="available_lti_resource_links",
        verbose_name=_("available to"),
    )

    # --- Dates (Deep Linking 2.0 §3.4.1 ``available`` and ``submission``). The rules that read
    # them: ``launch.rules.launch_window`` (launching) and ``services.results.submission_rule``
    # (scores). Empty: no limit on that side.
    available_start = models.DateTimeField(
        _("available from"),
        null=True,
        blank=True,
        help_text=_("Learners can launch the activity from this moment on. Empty: at once."),
    )
    available_end = models.DateTimeField(
        _("available until"),
        null=True,
        blank=True,
        help_text=_("Learners can no longer launch the activity after this. Empty: no end."),
    )
    submission_start = models.DateTimeField(
        _("submissions from"),
        null=True,
        blank=True,
        help_text=_("Scores the tool sends before this are late (see below). Empty: no start."),
    )
    submission_end = models.DateTimeField(
        _("due"),
        null=True,
        blank=True,
        help_text=_(
            "The due date: scores the tool sends after this are late. Shown on the course page."
        ),
    )

    class LateSubmissions(models.TextChoices):
        ACCEPT = "accept", _("Record them, marked late")
        REFUSE = "refuse", _("Refuse them")

    late_submissions = models.CharField(
        _("scores outside the submission dates"),
        max_length=16,
        choices=LateSubmissions.choices,
        default=LateSubmissions.ACCEPT,
    )

    # --- Presentation (Deep Linking 2.0 §3.4.1 ``window`` and ``iframe``).
    window_target_name = models.CharField(
        _("window name"),
        max_length=64,
        blank=True,
        help_text=_(
            "A new-window activity opens in the browser window of this name (reused by every "
            "launch of it). Empty: a new window each time."
        ),
    )
    window_width = models.PositiveIntegerField(
        _("window width"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text=_("In pixels."),
    )
    window_height = models.PositiveIntegerField(
        _("window height"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text=_("In pixels."),
    )
    window_features = models.CharField(
        _("window features"),
        max_length=255,
        blank=True,
        help_text=_("As for JavaScript's window.open, such as “menubar=no,resizable=yes”."),
    )
    iframe_width = models.PositiveIntegerField(
        _("frame width"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text=_("In pixels. Empty: the width of the page."),
    )
    iframe_height = models.PositiveIntegerField(
        _("frame height"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(10_000)],
        help_text=_("In pixels. Empty: the site's default height."),
    )

    # --- The line item a placement of this link gets (Deep Linking 2.0 §3.4.1 ``lineItem``, AGS
    # 2.0 §3.2 line item properties). Empty label: the activity's title; the maximum is
    # ``score_maximum``.
    line_item_label = models.CharField(_("line item label"), max_length=255, blank=True)
    line_item_resource_id = models.CharField(_("line item resource id"), max_length=255, blank=True)
    line_item_tag = models.CharField(_("line item tag"), max_length=255, blank=True)
    line_item_grades_released = models.BooleanField(
        _("grades released"), null=True, blank=True, default=None
    )

    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        verbose_name = _("LTI resource link")
        verbose_name_plural = _("LTI resource links")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        """The dates' rule, for the admin form and links made from a tool's answer alike: each
        window ends after it starts."""
        from django.core.exceptions import ValidationError

        super().clean()
        errors = {}
        for start, end in (
            ("available_start", "available_end"),
            ("submission_start", "submission_end"),
        ):
            begins, ends = getattr(self, start), getattr(self, end)
            if begins is not None and ends is not None and ends <= begins:
                errors[end] = _("This must be later than “%(start)s”.") % {
                    "start": self._meta.get_field(start).verbose_name
                }
        if errors:
            raise ValidationError(errors)

    @property
    def line_item_score_maximum(self) -> float:
        """The maximum of the line item a placement of this link gets: ``score_maximum`` (one
        field, so the form and a Deep Linking ``lineItem.scoreMaximum`` set the same value)."""
        return self.score_maximum

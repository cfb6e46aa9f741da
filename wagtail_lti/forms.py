"""Admin forms of the LTI catalogue: organizations, memberships, LTI providers, resource links.

Every form here is a ``WagtailAdminModelForm`` and narrows its choices with ``for_user`` through
``wagtail_lti.scoping``: the submitted data is checked on the server whatever the browser shows
(a hand-made POST naming another organization's record gets a message on the form, never a save).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from wagtail.admin.forms import WagtailAdminModelForm

from . import scoping
from .lti.custom_params import parse_custom_parameters
from .lti.deep_linking import window_name
from .lti.errors import CustomParameterError
from .lti.keys import MIN_KEY_SIZE, KeyFormatError, load_public_key
from .models import LtiProvider, LtiResourceLink, Organization, OrganizationMembership
from .security.encryption import open_typed_secret, seal_typed_secret


# --- Field helpers ------------------------------------------------------------------------------

_HTTP_URL_MESSAGE = _(
    "Enter an absolute web address starting with https:// or http://, "
    "for example https://tool.example.com/activity/42."
)


def validate_http_url(value: str) -> None:
    """Accept only absolute ``http``/``https`` URLs; explain what is wrong otherwise."""
    value = (value or "").strip()
    try:
        scheme = urlsplit(value).scheme.lower()
    except ValueError:
        raise ValidationError(_HTTP_URL_MESSAGE, code="invalid") from None
    if scheme in {"javascript", "data", "vbscript", "file"}:
        raise ValidationError(
            _(
                "“%(scheme)s:” addresses are not allowed. Enter the tool's web address, "
                "starting with https:// (or http://)."
            ),
            code="unsafe_scheme",
            params={"scheme": scheme},
        )
    if scheme not in {"http", "https"}:
        raise ValidationError(_HTTP_URL_MESSAGE, code="invalid")
    URLValidator(schemes=["http", "https"], message=_HTTP_URL_MESSAGE)(value)


class HttpUrlField(forms.CharField):
    """A URL field that never guesses a scheme and refuses anything but http(s)."""

    widget = forms.URLInput
    default_validators = [validate_http_url]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 1024)
        super().__init__(strip=True, **kwargs)


def custom_parameters_errors(text: str) -> list[ValidationError]:
    """One error per bad line of a Custom Parameters text (empty list when it parses)."""
    try:
        parse_custom_parameters(text)
    except CustomParameterError as exc:
        return [
            ValidationError(
                _("Line %(line)s: %(message)s"),
                code="custom_parameter",
                params={"line": line, "message": message},
            )
            for line, message in exc.errors
        ]
    return []


def public_key_pem_error(text: str) -> str | None:
    """Why ``text`` is not a usable LTI 1.3 tool public key, or ``None`` when it is one."""
    if "PRIVATE KEY" in text:
        return _(
            "This is a private key. Paste the tool's PUBLIC key (“-----BEGIN PUBLIC KEY-----”); "
            "a private key must never leave the tool."
        )
    try:
        load_public_key(text)
    except KeyFormatError as exc:
        reason = str(exc)
        if "RSA public key" in reason:
            return _("LTI 1.3 signs with RS256: the tool's public key must be an RSA key.")
        if "bits" in reason:
            return _("This RSA key is too short: LTI 1.3 requires at least %(bits)s bits.") % {
                "bits": MIN_KEY_SIZE
            }
        return _(
            "This is not a PEM public key. Paste the whole key, from “-----BEGIN PUBLIC KEY-----” "
            "to “-----END PUBLIC KEY-----”."
        )
    return None


def indented_name(obj: Organization, base_depth: int = 1) -> str:
    """The organization's name, indented by its depth below ``base_depth``."""
    return "\u2014 " * max(obj.depth - base_depth, 0) + obj.name


class _IndentedLabelMixin:
    """Labels indented relative to the shallowest organization offered."""

    @property
    def base_depth(self) -> int:
        if not hasattr(self, "_base_depth"):
            depths = [org.depth for org in self.queryset]
            self._base_depth = min(depths) if depths else 1
        return self._base_depth

    def label_from_instance(self, obj: Organization) -> str:
        return indented_name(obj, self.base_depth)


class IndentedOrganizationMultipleChoiceField(_IndentedLabelMixin, forms.ModelMultipleChoiceField):
    pass


class IndentedOrganizationChoiceField(_IndentedLabelMixin, forms.ModelChoiceField):
    pass


def show_only_allowed_choices(field: forms.ModelChoiceField) -> None:
    """Make a chooser widget display only values from the field's (scoped) queryset.

    A chooser widget shows the title of whatever pk it is given; without this, re-displaying a
    hand-made POST would reveal the name of a record the user may not see.
    """
    widget = field.widget
    original = getattr(widget, "get_instance", None)
    if original is None:
        return

    def get_instance(value):
        instance = original(value)
        if instance is not None and not field.queryset.filter(pk=instance.pk).exists():
            return None
        return instance

    widget.get_instance = get_instance


class OrganizationTreeWidget(forms.CheckboxSelectMultiple):
    """Checkboxes of organizations in tree order (labels indented under their parents), with a
    search box that narrows the list (``organization-tree.js``); without JavaScript every
    organization is listed and ticking works the same."""

    template_name = "wagtail_lti/widgets/organization_tree.html"
    option_template_name = "wagtail_lti/widgets/organization_tree_option.html"

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        # The tree is shown by indentation (CSS), the label is the plain name: a screen reader
        # reads "Sales", not dashes.
        organization = getattr(value, "instance", None)
        field = getattr(self.choices, "field", None)
        if organization is not None:
            base = getattr(field, "base_depth", 1)
            option["label"] = organization.name
            option["depth"] = min(max(organization.depth - base, 0), 8)
        else:
            option["depth"] = 0
        return option

    class Media:
        css = {"all": ["wagtail_lti/css/catalogue.css"]}
        js = ["wagtail_lti/js/organization-tree.js"]


class LtiVersionWidget(forms.RadioSelect):
    """Radio buttons for the LTI version; the script shows only the chosen version's fields."""

    class Media:
        js = ["wagtail_lti/js/provider-form.js"]


class SecretInput(forms.PasswordInput):
    """A password input that never shows its value. ``kept`` (set by the form after a validation
    error) is the typed secret sealed by ``security.encryption.seal_typed_secret``, sent back in a
    hidden ``<name>-kept`` input so that the next submission saves it."""

    KEPT_SUFFIX = "-kept"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, render_value=False)
        self.kept = ""

    def render(self, name, value, attrs=None, renderer=None):
        html = super().render(name, value, attrs=attrs, renderer=renderer)
        if not self.kept:
            return html
        return html + format_html(
            '<input type="hidden" name="{}" value="{}">', name + self.KEPT_SUFFIX, self.kept
        )


# --- Providers and resource links ------------------------------------------------------------


class OrganizationOwnedForm(WagtailAdminModelForm):
    """Base form of records owned by an organization and shared on an Availability tab.

    * ``organization`` may only be an organization the user manages (default: the first one);
    * ``available_to`` offers the organizations the user may share with
      (``scoping.shareable_organizations``: those they manage and the others of the same
      top-level organization); organizations that others (a superuser, a manager of another
      top-level organization) put on the Availability tab are kept unchanged;
    * ``custom_parameters`` must parse, each bad line reported with its number.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.managed_organizations = scoping.managed_organizations(self.for_user).order_by("path")
        if "organization" in self.fields:
            field = self.fields["organization"]
            field.queryset = self.managed_organizations
            field.error_messages["invalid_choice"] = _(
                "Choose an organization you manage: you may not assign records to this one."
            )
            show_only_allowed_choices(field)
            if not self.is_bound and not self.instance.organization_id:
                first = scoping.first_managed_organization(self.for_user)
                if first is not None:
                    self.initial["organization"] = first.pk
        self.kept_availability: list[Organization] = []
        if "available_to" in self.fields:
            old = self.fields["available_to"]
            self.shareable_organizations = scoping.shareable_organizations(self.for_user).order_by(
                "path"
            )
            field = IndentedOrganizationMultipleChoiceField(
                queryset=self.shareable_organizations,
                required=False,
                widget=old.widget,
                label=_("Organizations"),
                help_text=_(
                    "Tick each organization that may use this too; their sub-organizations may "
                    "use it as well. They can add it to their courses and see it read-only; only "
                    "the managers of the owning organization can change it."
                ),
            )
            field.error_messages["invalid_choice"] = _(
                "You can only make records available to organizations you manage or to the other "
                "organizations of your top-level organization; one of the organizations sent is "
                "not one of them."
            )
            self.fields["available_to"] = field
            if self.instance.pk:
                shareable = set(self.shareable_organizations.values_list("pk", flat=True))
                self.kept_availability = [
                    org for org in self.instance.available_to.all() if org.pk not in shareable
                ]

    def clean_available_to(self):
        chosen = list(self.cleaned_data.get("available_to") or [])
        owner = self.cleaned_data.get("organization")
        return [org for org in chosen if org != owner] + self.kept_availability

    def clean_custom_parameters(self):
        # Browsers send CRLF line breaks; store plain "\n".
        text = (
            self.cleaned_data.get("custom_parameters", "").replace("\r\n", "\n").replace("\r", "\n")
        )
        errors = custom_parameters_errors(text)
        if errors:
            raise ValidationError(errors)
        return text


class LtiProviderForm(OrganizationOwnedForm):
    """The LTI Provider form: the secret is write-only, 1.3 registration checked per version."""

    secret = forms.CharField(
        label=_("LTI secret"),
        required=False,
        strip=False,
        widget=SecretInput(attrs={"autocomplete": "new-password"}),
    )
    login_url = HttpUrlField(label=_("OIDC login initiation URL"), required=False)
    launch_url = HttpUrlField(label=_("Target link URL"), required=False)
    jwks_url = HttpUrlField(label=_("Public keyset (JWKS) URL"), required=False)
    content_selection_url = HttpUrlField(label=_("Content selection URL"), required=False)
    keep_lti11 = forms.BooleanField(
        label=_("Keep the LTI 1.1 key and secret"),
        required=False,
        initial=True,
        help_text=_(
            "Every LTI 1.3 launch then tells the tool the LTI 1.1 key it knew this site by (signed "
            "with the LTI 1.1 secret) and the LTI 1.1 ids of the learner, course and link, so the "
            "tool can relink its users and their work. Untick only when the tool has moved for "
            "good: the LTI 1.1 key and secret are then deleted."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # "Moving from LTI 1.1" is offered for a provider that has an LTI 1.1 key and secret:
        # switching it to LTI 1.3 keeps them (LtiProvider.moved_from_lti11).
        self.offers_lti11_move = bool(self.instance.consumer_key and self.instance.has_secret)
        if not self.offers_lti11_move:
            self.fields.pop("keep_lti11", None)
        # A secret typed before a validation error, kept by the page encrypted (SecretInput).
        self.typed_secret = ""
        if "secret" in self.fields and self.is_bound:
            token = self.data.get(self.add_prefix("secret") + SecretInput.KEPT_SUFFIX, "")
            self.typed_secret = open_typed_secret(token, self._editor_pk())
        if "secret" in self.fields:
            if self.typed_secret:
                self.fields["secret"].help_text = _(
                    "The secret you typed is kept (it is never shown). Leave blank to save it; "
                    "type a new one to replace it."
                )
            elif self.instance.has_secret:
                self.fields["secret"].help_text = _(
                    "A secret is set (it is never shown). Leave blank to keep it; "
                    "type a new one to replace it."
                )
            else:
                self.fields["secret"].help_text = _(
                    "No secret is set yet. Enter the tool's LTI client secret."
                )

    def _editor_pk(self):
        return getattr(self.for_user, "pk", None)

    @sensitive_variables("value")
    def clean_secret(self):
        # Typed now, or typed before a validation error (its encrypted copy in the page).
        value = self.cleaned_data.get("secret") or ""
        return value or self.typed_secret

    @sensitive_variables("secret")
    def full_clean(self):
        """After a validation error, the page keeps the secret the editor typed: encrypted for
        this editor (``SecretInput.kept``), never written into the page as typed."""
        super().full_clean()
        if "secret" not in self.fields or not self._errors or self._editor_pk() is None:
            return
        secret = (getattr(self, "cleaned_data", None) or {}).get("secret") or ""
        if secret:
            self.fields["secret"].widget.kept = seal_typed_secret(secret, self._editor_pk())
            self.fields["secret"].help_text = _(
                "The secret you typed is kept (it is never shown). Leave blank to save it; "
                "type a new one to replace it."
            )
            # A bound field made before validation (the panels) would show the old help text.
            self._bound_fields_cache.pop("secret", None)

    def clean_redirect_uris(self):
        text = self.cleaned_data.get("redirect_uris", "")
        errors = []
        lines = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line:
                continue
            try:
                validate_http_url(line)
            except ValidationError as exc:
                errors.append(
                    ValidationError(
                        _("Line %(line)s: %(message)s"),
                        params={"line": number, "message": " ".join(exc.messages)},
                    )
                )
            lines.append(line)
        if errors:
            raise ValidationError(errors)
        return "\n".join(lines)

    @sensitive_variables("secret")
    def clean(self):
        cleaned = super().clean()
        version = cleaned.get("lti_version")
        secret = cleaned.get("secret") or ""
        if version == LtiProvider.Version.LTI_1P1:
            if "consumer_key" in self.fields and not cleaned.get("consumer_key"):
                self.add_error("consumer_key", _("Enter the tool's LTI key (its client key)."))
            if "secret" in self.fields and not secret and not self.instance.has_secret:
                self.add_error("secret", _("Enter the tool's LTI secret (its client secret)."))
        elif version == LtiProvider.Version.LTI_1P3:
            self._clean_lti13(cleaned)
            if self.offers_lti11_move and "keep_lti11" in self.fields:
                if cleaned.get("keep_lti11"):
                    # The key and secret the tool knew: the hidden LTI 1.1 fields change nothing.
                    cleaned["consumer_key"] = self.instance.consumer_key
                    cleaned["secret"] = ""
                else:
                    cleaned["consumer_key"] = ""
                    cleaned["secret"] = ""
            elif self.instance.pk is None:
                # A new LTI 1.3 tool has no LTI 1.1 past: a key or secret typed in the hidden
                # LTI 1.1 section before choosing LTI 1.3 is not kept (it would be sent as the
                # lti1p1 claim).
                cleaned["consumer_key"] = ""
                cleaned["secret"] = ""
        return cleaned

    def _clean_lti13(self, cleaned):
        for name, message in (
            ("login_url", _("Enter the tool's OIDC login initiation URL.")),
            ("launch_url", _("Enter the tool's target link (launch) URL.")),
        ):
            if name in self.fields and not cleaned.get(name) and name not in self.errors:
                self.add_error(name, message)
        if "redirect_uris" in self.fields and not cleaned.get("redirect_uris"):
            if cleaned.get("launch_url") and "redirect_uris" not in self.errors:
                # The tool's launch URL is its one redirect URI unless it lists others.
                cleaned["redirect_uris"] = cleaned["launch_url"]
        pem = (cleaned.get("public_key_pem") or "").strip()
        jwks_url = cleaned.get("jwks_url")
        if pem:
            problem = public_key_pem_error(pem)
            if problem:
                self.add_error("public_key_pem", problem)
                if "PRIVATE KEY" in pem:
                    # Do not send a private key back to the browser in the re-rendered form.
                    self.data = self.data.copy()
                    self.data[self.add_prefix("public_key_pem")] = ""
            else:
                cleaned["public_key_pem"] = pem + "\n"
        elif not jwks_url and "jwks_url" not in self.errors:
            self.add_error(
                "jwks_url",
                _(
                    "An LTI 1.3 tool needs a public key: enter its public keyset (JWKS) URL "
                    "here, or paste its public key (PEM) below."
                ),
            )

    @sensitive_variables("secret", "value")  # "value": the model's setter, below this frame
    def save(self, commit=True):
        secret = self.cleaned_data.get("secret")
        if secret:
            self.instance.secret = secret
        if (
            self.cleaned_data.get("lti_version") == LtiProvider.Version.LTI_1P3
            and self.offers_lti11_move
            and not self.cleaned_data.get("keep_lti11")
        ):
            # The editor let the LTI 1.1 credentials go: nothing is kept that is no longer used.
            self.instance.consumer_key = ""
            self.instance.secret_encrypted = ""
        return super().save(commit=commit)


class LtiResourceLinkForm(OrganizationOwnedForm):
    """The LTI Resource Link form: the provider must be usable by the link's organization; the
    maximum score is required only when the link requires a score (left empty otherwise, the
    stored value or the default is kept)."""

    url = HttpUrlField(label=_("Resource link URL"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "provider" in self.fields:
            field = self.fields["provider"]
            field.queryset = scoping.choosable(LtiProvider.objects.all(), self.for_user)
            field.error_messages["invalid_choice"] = _(
                "Choose an LTI provider that an organization you manage may use."
            )
            show_only_allowed_choices(field)
        if "score_maximum" in self.fields:
            # Needed only when the link requires a score (see clean).
            self.fields["score_maximum"].required = False
            self.fields["score_maximum"].help_text = _(
                "Needed when this resource requires a score: the score the tool's best result is "
                "out of."
            )

    def clean_score_maximum(self):
        value = self.cleaned_data.get("score_maximum")
        if value is not None and value <= 0:
            raise ValidationError(_("The maximum score must be greater than zero."))
        return value

    def _clean_score_maximum(self, cleaned):
        if "score_maximum" not in self.fields or "score_maximum" in self.errors:
            return
        if cleaned.get("score_maximum") is not None:
            return
        if cleaned.get("requires_score"):
            self.add_error(
                "score_maximum",
                _("Enter the maximum score: this resource requires a score for completion."),
            )
        else:
            field = LtiResourceLink._meta.get_field("score_maximum")
            kept = self.instance.score_maximum if self.instance.pk else None
            cleaned["score_maximum"] = kept if kept is not None else field.get_default()

    def clean_window_target_name(self):
        value = (self.cleaned_data.get("window_target_name") or "").strip()
        if value and window_name(value) != value:
            raise ValidationError(
                _(
                    "Use letters, digits, “-” and “_” only, starting with a letter or digit "
                    "(for example “%(example)s”)."
                )
                % {"example": window_name(value) or "tool-window"}
            )
        return value

    def clean(self):
        cleaned = super().clean()
        self._clean_score_maximum(cleaned)
        organization = cleaned.get("organization")
        provider = cleaned.get("provider")
        if organization is not None and provider is not None:
            if not scoping.is_usable_by(provider, organization):
                self.add_error(
                    "provider",
                    _(
                        "“%(provider)s” cannot be used by %(organization)s: it is neither owned "
                        "by it nor available to it (or to an organization above it). Choose "
                        "another provider, or add %(organization)s on the provider's "
                        "Availability tab first."
                    )
                    % {"provider": provider, "organization": organization},
                )
            elif "available_to" in self.fields and "available_to" not in self.errors:
                kept_ids = {o.pk for o in self.kept_availability}
                unusable = [
                    org
                    for org in cleaned.get("available_to") or []
                    if org.pk not in kept_ids and not scoping.is_usable_by(provider, org)
                ]
                if unusable:
                    self.add_error(
                        "available_to",
                        _(
                            "These organizations cannot use the provider “%(provider)s”, so "
                            "they could not launch this link: %(names)s. Make the provider "
                            "available to them first, or untick them."
                        )
                        % {"provider": provider, "names": ", ".join(o.name for o in unusable)},
                    )
        return cleaned


# --- Organizations and memberships -------------------------------------------------------------


class OrganizationForm(WagtailAdminModelForm):
    """Create (under a parent), rename and move an organization.

    Editors choose the parent among the organizations they manage; only superusers may leave it
    empty (a top-level organization). An organization cannot move under itself or its
    sub-organizations.
    """

    parent = IndentedOrganizationChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        label=_("Parent organization"),
        empty_label=_("(None: a top-level organization)"),
    )

    class Meta:
        model = Organization
        fields = ["name"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        self.is_superuser = bool(user and user.is_superuser)
        managed = scoping.managed_organizations(user).order_by("path")
        field = self.fields["parent"]
        field.queryset = managed
        field.error_messages["invalid_choice"] = _(
            "Choose a parent organization you manage (and not this organization or one of its "
            "sub-organizations)."
        )
        if not self.is_superuser:
            field.required = True
            field.empty_label = None
        field.help_text = (
            _("Choose another parent to move it, with its sub-organizations.")
            if self.instance.pk
            else _("The new organization is created under this one.")
        )
        if self.instance.pk:
            parent = self.instance.get_parent()
            self.initial.setdefault("parent", parent.pk if parent else None)
            field.queryset = managed.exclude(path__startswith=self.instance.path)
            if parent is not None and not scoping.user_manages(user, parent):
                # The top of the user's own subtree: it stays where it is.
                del self.fields["parent"]
        elif not self.is_bound:
            first = managed.first()
            if first is not None and not self.is_superuser:
                self.initial.setdefault("parent", first.pk)

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        if parent is None and not self.is_superuser:
            raise ValidationError(_("Choose the organization to create it under."))
        if parent is not None and self.instance.pk and parent.path.startswith(self.instance.path):
            raise ValidationError(
                _("An organization cannot move under itself or one of its sub-organizations.")
            )
        return parent


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        full_name = obj.get_full_name() if hasattr(obj, "get_full_name") else ""
        username = obj.get_username()
        return f"{full_name} ({username})" if full_name else username


class MembershipForm(WagtailAdminModelForm):
    """A user's membership of an organization the editor manages, as member or manager."""

    organization = IndentedOrganizationChoiceField(
        queryset=Organization.objects.none(), label=_("Organization")
    )
    user = UserChoiceField(queryset=get_user_model().objects.none(), label=_("User"))

    class Meta:
        model = OrganizationMembership
        fields = ["organization", "user", "role"]
        widgets = {"role": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        self.fields["organization"].queryset = scoping.managed_organizations(
            self.for_user
        ).order_by("path")
        self.fields["organization"].error_messages["invalid_choice"] = _(
            "Choose an organization you manage."
        )
        self.fields["user"].queryset = scoping.offerable_users(self.instance.user_id).order_by(
            User.USERNAME_FIELD
        )


class LtiResourceLinkCreationForm(LtiResourceLinkForm):
    """ "Create new" inside the resource link chooser (a course page's activity block): the
    Details of :class:`LtiResourceLinkForm`, with the same checks, as plain fields (a chooser
    cannot open inside the chooser's modal). Availability is set later on the link's own form.
    ``course_organization``: the pk of the course page's organization, offered first."""

    class Meta:
        model = LtiResourceLink
        fields = [
            "name",
            "organization",
            "provider",
            "url",
            "description",
            "requires_score",
            "score_maximum",
            "open_in",
        ]
        widgets = {
            "organization": forms.Select,
            "provider": forms.Select,
            "open_in": forms.RadioSelect,
        }
        labels = {"requires_score": _("This resource requires a score for completion")}

    def __init__(self, *args, course_organization=None, **kwargs):
        super().__init__(*args, **kwargs)
        if course_organization is not None and not self.is_bound:
            # The course page's organization first, when the editor manages it.
            if self.managed_organizations.filter(pk=course_organization).exists():
                self.initial["organization"] = course_organization
        base_depth = min((org.depth for org in self.managed_organizations), default=1)
        self.fields["organization"].label_from_instance = lambda org: indented_name(org, base_depth)
        self.fields["provider"].label_from_instance = LtiProvider.label_with_version
        self.fields["provider"].help_text = _(
            "Only providers the organization above may use can be saved."
        )

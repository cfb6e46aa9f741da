"""Forms of the demo tool's own pages."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.db import models

from .models import ToolRegistration


def _formfield(field: models.Field, **kwargs):
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class ScoreForm(forms.Form):
    launch_id = forms.CharField(max_length=255, widget=forms.HiddenInput)
    score = forms.DecimalField(
        label="Score (0–100 %)",
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        initial=Decimal(80),
    )


class PlatformRegistrationForm(forms.ModelForm):
    """Register an LTI 1.3 platform with the tool: the values the platform shows for copying."""

    class Meta:
        model = ToolRegistration
        formfield_callback = _formfield
        fields = [
            "name",
            "issuer",
            "client_id",
            "deployment_id",
            "auth_login_url",
            "auth_token_url",
            "key_set_url",
        ]
        labels = {
            "name": "Name of the platform",
            "issuer": "Issuer",
            "client_id": "Client ID",
            "deployment_id": "Deployment ID",
            "auth_login_url": "Authorization (OIDC auth) URL",
            "auth_token_url": "Access token URL",
            "key_set_url": "Public keyset (JWKS) URL",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = True

    def clean_issuer(self) -> str:
        issuer = self.cleaned_data["issuer"].strip()
        if not issuer.startswith(("https://", "http://")):
            raise forms.ValidationError(
                "The issuer is the platform's URL, e.g. https://lms.example.com."
            )
        return issuer

    def clean(self):
        data = super().clean()
        issuer, client_id = data.get("issuer"), (data.get("client_id") or "").strip()
        if issuer and client_id:
            data["client_id"] = client_id
            if ToolRegistration.objects.filter(
                lti_version=ToolRegistration.Version.LTI_1P3, issuer=issuer, client_id=client_id
            ).exists():
                raise forms.ValidationError("This platform and client ID are already registered.")
        return data

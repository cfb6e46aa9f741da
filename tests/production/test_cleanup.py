"""``manage.py lti_cleanup`` deletes expired security rows and keeps live ones."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from wagtail_lti.models import AccessToken, LtiProvider, PendingLaunch, SingleUseValue
from wagtail_lti.security.single_use import use_once


@pytest.mark.django_db
def test_cleanup_deletes_expired_rows_only(orgs, superuser):
    now = timezone.now()
    provider = LtiProvider.objects.create(name="Tool", organization=orgs["acme"], lti_version="1.3")
    assert use_once("lti11", "old-nonce", -60)
    assert use_once("lti11", "fresh-nonce", 300)
    for name, expires in (("old", now - timedelta(seconds=1)), ("fresh", now + timedelta(hours=1))):
        AccessToken.objects.create(
            token_hash=name.ljust(64, "0"), provider=provider, scopes="s", expires_at=expires
        )
        PendingLaunch.objects.create(
            hint=name.ljust(64, "1"), user=superuser, provider=provider, expires_at=expires
        )

    out = StringIO()
    call_command("lti_cleanup", stdout=out)

    assert "single-use values: 1" in out.getvalue()
    assert "started LTI 1.3 launches: 1" in out.getvalue()
    assert "access tokens: 1" in out.getvalue()
    assert SingleUseValue.objects.count() == 1
    assert not use_once("lti11", "fresh-nonce", 300)  # still remembered: a replay is refused
    assert list(AccessToken.objects.values_list("token_hash", flat=True)) == [
        "fresh".ljust(64, "0")
    ]
    assert list(PendingLaunch.objects.values_list("hint", flat=True)) == ["fresh".ljust(64, "1")]

    out = StringIO()
    call_command("lti_cleanup", stdout=out)
    assert "single-use values: 0, started LTI 1.3 launches: 0, access tokens: 0" in out.getvalue()


@pytest.mark.django_db
def test_cleanup_deletes_expired_unused_registration_tokens(orgs, superuser):
    from wagtail_lti.models.registration import ToolRegistration

    now = timezone.now()
    common = {
        "user": superuser,
        "organization": orgs["acme"],
        "tool_url": "https://tool.example/reg",
    }
    ToolRegistration.objects.create(
        token_hash="a" * 64, expires_at=now - timedelta(seconds=1), **common
    )
    ToolRegistration.objects.create(
        token_hash="b" * 64, expires_at=now + timedelta(hours=1), **common
    )
    ToolRegistration.objects.create(  # used: kept as the record of where a provider came from
        token_hash="c" * 64,
        expires_at=now - timedelta(days=1),
        used_at=now - timedelta(days=1),
        **common,
    )

    out = StringIO()
    call_command("lti_cleanup", stdout=out)

    assert "unused tool registration tokens: 1" in out.getvalue()
    assert sorted(ToolRegistration.objects.values_list("token_hash", flat=True)) == [
        "b" * 64,
        "c" * 64,
    ]

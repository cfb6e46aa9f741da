"""Error pages and error reports that do not show secrets."""

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretHidingExceptionReporterFilter(SafeExceptionReporterFilter):
    """Django's filter, also hiding values named like connection URLs.

    Django already hides settings and request environment entries whose names contain API, AUTH,
    TOKEN, KEY, SECRET, PASS or SIGNATURE (AUTH: the ``Authorization`` header, which carries tools'
    access tokens and OAuth signatures). Connection URLs carry passwords too (``DATABASE_URL``,
    ``CACHE_URL``, a cache ``LOCATION``), and under some servers the process environment is part of
    the request's ``META`` shown on the debug page.
    """

    hidden_settings = re.compile(
        "API|AUTH|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|_URL$|^DATABASE|LOCATION|DSN",
        flags=re.IGNORECASE,
    )

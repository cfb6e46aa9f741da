"""``manage.py lti_rotate_keys``: rotate the platform's LTI 1.3 signing keys.

Safe to run on a schedule (e.g. daily or weekly from cron): the next key becomes current only once
it has been published for at least ``JWKS_MAX_AGE`` seconds, the previous key stays published for
``KEY_ROTATION_OVERLAP_DAYS``, and keys retired longer ago are dropped.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from wagtail_lti.security import platform_keys


class Command(BaseCommand):
    help = (
        "Rotate the LTI 1.3 platform keys: next becomes current, current is retired (still "
        "published during the overlap), a new next key is published, expired keys are dropped."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Promote the next key even if tools may not have fetched it yet (it was published "
            "less than JWKS_MAX_AGE seconds ago).",
        )

    def handle(self, *args, force: bool = False, **options):
        result = platform_keys.rotate(force=force)
        self.stdout.write(result.describe())

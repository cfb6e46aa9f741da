"""``manage.py lti_cleanup``: delete expired security rows.

Single-use values (LTI 1.1 nonces, client assertion ``jti``), started LTI 1.3 launches (message
hints), OAuth 2 access tokens, content selections and dynamic registration tokens are kept in the database so every process sees them; each row has
an expiry. Expired rows are useless (every check also refuses an expired value by its own
timestamp), so deleting them only keeps the tables small. Safe to run at any time and from several
servers at once; run it on a schedule, e.g. hourly from cron. It also deletes launch log entries
older than ``LAUNCH_LOG_RETENTION_DAYS``, and hands the task engine again any platform notice
whose delivery task was lost (``services/notices.enqueue_due``).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from wagtail_lti import launch_log
from wagtail_lti.content_selection import service as content_selection
from wagtail_lti.launch.lti13 import purge_expired_pending_launches
from wagtail_lti.registration import service as registration
from wagtail_lti.security import single_use
from wagtail_lti.services import access_tokens, notices


class Command(BaseCommand):
    help = (
        "Delete expired single-use values (nonces, jti), started LTI 1.3 launches, access tokens "
        "and old launch log entries."
    )

    def handle(self, *args, **options):
        counts = {
            "single-use values": single_use.purge_expired(),
            "started LTI 1.3 launches": purge_expired_pending_launches(),
            "access tokens": access_tokens.purge_expired(),
            "content selections": content_selection.purge_expired(),
            "unused tool registration tokens": registration.purge_expired(),
            "launch log entries": launch_log.purge_expired(),
        }
        self.stdout.write(
            "Deleted expired "
            + ", ".join(f"{what}: {count}" for what, count in counts.items())
            + "."
        )
        requeued = notices.enqueue_due()
        if requeued:
            self.stdout.write(f"Platform notices handed to the task engine again: {requeued}.")

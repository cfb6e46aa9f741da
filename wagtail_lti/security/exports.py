"""Spreadsheet exports without formulas (CSV injection).

Text chosen by tools (Deep Linking titles, a registered tool's ``client_name``) and by people
(names, usernames) reaches the admin's CSV exports. A spreadsheet program opening a CSV file runs
a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before one) as a
formula. Following OWASP's rule, such a text cell is written with a leading apostrophe, which
spreadsheet programs show as text; numbers, dates and empty cells are written as they are.

XLSX exports need nothing more: Wagtail writes every text cell of an XLSX export as a string cell,
never as a formula (``SpreadsheetExportMixin.generate_xlsx_row``).

One override point for every export: :func:`install` (called once when the app is ready) wraps
Wagtail's ``SpreadsheetExportMixin.preprocess_field_value``, which every admin CSV export goes
through, for the plugin's views (its listings and reports: providers, resource links,
organizations, memberships, enrollments, results, launch log, a course's class view) and Wagtail's "Site history"
report (which exports the plugin's audit log). Other apps' exports are left as they are.
"""

from __future__ import annotations

from typing import Any


#: The characters a spreadsheet program reads as the start of a formula (OWASP).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_INSTALLED = "_wagtail_lti_neutralizes_formulas"


def neutralize(value: Any) -> Any:
    """``value``, or a text starting with a formula character prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def applies_to(view) -> bool:
    """Whether the export of ``view`` is the plugin's (or Wagtail's site history report)."""
    from wagtail.admin.views.reports.audit_logging import LogEntriesView

    return type(view).__module__.startswith("wagtail_lti.") or isinstance(view, LogEntriesView)


def install() -> None:
    """Neutralize formula cells in the CSV exports of :func:`applies_to` views (idempotent)."""
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    original = SpreadsheetExportMixin.preprocess_field_value
    if getattr(original, _INSTALLED, False):
        return

    def preprocess_field_value(self, field, value, export_format):
        result = original(self, field, value, export_format)
        if export_format == self.FORMAT_CSV and applies_to(self):
            return neutralize(result)
        return result

    setattr(preprocess_field_value, _INSTALLED, True)
    preprocess_field_value.__wrapped__ = original
    preprocess_field_value.__doc__ = original.__doc__
    SpreadsheetExportMixin.preprocess_field_value = preprocess_field_value

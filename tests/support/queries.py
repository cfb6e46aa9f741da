"""Reading captured SQL in tests: which statements a request ran."""

from __future__ import annotations


DATA_STATEMENTS = {"SELECT", "UPDATE", "INSERT", "DELETE"}


def data_statements(queries, *, without: str = "django_session") -> list[str]:
    """``"VERB table"`` for each data statement of a ``CaptureQueriesContext``, in order
    (transaction control left out, and statements naming ``without``)."""
    found = []
    for query in queries.captured_queries:
        sql = query["sql"]
        verb = sql.split()[0]
        if verb not in DATA_STATEMENTS or (without and without in sql):
            continue
        # The table after FROM (a SELECT's first quoted name may be a column alias: "SELECT 1 AS
        # "a" FROM ...", what ``exists()`` runs).
        named = (
            sql.split(" FROM ", 1)[1] if verb in ("SELECT", "DELETE") and " FROM " in sql else sql
        )
        table = next(name for name in named.split('"')[1::2] if name)
        found.append(f"{verb} {table}")
    return found

"""Writing tens of thousands of rows at once on PostgreSQL (seed 000: Notify over 100,000 learners).

COPY streams rows as text without building model instances or one parameter
per value: at that scale it costs a fraction of `bulk_create`. Callers keep
the ORM path for other databases (`is_postgresql`).
"""

from django.db import connection


def is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def columns_sql(model, names) -> str:
    meta = model._meta
    return ", ".join(connection.ops.quote_name(meta.get_field(name).column) for name in names)


def copy_insert_ignoring_conflicts(model, names, rows, *, returning=()) -> list[tuple]:
    """Insert `rows`, skipping any that a unique constraint refuses (as bulk_create's ignore_conflicts).

    The rows go through a temporary table so the INSERT ... ON CONFLICT DO NOTHING keeps the
    database the arbiter between concurrent callers; RETURNING gives back `returning` columns
    of exactly the rows this call inserted. Must run inside a transaction.
    """
    if not rows:
        return []
    table = connection.ops.quote_name(model._meta.db_table)
    staging = connection.ops.quote_name(f"_copy_{model._meta.db_table}")
    columns = columns_sql(model, names)
    back = f" RETURNING {columns_sql(model, returning)}" if returning else ""
    with connection.cursor() as cursor:
        # Dropped at commit, so it always has the table's current columns; its rows never outlive the
        # statement that moves them (a second call in the same transaction reuses it).
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"WITH moved AS (DELETE FROM {staging} RETURNING *) "
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM moved ON CONFLICT DO NOTHING{back}"
        )
        return cursor.fetchall() if returning else []

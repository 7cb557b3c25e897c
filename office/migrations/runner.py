"""Apply the numbered migrations in one transaction and record them."""
import logging

from peewee import PostgresqlDatabase

from office.clock import utcnow
from office.errors import MotcuaError

from . import m0001_tracking_secret_and_security_tables, m0002_change_log_pruning, m0003_procedure_record, \
    m0004_dossier_routing, m0005_citizens_online, m0006_ticket_booking, m0007_ticket_queue_indexes, \
    m0008_dossier_statistics_indexes, m0009_print_job_tried_index, m0010_change_log_scope_index
from .step import Step, existing_tables

MIGRATIONS = [
    (1, m0001_tracking_secret_and_security_tables),
    (2, m0002_change_log_pruning),
    (3, m0003_procedure_record),
    (4, m0004_dossier_routing),
    (5, m0005_citizens_online),
    (6, m0006_ticket_booking),
    (7, m0007_ticket_queue_indexes),
    (8, m0008_dossier_statistics_indexes),
    (9, m0009_print_job_tried_index),
    (10, m0010_change_log_scope_index),
]
LATEST = MIGRATIONS[-1][0]
MIGRATION_LOCK = 7312  # the advisory lock every process takes while it makes or migrates tables
TABLE = "schema_migrations"

log = logging.getLogger("motcua.migrations")


class NewerSchema(MotcuaError):
    status = 503


def applied_migrations(db):
    """Numbers of the migrations recorded in ``db`` (empty for a new or pre-migration database)."""
    if TABLE not in existing_tables(db):
        return set()
    return {row[0] for row in db.execute_sql(f"SELECT number FROM {TABLE}")}


def pending(db, models, migrations=None):
    """Without changing anything: (is the database new, numbers applied, numbers still to apply)."""
    migrations = MIGRATIONS if migrations is None else migrations
    present = existing_tables(db)
    new = not any(model._meta.table_name in present for model in models)
    done = applied_migrations(db)
    _refuse_newer(done, migrations)
    return new, done, [number for number, _ in migrations if number not in done]


def upgrade(db, models, migrations=None):
    """Bring ``db`` to the newest schema for ``models``; return the numbers applied now."""
    migrations = MIGRATIONS if migrations is None else migrations
    with db.atomic():
        if isinstance(db, PostgresqlDatabase):
            db.execute_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        present = existing_tables(db)
        new = not any(model._meta.table_name in present for model in models)
        db.execute_sql(f"CREATE TABLE IF NOT EXISTS {TABLE} (number INTEGER NOT NULL PRIMARY KEY, "
                       "name VARCHAR(255) NOT NULL, applied_at VARCHAR(32) NOT NULL)")
        done = applied_migrations(db)
        _refuse_newer(done, migrations)
        if new:
            db.create_tables(models)
        step, applied = Step(db, models), []
        for number, module in migrations:
            if number in done:
                continue
            if not new:
                module.up(step)
            values = ", ".join([db.param] * 3)
            db.execute_sql(f"INSERT INTO {TABLE} (number, name, applied_at) VALUES ({values})",
                           (number, module.NAME, utcnow().isoformat(timespec="seconds")))
            applied.append(number)
        db.create_tables(models, safe=True)  # tables new since the last migration
        if not isinstance(db, PostgresqlDatabase) and (done or applied):
            db.execute_sql(f"PRAGMA user_version = {max(done | set(applied))}")
    if applied and not new:
        log.warning("database schema upgraded to %s (migrations %s applied)", max(applied), applied)
    return applied


def _refuse_newer(done, migrations):
    known = {number for number, _ in migrations}
    if done - known:
        raise NewerSchema(f"Cơ sở dữ liệu đã được nâng lên lược đồ số {max(done - known)} bởi một phiên bản mới "
                          f"hơn; phần mềm đang chạy chỉ biết đến lược đồ số {max(known, default=0)}. "
                          "Hãy cài lại phiên bản mới, đừng quay về bản cũ.")

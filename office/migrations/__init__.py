"""Numbered schema migrations: a box or hub made by an older release opens after an upgrade.

``upgrade(db, models)`` runs in one transaction (on PostgreSQL under an advisory lock, so several
processes starting at once migrate once):

- a database holding none of ``models``' tables is new: every table is made at the newest version
  (``create_tables``) and stamped with every migration;
- otherwise each migration not yet recorded runs, in number order (a database made before
  migrations existed, the release of commit d84f961, has none recorded);
- then any table still missing is made: a new table needs no migration, but a new column, an
  index on an existing table, a changed type or moved data does;
- a failure rolls all of it back: the database is left as it was.

Applied migrations are rows of ``schema_migrations`` (box and hub); on SQLite the highest number is
also ``PRAGMA user_version``. A database stamped with a migration this code does not know was
made by a newer release and is refused rather than run by older code.

Adding one: a module ``mNNNN_what.py`` with ``NAME`` and ``up(step)`` (see ``step.Step``: its
operations skip what is already there, because a table made from today's model by an earlier
migration already has today's columns), listed in ``runner.MIGRATIONS``.
"""
from .report import migrate_command
from .runner import LATEST, MIGRATIONS, NewerSchema, applied_migrations, pending, upgrade

__all__ = ["LATEST", "MIGRATIONS", "NewerSchema", "applied_migrations", "migrate_command", "pending", "upgrade"]

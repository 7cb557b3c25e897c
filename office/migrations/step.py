"""What a migration may do, each operation skipped when it is already done."""
import copy

from peewee import SQL, PostgresqlDatabase
from playhouse.migrate import SchemaMigrator


def existing_tables(db):
    """Names of the tables in the database (on PostgreSQL: in the current schema)."""
    if isinstance(db, PostgresqlDatabase):
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    return {row[0] for row in db.execute_sql(sql)}


def columns(db, table):
    cursor = db.execute_sql(f'SELECT * FROM "{table}" LIMIT 0')
    return {column[0] for column in cursor.description}


class Step:
    """Handed to a migration's ``up``: the database, today's models by table name, peewee's migrator."""

    def __init__(self, db, models):
        self.db = db
        self.models = {model._meta.table_name: model for model in models}
        self.migrator = SchemaMigrator.from_database(db)

    def has_table(self, table):
        return table in existing_tables(self.db)

    def add_column(self, table, column, field):
        """Add ``column`` (described by an unbound ``field``, frozen in the migration) to ``table``
        when this database has the table and not yet the column."""
        if table not in self.models or not self.has_table(table) or column in columns(self.db, table):
            return False
        if field.null:
            self.migrator.add_column(table, column, field).run()
            return True
        # NOT NULL: one ALTER with a DEFAULT for the rows already there. peewee's way (add nullable,
        # fill, then NOT NULL) rebuilds the table on SQLite, and dropping the old copy with foreign
        # keys on would delete or orphan the rows pointing at it.
        if field.default is None or callable(field.default):
            raise ValueError(f"{table}.{column} is NOT NULL: it needs a constant default for the existing rows")
        field = copy.copy(field)
        field.constraints = [*(field.constraints or []), SQL("DEFAULT " + _literal(field.db_value(field.default)))]
        self.migrator.add_column(table, column, field, allow_not_null=True).run()
        return True

    def create_tables(self, tables):
        """Make those of ``tables`` that this database's models hold, from today's models, with
        their indexes (already made ones are left alone)."""
        models = [self.models[name] for name in tables if name in self.models]
        self.db.create_tables(models, safe=True)

    def execute(self, sql, params=None):
        return self.db.execute_sql(sql, params)


def _literal(value):
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    raise ValueError(f"no SQL literal for the default {value!r}")

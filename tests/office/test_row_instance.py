"""Issue 15: the kiosk reads a ticket's service with a plain statement (``office.db.row_instance``)
instead of peewee's query builder and cursor wrapper: the same instance, values converted alike."""
from office.db import database, row_instance
from office.models import Counter, Service


def test_a_row_read_with_a_plain_statement_is_the_row_peewee_reads(office):
    Counter.get(Counter.number == 1).save_changes({"name": "Quầy Tư pháp"})
    for model, column, value in ((Service, "code", "ho-tich"), (Counter, "number", 1)):
        cursor = database.execute_sql(f'SELECT * FROM "{model._meta.table_name}" WHERE "{column}" = ?', (value,))
        read = row_instance(model, cursor)
        expected = model.get(getattr(model, column) == value)
        assert type(read) is model and read.__data__ == expected.__data__
        assert {type(v) for v in read.__data__.values()} == {type(v) for v in expected.__data__.values()}
        assert not read.is_dirty()
        assert row_instance(model, cursor) is None  # no row left

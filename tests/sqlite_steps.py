"""SQLite's work counted in virtual-machine steps: a figure that does not move with the machine's
load, for tests that a read stays bounded whatever else the database holds."""
from office.db import database


def sqlite_steps(fn, every=1):
    """(steps of SQLite's virtual machine ``fn`` costs, in units of ``every``, what ``fn`` returned)."""
    steps = [0]

    def count():
        steps[0] += 1
        return 0

    connection = database.connection()
    connection.set_progress_handler(count, every)
    try:
        value = fn()
    finally:
        connection.set_progress_handler(None, every)
    return steps[0], value

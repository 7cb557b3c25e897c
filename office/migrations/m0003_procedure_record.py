"""The national procedure record: a procedure keeps the rest of the portal's record (levels,
decision, type, applicants, receiving place, agencies consulted, related procedures, result code,
online address, the direct way's limit in its own unit) as JSON in ``details``.

A box that had the catalog before this column existed pulls the hub's entries again from the start
(its pull cursor goes back to 0), so every procedure's details come down; applying them again is
harmless (rows are upserted in the hub's order, shared fields merge by their clocks)."""
from peewee import TextField

NAME = "procedure record details"


def up(step):
    added = step.add_column("procedure", "details", TextField(default="{}"))
    if added and step.has_table("sync_node"):
        step.execute("UPDATE sync_node SET pull_cursor = 0 WHERE scope <> '*'")

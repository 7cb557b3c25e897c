"""A box's pull reads the hub's log after its cursor, in its own commune and for everyone: by id
alone that read every commune's entries since the cursor (after a province's three-day outage,
each box's first pull went through every commune's backlog to find its own). An index on (scope,
id) finds a commune's entries in order. A box's own log holds one commune: there it costs a little
on each write and serves nothing, but the table keeps one shape everywhere."""

NAME = "change log by scope, for the pulls"


def up(step):
    if step.has_table("change_entry"):
        step.execute('CREATE INDEX IF NOT EXISTS "change_entry_scope_id" ON "change_entry" ("scope", "id")')

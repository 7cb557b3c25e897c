"""The kiosk's answer to every ticket counts the people ahead (day, state, service, queued before)
and averages the service's last finished tickets: with an index on (day, state) alone the first
read every waiting ticket of the day (0.39 ms each with 3,000 waiting, on every ticket issued;
the hub's tracking page the same over all its communes), the second every finished ticket of
every day, more each month. The new index on (day, state, ...) serves every query the old one did."""

NAME = "ticket indexes for the queue's answers"

INDEXES = {
    "ticket_day_state_service_id_queued_at": '"ticket" ("day", "state", "service_id", "queued_at")',
    "ticket_service_id_state_ended_at": '"ticket" ("service_id", "state", "ended_at")',
}


def up(step):
    if not step.has_table("ticket"):
        return
    for name, target in INDEXES.items():
        step.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON {target}')
    step.execute('DROP INDEX IF EXISTS "ticket_day_state"')

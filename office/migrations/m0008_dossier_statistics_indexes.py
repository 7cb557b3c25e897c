"""The statistics' covering indexes on dossiers hold the deciding commune too: since phi địa giới
(migration 4) the summary by commune reads ``decided_by`` of every dossier of the period, which
sent it from the index to the table for each row (a year of 100 communes: 0.28 s → 1.08 s).
The names are peewee's for these columns (long names end in a hash of the whole)."""

NAME = "dossier statistics indexes cover the deciding commune"

COLUMNS = '"procedure_code", "status", "timeliness", "due_at", "decided_by"'
INDEXES = (  # (new name, columns, the name of the index it replaces)
    ("dossier_received_at_commune_procedure_code_status_timeli_d6d27a9", f'"received_at", "commune", {COLUMNS}',
     "dossier_received_at_commune_procedure_code_status_timeli_a763f1a"),
    ("dossier_commune_received_at_procedure_code_status_timeli_ca79eb0", f'"commune", "received_at", {COLUMNS}',
     "dossier_commune_received_at_procedure_code_status_timeli_45fdc31"),
)


def up(step):
    if not step.has_table("dossier"):
        return
    for name, columns, replaced in INDEXES:
        step.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "dossier" ({columns})')
        step.execute(f'DROP INDEX IF EXISTS "{replaced}"')

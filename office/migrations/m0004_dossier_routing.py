"""Phi địa giới (Decree 118/2025): a dossier received at one commune's office for another commune of
the province that decides it; the citizen collects the result where ``collect_at`` says."""
from peewee import CharField

NAME = "dossier routing to the deciding commune"


def up(step):
    step.add_column("dossier", "decided_by", CharField(default=""))
    step.add_column("dossier", "collect_at", CharField(default=""))
    if step.has_table("dossier"):
        step.execute('CREATE INDEX IF NOT EXISTS "dossier_decided_by" ON "dossier" ("decided_by")')

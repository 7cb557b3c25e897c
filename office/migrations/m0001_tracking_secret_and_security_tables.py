"""The security release: a dossier's tracking secret (replicated, so box and hub both gain it);
server-side sessions and rate-limit hits (both); named hub accounts, their tokens, the audit log,
sign-in throttles, request nonces, refusal counts and account contacts (hub)."""
from peewee import CharField

NAME = "tracking secret and security tables"

NEW_TABLES = ("web_session", "hit", "account", "api_token", "audit_entry", "sign_in_throttle",
              "contact_account", "request_nonce", "refusal_count")


def up(step):
    step.add_column("dossier", "tracking_secret", CharField(null=True))
    step.create_tables(NEW_TABLES)

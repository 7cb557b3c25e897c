"""Sign-in sessions kept on the server, so that signing out or disabling an account ends them.

A cookie only carries a random token; the row (found by the token's hash) says whose session
it is and whether it has ended. Every request looks it up: a copied cookie is worth nothing
once the session ended. Local to each box or hub (not replicated).
"""
import hashlib
import secrets
from datetime import timedelta

from peewee import CharField, DateTimeField

from .clock import utcnow
from .db import BaseModel, database

OFFICER, TECHNICIAN = "officer", "technician"
MAX_AGE = timedelta(days=30)  # sessions older than this are forgotten (an officer signs in every day)


class WebSession(BaseModel):
    token_hash = CharField(primary_key=True)
    kind = CharField()  # officer / technician
    subject = CharField(default="", index=True)  # the officer's id; empty for the technician
    started_at = DateTimeField()
    ended_at = DateTimeField(null=True)


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def start(kind, subject="", now=None):
    """A new session; returns the token to keep in the cookie."""
    now = now or utcnow()
    token = secrets.token_urlsafe(24)
    with database.atomic():
        prune(now - MAX_AGE)
        WebSession.create(token_hash=_hash(token), kind=kind, subject=subject, started_at=now)
    return token


def find(token, kind):
    """The open session of ``kind`` with this token, or None."""
    if not isinstance(token, str) or not token:
        return None
    return WebSession.get_or_none(WebSession.token_hash == _hash(token), WebSession.kind == kind,
                                  WebSession.ended_at.is_null(), WebSession.started_at > utcnow() - MAX_AGE)


def end(token, now=None):
    if isinstance(token, str) and token:
        WebSession.update(ended_at=now or utcnow()).where(
            WebSession.token_hash == _hash(token), WebSession.ended_at.is_null()).execute()


def end_all(kind, subject=None, now=None):
    """End every open session of ``kind`` (of one officer when ``subject`` is given)."""
    query = WebSession.update(ended_at=now or utcnow()).where(WebSession.kind == kind, WebSession.ended_at.is_null())
    if subject is not None:
        query = query.where(WebSession.subject == subject)
    with database.atomic():
        return query.execute()


def prune(before):
    """Forget sessions ended, or started, before ``before`` (no session lives that long)."""
    return WebSession.delete().where((WebSession.ended_at < before) | (WebSession.started_at < before)).execute()

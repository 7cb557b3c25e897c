"""API tokens for scripts: shown once, kept as a sha256, revocable, each bound to one account."""
import hashlib
import secrets
from datetime import timedelta

from office.clock import utcnow
from office.errors import NotFound

from .accounts_models import Account, ApiToken

PREFIX = "mct_"
USE_RECORDED_EVERY = timedelta(minutes=1)


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(account, label="", now=None):
    """A new token for ``account``: returns (row, the token text, which is never stored)."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.create(account=account, label=(label or "").strip()[:100], token_hash=_digest(token),
                          created_at=now or utcnow())
    return row, token


def account_for_token(token, now=None):
    """The active account a presented token belongs to, or None."""
    if not token or not token.startswith(PREFIX):
        return None
    row = (ApiToken.select(ApiToken, Account).join(Account)
           .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_null()).first())
    if row is None or not row.account.active:
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at > USE_RECORDED_EVERY:  # not a write per request
        ApiToken.update(last_used_at=now).where(ApiToken.id == row.id).execute()
    return row.account


def revoke_token(account, token_id, now=None):
    query = ApiToken.select().where(ApiToken.id == token_id, ApiToken.revoked_at.is_null())
    if account is not None:
        query = query.where(ApiToken.account == account)
    row = query.first()
    if row is None:
        raise NotFound("Không tìm thấy mã truy cập này.")
    ApiToken.update(revoked_at=now or utcnow()).where(ApiToken.id == row.id).execute()
    return row


def tokens_of(account):
    return list(ApiToken.select().where(ApiToken.account == account).order_by(ApiToken.created_at.desc()))

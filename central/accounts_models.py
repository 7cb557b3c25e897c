"""The hub's named accounts, their API tokens, sign-in throttling and the audit log (hub-only tables)."""
from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from office.db import BaseModel


class Account(BaseModel):
    """A person who signs in at the hub, with one role and the communes or agency it covers."""

    OPERATOR, LEADER, AGENCY, VIEWER = "operator", "leader", "agency", "viewer"

    name = CharField(unique=True)  # what the person types to sign in
    full_name = CharField(default="")
    role = CharField()
    communes = CharField(default="")  # GSO codes, comma list (leader, viewer)
    agency = CharField(default="")  # agency code (agency officer)
    phone = CharField(default="")
    email = CharField(default="")
    password_hash = CharField()
    must_change = BooleanField(default=True)
    active = BooleanField(default=True)
    session_version = IntegerField(default=0)  # bumped to end every session of the account
    created_at = DateTimeField()
    password_changed_at = DateTimeField(null=True)
    last_signin_at = DateTimeField(null=True)

    @property
    def commune_list(self):
        return [c.strip() for c in self.communes.split(",") if c.strip()]

    @property
    def label(self):
        return f"{self.full_name} ({self.name})" if self.full_name else self.name


class ApiToken(BaseModel):
    """A script's credential for one account; only its sha256 is kept."""

    account = ForeignKeyField(Account, backref="tokens", on_delete="CASCADE")
    label = CharField(default="")
    token_hash = CharField(unique=True)
    created_at = DateTimeField()
    last_used_at = DateTimeField(null=True)
    revoked_at = DateTimeField(null=True)


class SignInThrottle(BaseModel):
    """Failed sign-ins counted per account name and per client address (shared by every worker)."""

    key = CharField(unique=True)  # "account:<name>" or "address:<ip>"
    failures = IntegerField(default=0)
    first_failure_at = DateTimeField()
    locked_until = DateTimeField(null=True)


class AuditEntry(BaseModel):
    """One change a person made at the hub. Rows are only ever added."""

    at = DateTimeField(index=True)
    account = CharField(index=True)  # account name ("" before sign-in), or "cli:<user>"
    address = CharField(default="")
    action = CharField(index=True)  # e.g. account.add, catalog.import, box.revoke
    target = CharField(default="")
    detail = TextField(default="")


ACCOUNT_MODELS = (Account, ApiToken, SignInThrottle, AuditEntry)


class ContactAccount(BaseModel):
    """A reminder contact that is a hub account: its name, phone and e-mail come from the account."""

    contact = IntegerField(unique=True)  # reminder_models.Contact id (a table older than accounts)
    account = ForeignKeyField(Account, backref="contacts", on_delete="CASCADE")


ACCOUNT_MODELS = ACCOUNT_MODELS + (ContactAccount,)

"""Reminder contacts that point at accounts, so a leader's phone and e-mail are kept in one place:
the account. A linked contact takes the account's name, phone and e-mail when it is saved and
whenever the account changes."""
from office.db import database
from office.errors import MotcuaError

from .accounts_models import Account, ContactAccount
from .reminder_models import Contact


def linkable_accounts():
    return list(Account.select().where(Account.active == True).order_by(Account.name))  # noqa: E712


def account_of(contact):
    link = ContactAccount.get_or_none(ContactAccount.contact == contact.id)
    return link.account if link else None


def from_account(values):
    """``values`` of a contact form with the chosen account's name, phone and e-mail (or unchanged)."""
    name = str(values.get("account") or "").strip()
    if not name:
        return values, None
    account = Account.get_or_none(Account.name == name, Account.active == True)  # noqa: E712
    if account is None:
        raise MotcuaError(f"Không có tài khoản “{name}” đang dùng.")
    return dict(values, name=account.full_name or account.name, phone=account.phone, email=account.email), account


def link(contact, account):
    with database.atomic():
        ContactAccount.delete().where(ContactAccount.contact == contact.id).execute()
        if account is not None:
            ContactAccount.create(contact=contact.id, account=account)


def refresh_contacts(account):
    """Copy an account's name, phone and e-mail to the contacts linked to it."""
    ids = [link.contact for link in ContactAccount.select().where(ContactAccount.account == account)]
    if ids:
        Contact.update(name=account.full_name or account.name, phone=account.phone, email=account.email).where(
            Contact.id.in_(ids)).execute()
    return len(ids)

"""``motcua hub account add|disable|enable|reset|list|token|revoke-token``: the hub's accounts from the shell
(the first operator; a lost operator password). Every change is written to the audit log as ``cli:<user>``."""
import getpass

import click

from motcua.cli import with_settings

from .cli import _open, hub


def _actor():
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


@hub.group()
def account():
    """Named accounts of the hub's pages and API."""


@account.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["operator", "leader", "agency", "viewer"]), required=True)
@click.option("--communes", default="", help="GSO codes, comma-separated (leader, viewer).")
@click.option("--agency", default="", help="Agency code (agency officer).")
@click.option("--full-name", "full_name", default="", help="The person's name.")
@click.option("--phone", default="")
@click.option("--email", default="")
@click.option("--password-file", type=click.File("r", encoding="utf-8"), default=None,
              help="File (or - for stdin) whose first line is the password, kept without a change at first "
              "sign-in; default: a temporary one, printed once, to be changed at first sign-in.")
@with_settings("hub")
def add(settings, name, role, communes, agency, full_name, phone, email, password_file):
    """Create an account (a password never goes on the command line: it would stay in the shell's history)."""
    from . import audit
    from .accounts import create_account

    password = password_file.readline().rstrip("\r\n") if password_file else None
    _open(settings)
    made, secret = create_account(name, role, communes, agency, full_name, phone, email, password=password,
                                  must_change=password is None)
    audit.record(_actor(), "", "account.add", made.name, f"{made.role} {made.communes or made.agency}".strip())
    click.echo(f"Đã tạo tài khoản {made.name} ({made.role}).")
    if password is None:
        click.echo(f"Mật khẩu tạm (đổi khi đăng nhập lần đầu): {secret}")


@account.command("list")
@with_settings("hub")
def list_accounts(settings):
    """List the accounts, their role, scope and state."""
    from .accounts_models import Account

    _open(settings)
    for a in Account.select().order_by(Account.name):
        state = "đã khoá" if not a.active else ("chờ đổi mật khẩu" if a.must_change else "đang dùng")
        scope = a.communes or a.agency or "toàn trung tâm"
        click.echo(f"{a.name:<20} {a.role:<9} {scope:<24} {state}  {a.full_name}")


def _set_active(settings, name, active):
    from . import audit
    from .accounts import find, set_active

    _open(settings)
    found = find(name)
    set_active(found, active)
    audit.record(_actor(), "", "account.enable" if active else "account.disable", found.name)
    return found


@account.command("disable")
@click.argument("name")
@with_settings("hub")
def disable(settings, name):
    """Lock an account out (its sessions end; its tokens stop working)."""
    _set_active(settings, name, False)
    click.echo(f"Đã khoá tài khoản {name}.")


@account.command("enable")
@click.argument("name")
@with_settings("hub")
def enable(settings, name):
    """Let a locked account sign in again."""
    _set_active(settings, name, True)
    click.echo(f"Đã mở khoá tài khoản {name}.")


@account.command("reset")
@click.argument("name")
@with_settings("hub")
def reset(settings, name):
    """Give an account a new temporary password (printed once) and end its sessions."""
    from . import audit
    from .accounts import find, reset_password

    _open(settings)
    found = find(name)
    secret = reset_password(found)
    audit.record(_actor(), "", "account.reset", found.name)
    click.echo(f"Mật khẩu tạm mới của {found.name} (đổi khi đăng nhập lần đầu): {secret}")


@account.command("token")
@click.argument("name")
@click.option("--label", default="", help="What the token is for.")
@with_settings("hub")
def token(settings, name, label):
    """Make an API token for a script acting as NAME; only the token is printed (kept hashed)."""
    from . import audit
    from .accounts import find
    from .accounts_tokens import issue_token

    _open(settings)
    found = find(name)
    row, secret = issue_token(found, label)
    audit.record(_actor(), "", "token.add", found.name, f"mã #{row.id} {row.label}".strip())
    click.echo(secret)


@account.command("revoke-token")
@click.argument("name")
@click.argument("token_id", type=int)
@with_settings("hub")
def revoke(settings, name, token_id):
    """Revoke one of NAME's API tokens (its number is shown on the account's page)."""
    from . import audit
    from .accounts import find
    from .accounts_tokens import revoke_token

    _open(settings)
    found = find(name)
    revoke_token(found, token_id)
    audit.record(_actor(), "", "token.revoke", found.name, f"mã #{token_id}")
    click.echo(f"Đã thu hồi mã #{token_id} của {found.name}.")

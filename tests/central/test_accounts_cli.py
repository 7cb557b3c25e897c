"""``motcua hub account ...``: the first operator from the shell, reset, disable, tokens; all audited."""
import getpass
import re
import sqlite3

from click.testing import CliRunner

from central.cli import hub
from office.db import database


def run(tmp_path, *args, input=None):
    result = CliRunner().invoke(hub, ["account", *args, "--data-dir", str(tmp_path)], input=input)
    database.close()
    return result


def account_row(tmp_path, name):
    with sqlite3.connect(tmp_path / "hub.db") as conn:
        return conn.execute("select role, communes, must_change, active, password_hash from account where name = ?",
                            (name,)).fetchone()


def test_cli_makes_the_first_operator_with_a_temporary_password(tmp_path):
    made = run(tmp_path, "add", "nguyen.an", "--role", "operator", "--full-name", "Nguyễn Văn An")
    assert made.exit_code == 0, made.output
    temporary = re.search(r"Mật khẩu tạm .*: (\S+)", made.output).group(1)
    role, communes, must_change, active, password_hash = account_row(tmp_path, "nguyen.an")
    assert (role, must_change, active) == ("operator", 1, 1) and temporary not in password_hash
    assert password_hash.startswith("$argon2")
    listed = run(tmp_path, "list")
    assert "nguyen.an" in listed.output and "chờ đổi mật khẩu" in listed.output


def test_cli_checks_the_scope_and_refuses_a_second_account_of_the_same_name(tmp_path):
    assert run(tmp_path, "add", "lanhdao", "--role", "leader").exit_code != 0  # no commune
    assert run(tmp_path, "add", "lanhdao", "--role", "leader", "--communes", "05518,00454").exit_code == 0
    assert account_row(tmp_path, "lanhdao")[:2] == ("leader", "05518,00454")
    again = run(tmp_path, "add", "lanhdao", "--role", "viewer", "--communes", "05518")
    assert again.exit_code != 0 and "đã có" in str(again.exception)


def test_cli_reset_disable_enable_and_tokens_are_audited(tmp_path):
    run(tmp_path, "add", "ops", "--role", "operator", "--password-file", "-", input="a-long-password-1\n")
    assert account_row(tmp_path, "ops")[2] == 0  # a password given here need not be changed
    first_hash = account_row(tmp_path, "ops")[4]
    assert "Mật khẩu tạm mới" in run(tmp_path, "reset", "ops").output
    assert account_row(tmp_path, "ops")[2] == 1 and account_row(tmp_path, "ops")[4] != first_hash
    assert run(tmp_path, "disable", "ops").exit_code == 0 and account_row(tmp_path, "ops")[3] == 0
    assert run(tmp_path, "enable", "ops").exit_code == 0 and account_row(tmp_path, "ops")[3] == 1
    token = run(tmp_path, "token", "ops", "--label", "sao lưu").output.strip()
    assert token.startswith("mct_")
    assert run(tmp_path, "revoke-token", "ops", "1").exit_code == 0
    with sqlite3.connect(tmp_path / "hub.db") as conn:
        assert conn.execute("select revoked_at is not null from api_token").fetchone() == (1,)
        actions = [r[0] for r in conn.execute("select action from audit_entry order by id")]
        assert actions == ["account.add", "account.reset", "account.disable", "account.enable", "token.add",
                           "token.revoke"]
        assert {r[0] for r in conn.execute("select account from audit_entry")} == {f"cli:{getpass.getuser()}"}
    assert run(tmp_path, "reset", "nobody").exit_code != 0

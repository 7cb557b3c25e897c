"""Every subcommand answers --help; init sets a box up for a real commune."""
import sqlite3

import pytest
from click.testing import CliRunner

from motcua.cli import cli


@pytest.mark.parametrize("args", [[], ["edge"], ["edge", "serve"], ["edge", "worker"], ["edge", "init"],
                                  ["hub"], ["hub", "serve"], ["demo"]])
def test_help(args):
    result = CliRunner().invoke(cli, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_edge_init_for_a_real_commune(tmp_path):
    result = CliRunner().invoke(cli, ["edge", "init", "--data-dir", str(tmp_path), "--commune-code", "05518"])
    assert result.exit_code == 0, result.output
    assert "Phường Sông Công" in result.output
    with sqlite3.connect(tmp_path / "edge.db") as conn:
        assert conn.execute("select name from office").fetchone() == ("UBND Phường Sông Công",)
        assert conn.execute("select count(*) from service").fetchone() == (5,)
        assert conn.execute("pragma journal_mode").fetchone() == ("wal",)


def test_edge_init_creates_no_officer_with_the_published_password(tmp_path):
    result = CliRunner().invoke(cli, ["edge", "init", "--data-dir", str(tmp_path), "--commune-code", "05518"])
    assert result.exit_code == 0, result.output
    assert "motcua edge officer add" in result.output and "canbo1" not in result.output
    with sqlite3.connect(tmp_path / "edge.db") as conn:
        assert conn.execute("select count(*) from officer").fetchone() == (0,)
        assert conn.execute("select count(*) from counter").fetchone() == (3,)


def test_demo_officers_only_when_asked_for(tmp_path):
    result = CliRunner().invoke(cli, ["edge", "init", "--demo-data", "--data-dir", str(tmp_path),
                                      "--commune-code", "05518"])
    assert result.exit_code == 0, result.output
    assert "không dùng cho hộp thật" in result.output
    with sqlite3.connect(tmp_path / "edge.db") as conn:
        assert conn.execute("select username from officer order by username").fetchall() == [
            ("canbo1",), ("canbo2",), ("canbo3",)]


def test_edge_init_unknown_commune(tmp_path):
    result = CliRunner().invoke(cli, ["edge", "init", "--data-dir", str(tmp_path), "--commune-code", "99999"])
    assert result.exit_code != 0
    assert "Không có xã/phường mã" in str(result.exception) or "Không có xã/phường mã" in result.output


def test_edge_init_accepts_the_short_spellings(tmp_path):
    result = CliRunner().invoke(cli, ["edge", "init", "--data-dir", str(tmp_path), "--commune", "00454",
                                      "--hub", "http://127.0.0.1:9"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "keys" / "box.key").stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(tmp_path / "edge.db") as conn:
        assert conn.execute("select scope, hub_url from sync_node").fetchone() == ("00454", "http://127.0.0.1:9")


def test_officer_accounts_on_a_box_set_up_without_demo_data(tmp_path):
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path), "--commune-code", "05518"]
    assert runner.invoke(cli, ["edge", "init", "--no-demo-data", *base]).exit_code == 0
    added = runner.invoke(cli, ["edge", "officer", "add", "--username", "lan.nt", "--full-name", "Nguyễn Thị Lan",
                                "--password-file", "-", *base], input="matkhau-dai\n")
    assert added.exit_code == 0, added.output
    short = runner.invoke(cli, ["edge", "officer", "add", "--username", "x", "--full-name", "X", *base],
                          input="123\n123\n")
    assert short.exit_code != 0 and "ít nhất 8" in (short.output + str(short.exception))
    listed = runner.invoke(cli, ["edge", "officer", "list", *base])
    assert "lan.nt" in listed.output and "Nguyễn Thị Lan" in listed.output
    assert runner.invoke(cli, ["edge", "officer", "disable", "--username", "lan.nt", *base]).exit_code == 0
    assert "đã khoá" in runner.invoke(cli, ["edge", "officer", "list", *base]).output


def test_passwords_are_never_taken_from_the_command_line(tmp_path):
    from werkzeug.security import check_password_hash

    from provisioning.bundle import read_bundle

    runner = CliRunner()
    hub = ["--data-dir", str(tmp_path / "hub"), "--operator-password", "op-pass-123"]
    for option, command in (("--technician-password", ["provision", "bundle", "--commune", "05518", *hub]),
                            ("--password", ["edge", "officer", "add", "--username", "a", "--full-name", "A",
                                            "--data-dir", str(tmp_path / "box")]),
                            ("--password", ["hub", "account", "add", "ops", "--role", "operator", *hub])):
        refused = runner.invoke(cli, [*command, option, "matkhau-lo-ra"])
        assert refused.exit_code == 2 and "No such option" in refused.output, refused.output
    out = tmp_path / "b.motcua"
    made = runner.invoke(cli, ["provision", "bundle", "--commune", "05518", "--out", str(out),
                               "--technician-password-file", "-", *hub], input="mat-khau-ky-thuat\n")
    assert made.exit_code == 0, made.output
    assert "mat-khau-ky-thuat" not in made.output
    assert check_password_hash(read_bundle(out).box["technician_password_hash"], "mat-khau-ky-thuat")
    asked = runner.invoke(cli, ["provision", "bundle", "--commune", "05518", "--out", str(tmp_path / "c.motcua"),
                                "--ask-technician-password", *hub], input="mat-khau-hai\nmat-khau-hai\n")
    assert asked.exit_code == 0, asked.output
    assert check_password_hash(read_bundle(tmp_path / "c.motcua").box["technician_password_hash"], "mat-khau-hai")


def test_enrolment_bundles_made_at_the_hub_are_in_its_audit_log(tmp_path):
    import sqlite3

    from provisioning.bundle import read_bundle

    hub = ["--data-dir", str(tmp_path / "hub"), "--operator-password", "op-pass-123"]
    out = tmp_path / "b.motcua"
    made = CliRunner().invoke(cli, ["provision", "bundle", "--commune", "05518", "--out", str(out),
                                    "--technician-password-file", "-", *hub], input="mat-khau-ky-thuat\n")
    assert made.exit_code == 0, made.output
    with sqlite3.connect(tmp_path / "hub" / "hub.db") as conn:
        rows = conn.execute("select action, target, detail, account from audit_entry").fetchall()
    assert [(action, target) for action, target, _, _ in rows] == [("bundle.make", read_bundle(out).manifest["bundle_id"])]
    assert "xã 05518" in rows[0][2] and rows[0][3].startswith("cli:")


def test_box_commands_do_not_load_the_hub_demo_or_provisioning_modules():
    """Each module the box's long-running processes import stays in their memory for the day
    (issue 15: the box's web and worker were over their memory budget)."""
    import subprocess
    import sys

    code = ("import sys; sys.argv = ['motcua', 'edge', 'worker', '--help']\n"
            "from motcua.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('central.cli', 'motcua.demo', 'provisioning.cli', 'werkzeug') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"

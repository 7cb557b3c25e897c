"""The systemd units, udev rules and installer in systemd/.

- every unit passes ``systemd-analyze verify`` (on a copy whose ExecStart paths point at this venv);
- every ``motcua ...`` a unit runs is a command the package installs, with options it accepts;
- the units agree with the code: gunicorn really sends READY=1 (Type=notify), the kiosk waits for
  the health endpoint on the port the box listens on, no watchdog without a process feeding it;
- ``install.sh --dry-run`` runs, mentions every unit and changes nothing; ``bash -n``, shellcheck;
- the udev rules are well formed (structural check: ``udevadm verify`` only exists from systemd 254,
  Debian 12 has 252; when it exists it runs too).
"""
import configparser
import http.server
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import motcua.cli
from motcua.settings import BY_NAME, parse_pairs

ROOT = Path(__file__).resolve().parents[2]
SYSTEMD = ROOT / "systemd"
INSTALL = SYSTEMD / "install.sh"
UNITS = sorted(p.name for p in SYSTEMD.glob("*.service"))
RULES = sorted(p.name for p in SYSTEMD.glob("*.rules"))  # udev rules (the polkit rule is motcua-polkit.js)
BOX_UNITS = {"motcua-edge-web.service", "motcua-edge-worker.service", "motcua-devices.service",
             "motcua-kiosk.service", "motcua-lobby.service", "motcua-provision@.service"}
HUB_UNITS = {"motcua-hub-web.service", "motcua-hub-worker.service"}
BROWSER_UNITS = {"motcua-kiosk.service", "motcua-lobby.service"}  # Chromium in cage
PYTHON_UNITS = [u for u in UNITS if u not in BROWSER_UNITS]  # the units running `motcua ...`

VENV_MOTCUA = "/opt/motcua/venv/bin/motcua"
CURRENT_MOTCUA = "/var/lib/motcua/software/current/venv/bin/motcua"  # the box's services: the release in use
MOTCUA_PROGRAMS = (VENV_MOTCUA, CURRENT_MOTCUA)
TEST_MOTCUA = Path(sys.prefix) / "bin" / "motcua"
# Programs a unit runs that exist on the box but not necessarily where the tests run. Only these
# are replaced by a stub for `verify`; any other missing program is an error in the unit.
BOX_ONLY_PROGRAMS = {"/usr/bin/cage": "the kiosk's Wayland compositor (apt install cage), box only"}
EXEC_KEYS = ("ExecCondition", "ExecStartPre", "ExecStart", "ExecStartPost", "ExecReload", "ExecStop",
             "ExecStopPost")
INSTANCE = "sda1"  # what udev passes to motcua-provision@.service (%k, the kernel name)


def systemd_analyze():
    path = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
    if not os.access(path, os.X_OK):
        pytest.fail("systemd-analyze is missing: these tests check the units with it. "
                    "Install it with `apt-get install systemd` (.ci/run does).")
    return path


def read_unit(name):
    """A unit file as {section: {key: [values...]}} (systemd keys repeat; comments dropped)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",),
                                       comment_prefixes=("#", ";"), empty_lines_in_values=False,
                                       dict_type=_MultiDict)
    parser.optionxform = str
    parser.read_string((SYSTEMD / name).read_text())
    return {section: {key: value.split("\n") for key, value in parser[section].items()}
            for section in parser.sections()}


class _MultiDict(dict):
    """Lets configparser keep every value of a repeated key (joined with newlines)."""

    def __setitem__(self, key, value):
        if key in self and isinstance(value, list) and isinstance(self[key], list):
            self[key].extend(value)
        else:
            super().__setitem__(key, value)


def service(name):
    return read_unit(name).get("Service", {})


def exec_lines(name):
    """Every command line (ExecStart=, ExecStartPre=...) of a unit, split into argv, prefixes dropped,
    the instance specifiers filled in as for motcua-provision@sda1.service."""
    commands = []
    for key in EXEC_KEYS:
        for line in service(name).get(key, []):
            line = line.replace("%I", INSTANCE).replace("%i", INSTANCE)
            argv = shlex.split(line)
            argv[0] = argv[0].lstrip("@-:+!")
            commands.append((key, argv))
    return commands


@pytest.fixture(scope="module")
def unit_copy(tmp_path_factory):
    """The units in a temp dir, ExecStart paths pointing at this venv's motcua (systemd-analyze
    verify checks that every program exists), box-only programs replaced by a stub."""
    assert TEST_MOTCUA.exists(), f"{TEST_MOTCUA}: run the tests from the project's venv"
    directory = tmp_path_factory.mktemp("units")
    stubs = directory / "stubs"
    stubs.mkdir()
    for name in UNITS:
        text = (SYSTEMD / name).read_text().replace(VENV_MOTCUA, str(TEST_MOTCUA)).replace(CURRENT_MOTCUA,
                                                                                            str(TEST_MOTCUA))
        for program in BOX_ONLY_PROGRAMS:
            if not os.access(program, os.X_OK):
                stub = stubs / Path(program).name
                stub.write_text("#!/bin/sh\nexit 0\n")
                stub.chmod(0o755)
                text = text.replace(program, str(stub))
        (directory / name).write_text(text)
    return directory


# --- 1. systemd-analyze verify --------------------------------------------------------------------

def verify_targets():
    for name in UNITS:
        yield name
        if name.endswith("@.service"):
            yield name.replace("@.service", f"@{INSTANCE}.service")  # as udev starts it


@pytest.mark.parametrize("target", list(verify_targets()))
def test_systemd_analyze_verify(unit_copy, target):
    analyze = systemd_analyze()
    env = {**os.environ, "SYSTEMD_LOG_COLOR": "0", "SYSTEMD_PAGER": "", "LC_ALL": "C"}
    result = subprocess.run([analyze, "verify", "--man=no", str(unit_copy / target)], env=env,
                            capture_output=True, text=True, timeout=60)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    # Lines about our own units must not exist at all: unknown keys ("Unknown key 'X', ignoring"
    # exits 0!), bad values, missing programs, dependency cycles. Lines about the distribution's
    # units pulled in as dependencies (getty@tty1, systemd-user-sessions...) are not ours to fix:
    # they are printed (none show up on Debian 12); the exit status must be 0 all the same.
    # User=motcua not existing here and the box-only units (graphical stack) are not reported by
    # `verify` (it checks neither users nor Wants=/After= targets that are missing).
    ours = [line for line in lines if "motcua" in line or str(unit_copy) in line]
    assert ours == [], "systemd-analyze verify complains:\n" + "\n".join(ours)
    assert result.returncode == 0, "\n".join(lines)
    for line in lines:
        print("not ours:", line)


def test_units_are_hardened_like_the_rest(unit_copy):
    """`systemd-analyze security` exposure of the Python services stays "OK" (< 3; they score 1.6-2.0).
    The kiosk scores higher on purpose: Chromium needs its GPU, input devices, namespaces."""
    analyze = systemd_analyze()
    for name in PYTHON_UNITS:
        result = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", str(unit_copy / name)],
                                capture_output=True, text=True, timeout=60, env={**os.environ, "LC_ALL": "C"})
        match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", result.stdout)
        assert match, result.stdout + result.stderr
        assert float(match.group(1)) < 3.0, f"{name}: exposure {match.group(1)}\n{result.stdout}"


# --- 2. the commands the units run exist -------------------------------------------------------------

@pytest.fixture(scope="module")
def motcua_cli():
    """The `motcua` command as installed: its groups load when a command names them."""
    return motcua.cli.cli


def motcua_invocations():
    found = []
    for name in UNITS:
        for key, argv in exec_lines(name):
            if argv[0] in MOTCUA_PROGRAMS:
                found.append(pytest.param(argv[1:], id=f"{name}:{key}:{' '.join(argv[1:])}"))
            else:
                assert not argv[0].endswith("/motcua"), f"{name}: {key} runs {argv[0]}, not {VENV_MOTCUA}"
    return found


def test_every_motcua_unit_runs_motcua():
    seen = {tuple(p.values[0]) for p in motcua_invocations()}
    assert seen == {("edge", "serve"), ("edge", "worker"), ("edge", "devices"), ("edge", "provision", "--scan"),
                    ("hub", "serve"), ("hub", "worker")}


@pytest.mark.parametrize("args", motcua_invocations())
def test_unit_command_exists(motcua_cli, args):
    command, path, ctx = motcua_cli, [], None
    rest = list(args)
    while isinstance(command, click.Group) and rest and not rest[0].startswith("-"):
        ctx = click.Context(command, info_name=" ".join(["motcua", *path]), parent=ctx)
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"`motcua {' '.join(path)}` has no subcommand {rest[0]!r}"
        command, path = sub, [*path, rest.pop(0)]
    assert not isinstance(command, click.Group), f"`motcua {' '.join(args)}` names a group, not a command"
    # The whole command line parses: options the unit passes exist, nothing required is missing.
    try:
        command.make_context(" ".join(["motcua", *path]), list(rest), parent=ctx)
    except click.UsageError as exc:
        pytest.fail(f"`motcua {' '.join(args)}` does not parse: {exc.format_message()}")
    result = CliRunner().invoke(motcua_cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_other_programs_exist_on_debian():
    """Absolute paths only, and each program is there (Debian 12 here) or known to be box-only."""
    for name in UNITS:
        for key, argv in exec_lines(name):
            assert argv[0].startswith("/"), f"{name}: {key} needs an absolute path: {argv[0]}"
            if argv[0] not in MOTCUA_PROGRAMS and argv[0] not in BOX_ONLY_PROGRAMS:
                assert os.access(argv[0], os.X_OK), f"{name}: {key}: {argv[0]} does not exist"


# --- the units agree with the code ----------------------------------------------------------------------

def test_common_settings():
    for name in PYTHON_UNITS:
        svc = service(name)
        assert svc["User"] == ["motcua"], name
        assert "MOTCUA_DATA_DIR=/var/lib/motcua" in svc["Environment"], name
        assert svc["ReadWritePaths"] == ["/var/lib/motcua"], name
        assert svc["ProtectSystem"] == ["strict"] and svc["NoNewPrivileges"] == ["yes"], name
        env_file = "-/etc/motcua/hub.env" if name.startswith("motcua-hub") else "-/etc/motcua/edge.env"
        assert svc["EnvironmentFile"] == [env_file], name
        assert svc.get("Restart", ["no"])[0] in ("always", "on-failure") or svc["Type"] == ["oneshot"], name


def test_console_restart_buttons():
    """The technician console's restart commands name our units, and the polkit rule lets user motcua
    run exactly those."""
    (value,) = [e.split("=", 1)[1] for e in service("motcua-edge-web.service")["Environment"]
                if e.strip('"').startswith("MOTCUA_RESTART_COMMANDS=")]
    commands = parse_pairs(value.strip('"'))
    assert len(commands) == 4
    polkit = (SYSTEMD / "motcua-polkit.js").read_text()
    allowed = re.search(r"var ours = /(.*)/;", polkit).group(1)
    for label, command in commands.items():
        argv = shlex.split(command)
        assert argv[:3] == ["/usr/bin/systemctl", "--no-block", "restart"], command
        assert (SYSTEMD / argv[3]).exists(), argv[3]
        assert re.fullmatch(allowed, argv[3]), f"polkit does not allow {argv[3]}"
    for name in ("motcua-hub-web.service", "motcua-provision@sda1.service", "motcua-edge-webx.service"):
        assert not re.fullmatch(allowed, name), name


def test_no_watchdog_without_a_process_feeding_it():
    """None of our processes sends WATCHDOG=1 (gunicorn only sends READY=1): a WatchdogSec= would
    kill healthy services."""
    for name in UNITS:
        assert "WatchdogSec" not in service(name), name


def test_huey_workers_stop_gracefully():
    for name in ("motcua-edge-worker.service", "motcua-hub-worker.service"):
        assert service(name)["KillSignal"] == ["SIGINT"], name


def test_device_service_groups_and_devices():
    svc = service("motcua-devices.service")
    assert svc["SupplementaryGroups"] == ["gpio lp dialout"]
    assert svc["PrivateDevices"] == ["no"]
    assert any(d.startswith("char-usb_device") for d in svc["DeviceAllow"])
    url = f"http://127.0.0.1:{BY_NAME['device_port'].default}"
    for name in ("motcua-edge-web.service", "motcua-edge-worker.service"):
        assert f"MOTCUA_DEVICE_URL={url}" in service(name)["Environment"], name
        assert service(name)["PrivateDevices"] == ["yes"], name


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("scope", ["edge", "hub"])
def test_gunicorn_notifies_ready(tmp_path, scope):
    """Type=notify in the web units: `motcua <scope> serve` sends READY=1 on $NOTIFY_SOCKET once it listens."""
    unit = f"motcua-{scope}-web.service"
    assert service(unit)["Type"] == ["notify"]
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(30)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update(NOTIFY_SOCKET=str(path), MOTCUA_DATA_DIR=str(tmp_path / "data"), MOTCUA_PORT=str(port))
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([str(TEST_MOTCUA), scope, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        try:
            message = sock.recv(4096).decode()
        except TimeoutError:
            pytest.fail("no READY=1 within 30 s:\n" + (tmp_path / "serve.log").read_text())
        assert "READY=1" in message.split("\n")
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # READY=1 came after the port was open
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        sock.close()
        log.close()


def test_kiosk_waits_for_the_box_on_its_port():
    svc = service("motcua-kiosk.service")
    port = BY_NAME["port"].default
    (wait,) = [argv for key, argv in exec_lines("motcua-kiosk.service") if key == "ExecStartPre"]
    (start,) = [argv for key, argv in exec_lines("motcua-kiosk.service") if key == "ExecStart"]
    assert wait[-1] == f"http://127.0.0.1:{port}/api/v1/health"
    assert start[-1] == f"http://127.0.0.1:{port}/kiosk"
    for flag in ("--kiosk", "--noerrdialogs", "--disable-infobars", "--autoplay-policy=no-user-gesture-required",
                 "--disable-background-networking"):
        assert flag in start, flag
    assert svc["Restart"] == ["always"]
    # Bounded: the whole wait ends before systemd's start timeout.
    opts = dict(zip(wait, wait[1:]))
    bound = int(opts["--retry-max-time"]) + int(opts["--max-time"]) + 5
    assert bound < int(svc["TimeoutStartSec"][0])


def test_lobby_tv_plays_calls_without_a_tap():
    """The lobby TV unit: the /lobby board of the box named by MOTCUA_LOBBY_BOX (this box by default,
    /etc/motcua/lobby.env for a second Pi), allowed to play sound with nobody touching the screen,
    waiting for that box's health first, and never on tty1 together with the kiosk."""
    svc = service("motcua-lobby.service")
    port = BY_NAME["port"].default
    (wait,) = [argv for key, argv in exec_lines("motcua-lobby.service") if key == "ExecStartPre"]
    (start,) = [argv for key, argv in exec_lines("motcua-lobby.service") if key == "ExecStart"]
    assert f"MOTCUA_LOBBY_BOX=http://127.0.0.1:{port}" in svc["Environment"]
    assert svc["EnvironmentFile"] == ["-/etc/motcua/lobby.env"]
    assert wait[-1] == "${MOTCUA_LOBBY_BOX}/api/v1/health"
    assert start[-1] == "${MOTCUA_LOBBY_BOX}/lobby"
    for flag in ("--kiosk", "--noerrdialogs", "--autoplay-policy=no-user-gesture-required"):
        assert flag in start, flag
    assert svc["Restart"] == ["always"]
    assert "motcua-kiosk.service" in read_unit("motcua-lobby.service")["Unit"]["Conflicts"][0].split()
    opts = dict(zip(wait, wait[1:]))
    assert int(opts["--retry-max-time"]) + int(opts["--max-time"]) + 5 < int(svc["TimeoutStartSec"][0])


def test_kiosk_health_wait_runs(tmp_path):
    """The ExecStartPre command itself (this machine's curl takes its options), against a server that
    starts answering after a second: it waits, then succeeds."""
    (wait,) = [argv for key, argv in exec_lines("motcua-kiosk.service") if key == "ExecStartPre"]
    port = free_port()
    argv = [*wait[:-1], wait[-1].replace(f":{BY_NAME['port'].default}/", f":{port}/")]

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/api/v1/health" else 404)
            self.end_headers()
            self.wfile.write(b'{"ok": true}')

        def log_message(self, *args):
            pass

    def serve_later():
        time.sleep(1.2)
        server = http.server.HTTPServer(("127.0.0.1", port), Health)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)

    started = []
    threading.Thread(target=serve_later, daemon=True).start()
    began = time.monotonic()
    try:
        result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    finally:
        for server in started:
            server.shutdown()
            server.server_close()
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - began >= 1


# --- 3. install.sh ----------------------------------------------------------------------------------------

def test_install_sh_syntax():
    result = subprocess.run(["bash", "-n", str(INSTALL)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_install_sh_shellcheck():
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck not installed (apt-get install shellcheck; .ci/run does)")
    result = subprocess.run([shellcheck, str(INSTALL), str(SYSTEMD / "test-real-install.sh")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# Commands that would change the system; on PATH as recorders during the dry runs, so that a
# dry run that forgets itself changes nothing and is caught.
CHANGING = ("useradd", "groupadd", "usermod", "install", "apt-get", "systemctl", "udevadm", "chown", "chmod",
            "python3", "pip", "mkdir", "cp", "ln", "rm")


def dry_run(tmp_path, *args):
    stubs = tmp_path / "stubs"
    stubs.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    for name in CHANGING:
        stub = stubs / name
        stub.write_text(f'#!/bin/sh\necho "{name} $*" >>"{log}"\nexit 0\n')
        stub.chmod(0o755)
    env = {**os.environ, "PATH": f"{stubs}:{os.environ['PATH']}", "LC_ALL": "C"}
    result = subprocess.run(["bash", str(INSTALL), "--dry-run", *args], capture_output=True, text=True,
                            env=env, timeout=60)
    calls = log.read_text().splitlines() if log.exists() else []
    # Only questions were asked (systemctl get-default / is-enabled at the end).
    changed = [c for c in calls if not re.match(r"systemctl (get-default|is-enabled)\b", c)]
    assert changed == [], f"the dry run ran: {changed}"
    return result


def test_install_dry_run_box(tmp_path):
    result = dry_run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for name in sorted(BOX_UNITS) + RULES + ["motcua-modules.conf"]:
        assert name in out, name
    for name in HUB_UNITS:
        assert name not in out, name
    assert "systemctl enable motcua-edge-web.service motcua-edge-worker.service motcua-devices.service " \
           "motcua-kiosk.service" in out
    assert "useradd" in out or "user motcua exists" in out
    assert "/var/lib/motcua" in out and "/opt/motcua/venv" in out
    assert "udevadm control --reload-rules" in out and "systemctl daemon-reload" in out


def test_install_dry_run_hub(tmp_path):
    result = dry_run(tmp_path, "--hub", "--no-apt")
    assert result.returncode == 0, result.stdout + result.stderr
    for name in HUB_UNITS:
        assert name in result.stdout, name
    for name in BOX_UNITS | set(RULES):
        assert name not in result.stdout, name
    assert f"{ROOT}[hub]" in result.stdout


def test_every_file_is_installed(tmp_path):
    """Nothing in systemd/ is forgotten by the installer (a new unit must be added to it)."""
    out = dry_run(tmp_path).stdout + dry_run(tmp_path, "--hub").stdout
    for path in SYSTEMD.iterdir():
        if path.name not in ("install.sh", "test-real-install.sh"):
            assert path.name in out, f"install.sh does not install {path.name}"
    assert set(UNITS) == BOX_UNITS | HUB_UNITS


def test_install_from_a_wheel(tmp_path):
    wheel = tmp_path / "motcua-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    result = dry_run(tmp_path, "--hub", "--no-apt", str(wheel))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{wheel}[hub]" in result.stdout


def test_install_dry_run_headless(tmp_path):
    """A box whose kiosk is a PC or tablet on the LAN: no cage or Chromium, the kiosk unit not enabled
    (its file is still installed, for a screen added later)."""
    result = dry_run(tmp_path, "--headless")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "systemctl enable motcua-edge-web.service motcua-edge-worker.service motcua-devices.service\n" in out
    assert "/etc/systemd/system/motcua-kiosk.service" in out
    assert "cage" not in re.search(r"^1\. system packages\n(.*?)^2\.", out, re.M | re.S).group(1)
    assert "WARNING: a desktop" not in out
    # a box that had a screen: its kiosk unit is switched off (the stubs answer "enabled")
    assert "systemctl disable motcua-kiosk.service" in out


def test_install_from_a_wheelhouse_without_an_index(tmp_path):
    """A box without Internet: every pip install reads the wheelhouse only."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    result = dry_run(tmp_path, "--no-apt", "--wheelhouse", str(wheels))
    assert result.returncode == 0, result.stdout + result.stderr
    pip_lines = [line for line in result.stdout.splitlines() if "/bin/pip install" in line]
    assert len(pip_lines) == 3
    for line in pip_lines:
        assert f"--no-index --find-links {wheels}" in line, line
    assert dry_run(tmp_path, "--wheelhouse", str(tmp_path / "nowhere")).returncode == 2


def test_install_refuses_what_it_does_not_know(tmp_path):
    assert dry_run(tmp_path, "--frobnicate").returncode == 2
    assert dry_run(tmp_path, str(tmp_path / "nothing-here")).returncode == 2


# --- 4. udev rules ----------------------------------------------------------------------------------------

MATCH_KEYS = {"ACTION", "DEVPATH", "KERNEL", "KERNELS", "NAME", "SYMLINK", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER",
              "DRIVERS", "ATTR", "ATTRS", "SYSCTL", "ENV", "CONST", "TAG", "TAGS", "TEST", "PROGRAM", "RESULT"}
ASSIGN_KEYS = {"NAME", "SYMLINK", "OWNER", "GROUP", "MODE", "SECLABEL", "ATTR", "SYSCTL", "ENV", "TAG", "RUN",
               "LABEL", "GOTO", "IMPORT", "OPTIONS"}
TOKEN = re.compile(r'\s*(?P<key>[A-Z_]+)(?:\{(?P<attr>[^}]*)\})?\s*(?P<op>==|!=|\+=|-=|:=|=)\s*"(?P<value>[^"]*)"\s*')


def rule_lines(name):
    text = (SYSTEMD / name).read_text().replace("\\\n", "")
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("name", RULES)
def test_udev_rules_structure(name):
    lines = rule_lines(name)
    assert lines, f"{name} has no rules"
    for line in lines:
        tokens, pos = [], 0
        while pos < len(line):
            match = TOKEN.match(line, pos)
            assert match, f"{name}: cannot parse at column {pos}: {line}"
            tokens.append(match)
            pos = match.end()
            if pos < len(line):
                assert line[pos] == ",", f"{name}: expected ',' at column {pos}: {line}"
                pos += 1
        matches = [t for t in tokens if t["op"] in ("==", "!=")]
        assigns = [t for t in tokens if t["op"] not in ("==", "!=")]
        assert matches and assigns, f"{name}: a rule needs a match and an assignment: {line}"
        for t in matches:
            assert t["key"] in MATCH_KEYS, f"{name}: {t['key']} is not a match key"
        for t in assigns:
            assert t["key"] in ASSIGN_KEYS, f"{name}: {t['key']} cannot be assigned"
            if t["key"] == "MODE":
                assert re.fullmatch(r"0[0-7]{3}", t["value"]), t["value"]
            if t["key"] == "GROUP":
                assert t["value"] in ("lp", "dialout", "gpio"), t["value"]
            if t["key"] == "ENV" and t["attr"] == "SYSTEMD_WANTS":
                template = re.sub(r"@[^.]*\.service$", "@.service", t["value"])
                assert (SYSTEMD / template).exists(), f"{name}: wants {t['value']}, no {template}"
                assert "%k" in t["value"] or "$kernel" in t["value"]
        if any(t["attr"] == "SYSTEMD_WANTS" for t in assigns):
            assert any(t["key"] == "TAG" and t["value"] == "systemd" for t in assigns), line


def test_printer_rule():
    (usblp, raw) = rule_lines("99-motcua-printer.rules")
    assert 'ATTRS{bInterfaceClass}=="07"' in usblp and 'SYMLINK+="motcua-printer"' in usblp
    for line in (usblp, raw):
        assert 'GROUP="lp"' in line and 'MODE="0660"' in line


def test_usb_rule_starts_the_provision_unit():
    (rule,) = rule_lines("99-motcua-usb.rules")
    assert 'ACTION=="add"' in rule and 'SUBSYSTEM=="block"' in rule and 'SUBSYSTEMS=="usb"' in rule
    assert 'ENV{SYSTEMD_WANTS}+="motcua-provision@%k.service"' in rule
    (scan,) = [argv for key, argv in exec_lines("motcua-provision@.service") if key == "ExecStart"]
    assert scan[1:] == ["edge", "provision", "--scan"]
    # it mounts the stick where the scan looks
    mount_dirs = BY_NAME["usb_mount_dirs"].default.split(",")
    (mount,) = [argv for key, argv in exec_lines("motcua-provision@.service") if argv[0].endswith("/mount")]
    assert any(mount[-1].startswith(d.rstrip("/") + "/") for d in mount_dirs), mount


def test_udevadm_verify_when_available():
    udevadm = shutil.which("udevadm")
    if udevadm is None or subprocess.run([udevadm, "verify", "--help"], capture_output=True).returncode != 0:
        pytest.skip("no `udevadm verify` (systemd < 254); the structural check above stands in")
    result = subprocess.run([udevadm, "verify", *(str(SYSTEMD / r) for r in RULES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

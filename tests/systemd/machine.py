"""A Debian 12 system with systemd as PID 1, for installing motcua for real: a systemd-nspawn container
booted from a debootstrap root file system.

- ``ensure_rootfs()``: the base system, made once with debootstrap and kept under /var/cache (rebuilt when
  ``PACKAGES`` change); each test run boots a copy of it.
- ``ensure_wheelhouse()``: the package's dependencies as wheels, made once on this machine (the container
  has no Internet: it reaches this machine only, over a veth pair), kept under /var/cache too.
- ``Machine``: boot, run a command inside (nsenter into PID 1's namespaces: the host needs neither
  systemd nor systemd-machined), power off. The container has its own network namespace: the box
  listens on its usual ports at ``BOX_IP`` without clashing with anything here, and reaches this
  machine at ``HOST_IP`` (where the test's hub listens), like a box reaching its hub over the LAN.
"""
import fcntl
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from tests.processes import children

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("MOTCUA_MACHINE_CACHE", "/var/cache"))
ROOTFS = CACHE / "motcua-rootfs"
WHEELHOUSE = CACHE / "motcua-wheelhouse"
MIRROR = os.environ.get("MOTCUA_DEBIAN_MIRROR", "http://deb.debian.org/debian")
SUITE = "bookworm"
# What a Raspberry Pi OS Lite / Debian 12 server has, plus what install.sh would apt-get (so the
# install needs no network): systemd as init, udev, dbus, polkitd, Python's venv and pip, curl.
# (libpam-systemd: polkitd's logind, named here because debootstrap does not resolve alternatives.)
PACKAGES = ("systemd", "systemd-sysv", "dbus", "udev", "libpam-systemd", "polkitd", "python3", "python3-venv",
            "python3-pip", "curl", "ca-certificates")
HOST_IP, BOX_IP = "10.213.77.1", "10.213.77.2"
MACHINES = Path("/var/tmp/motcua-machines")
SRC = "/root/motcua-src"  # this checkout, inside the container
WHEELS = "/root/wheels"  # the wheelhouse, inside the container
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TOOLS = ("systemd-nspawn", "debootstrap", "nsenter", "ip")


def why_not():
    """Why this machine cannot run the container (a reason to skip), or None."""
    if sys.platform != "linux":
        return "systemd-nspawn containers need Linux"
    if os.geteuid() != 0:
        return "booting a systemd-nspawn container needs root"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return (f"missing {', '.join(missing)}: apt-get install systemd-container debootstrap util-linux "
                "iproute2 (.ci/run does)")
    return None


@contextmanager
def locked(name):
    """An exclusive lock across processes (two runs share the cache, the veth subnet and machine name)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_rootfs(log):
    """The cached Debian 12 root file system (debootstrap minbase + PACKAGES), built when missing."""
    stamp_text = f"{SUITE} {MIRROR} {' '.join(PACKAGES)}\n"
    stamp = CACHE / "motcua-rootfs.stamp"
    with locked("motcua-rootfs"):
        if ROOTFS.is_dir() and stamp.exists() and stamp.read_text() == stamp_text:
            return ROOTFS
        fresh = CACHE / "motcua-rootfs.new"
        shutil.rmtree(fresh, ignore_errors=True)
        with open(log, "ab") as out:
            subprocess.run(["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(fresh),
                           MIRROR], stdout=out, stderr=subprocess.STDOUT, check=True, timeout=1800)
        (fresh / "etc/machine-id").write_text("")  # a new id at each copy's first boot
        shutil.rmtree(ROOTFS, ignore_errors=True)
        fresh.rename(ROOTFS)
        stamp.write_text(stamp_text)
        return ROOTFS


def ensure_wheelhouse(log):
    """Wheels of the package's dependencies (and pip, setuptools, wheel to build the package itself),
    for `install.sh --wheelhouse`; rebuilt when pyproject.toml changes. The package's own wheel is
    left out: the installer builds it from the source it is given."""
    key = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    target = WHEELHOUSE / key
    with locked("motcua-wheelhouse"):
        if (target / ".complete").exists():
            return target
        fresh = WHEELHOUSE / f"{key}.new"
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(parents=True)
        source = WHEELHOUSE / f"{key}.source"  # pip builds in the source tree: a copy, not the checkout
        shutil.rmtree(source, ignore_errors=True)
        copy_source(source)
        with open(log, "ab") as out:
            subprocess.run([sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "--quiet",
                            "--wheel-dir", str(fresh), f"{source}[hub]", "pip", "setuptools>=68", "wheel"],
                           stdout=out, stderr=subprocess.STDOUT, check=True, timeout=1200)
        shutil.rmtree(source)
        for wheel in fresh.glob("motcua-*.whl"):
            wheel.unlink()
        (fresh / ".complete").write_text(key)
        shutil.rmtree(target, ignore_errors=True)
        fresh.rename(target)
        return target


def copy_source(dest):
    """The checkout's tracked files as they are now (uncommitted changes included) into ``dest``."""
    dest.mkdir(parents=True)
    files = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=True).stdout
    packed = subprocess.run(["tar", "-C", str(ROOT), "--null", "-T", "-", "-cf", "-"], input=files,
                            capture_output=True, check=True).stdout
    subprocess.run(["tar", "-C", str(dest), "-xf", "-"], input=packed, check=True)


class Machine:
    """One container: a copy of the cached root file system at ``root``, booted with systemd-nspawn."""

    def __init__(self, root, name, log):
        self.root, self.name, self.log = Path(root), name, Path(log)
        self.proc = None
        self.leader = None

    @classmethod
    def create(cls, base, root, name, log):
        subprocess.run(["cp", "-a", "--reflink=auto", str(base), str(root)], check=True, timeout=600)
        machine = cls(root, name, log)
        (machine.root / "etc/hostname").write_text(f"{name}\n")
        network = machine.root / "etc/systemd/network/10-host0.network"
        network.parent.mkdir(parents=True, exist_ok=True)
        network.write_text(f"[Match]\nName=host0\n\n[Network]\nAddress={BOX_IP}/30\n"
                           "LinkLocalAddressing=no\nIPv6AcceptRA=no\n")
        subprocess.run(["systemctl", f"--root={machine.root}", "enable", "systemd-networkd.service"],
                       check=True, capture_output=True, timeout=60)
        return machine

    @property
    def veth(self):
        return f"ve-{self.name}"[:15]

    def boot(self, timeout=120):
        """Start the container, give this machine its end of the veth pair, wait for the boot to end."""
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            ["systemd-nspawn", "--quiet", "-D", str(self.root), "--boot", "--machine", self.name,
             # no systemd on this machine (or not as PID 1): no machined to register with, no scope
             "--register=no", "--keep-unit", "--network-veth", "--console=read-only"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        deadline = time.monotonic() + timeout
        self.leader = self._wait(lambda: self._find_leader(), deadline, "the container's PID 1")
        self._wait(lambda: subprocess.run(["ip", "link", "show", self.veth], capture_output=True).returncode == 0,
                   deadline, f"the interface {self.veth}")
        subprocess.run(["ip", "addr", "replace", f"{HOST_IP}/30", "dev", self.veth], check=True)
        subprocess.run(["ip", "link", "set", self.veth, "up"], check=True)
        answers = []

        def booted():  # systemctl answers once PID 1 listens; "starting" until the boot ends
            result = self.run("systemctl", "is-system-running", check=False, timeout=30)
            answers.append((result.stdout + result.stderr).strip())
            return answers[-1] in ("running", "degraded")

        try:
            self._wait(booted, deadline, "the end of the boot")
        except BootFailed:
            raise BootFailed(f"the boot did not end (systemctl is-system-running: {answers[-3:]}):\n"
                             f"{self.console()}") from None
        return answers[-1]

    def _find_leader(self):
        if self.proc.poll() is not None:
            raise BootFailed(f"systemd-nspawn exited with {self.proc.returncode}:\n{self.console()}")
        return next((pid for pid, name in children(self.proc.pid).items() if name == "systemd"), None)

    @staticmethod
    def _wait(probe, deadline, what):
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            time.sleep(0.2)
        raise BootFailed(f"timed out waiting for {what}")

    def console(self, lines=40):
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def run(self, *argv, check=True, timeout=600, env=None):
        """``argv`` inside the container as root, in a clean environment (nothing of this machine's)."""
        variables = {"PATH": PATH, "LANG": "C.UTF-8", "HOME": "/root", **(env or {})}
        command = ["nsenter", "--target", str(self.leader), "--all", "--", "/usr/bin/env", "-i",
                   *(f"{k}={v}" for k, v in variables.items()), *argv]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
        return result

    def poweroff(self, timeout=90):
        """A clean shutdown (systemctl poweroff), as a power button would; killed if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.run("systemctl", "poweroff", check=False, timeout=30)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the container did not power off within {timeout} s:\n{self.console()}")
        self.proc = self.leader = None

    def kill(self):
        """Pull the plug: SIGKILL to the container's PID 1 ends its whole PID namespace, then nspawn."""
        if self.proc is not None and self.proc.poll() is None:
            if self.leader:
                try:
                    os.kill(self.leader, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(30)
        self.proc = self.leader = None


class BootFailed(Exception):
    """The container did not boot."""


@contextmanager
def booted(work, name):
    """A fresh container holding this checkout (SRC) and the wheelhouse (WHEELS), booted; ``None``
    and the reason when this host cannot boot one. Powered off and deleted afterwards."""
    reason = why_not()
    if reason:
        yield None, reason
        return
    with locked("motcua-machine"):
        base = ensure_rootfs(work / "debootstrap.log")
        wheels = ensure_wheelhouse(work / "wheelhouse.log")
        root = MACHINES / name
        shutil.rmtree(root, ignore_errors=True)
        MACHINES.mkdir(parents=True, exist_ok=True)
        machine = Machine.create(base, root, name, work / "console.log")
        try:
            copy_source(root / SRC.lstrip("/"))
            shutil.copytree(wheels, root / WHEELS.lstrip("/"))
            try:
                machine.boot()
            except BootFailed as exc:
                yield None, f"this host cannot boot a systemd-nspawn container: {exc}"
                return
            complete_wheelhouse(machine, wheels, work / "wheelhouse.log")
            yield machine, None
        finally:
            machine.kill()
            shutil.rmtree(root, ignore_errors=True)


def complete_wheelhouse(machine, wheels, log, rounds=10):
    """Add the wheels the container's Python needs beyond this machine's: requirement markers differ
    between Python versions (redis wants async-timeout below 3.11.3, and Debian 12 has 3.11.2).
    pip inside resolves against the wheelhouse; what it misses is fetched here (pure-Python wheels)."""
    resolved = wheels / ".resolved-in-container"  # (the cached root file system never changes)
    if resolved.exists():
        return
    for _ in range(rounds):
        probe = machine.run("python3", "-m", "pip", "install", "--dry-run", "--break-system-packages",
                            "--ignore-installed", "--quiet", "--no-index", "--find-links", WHEELS, f"{SRC}[hub]",
                            check=False, timeout=600)
        if probe.returncode == 0:
            resolved.write_text("pip in the container resolved everything from this wheelhouse\n")
            return
        missing = re.findall(r"No matching distribution found for (\S+)", probe.stderr)
        if not missing:
            raise AssertionError(f"pip in the container cannot resolve the wheelhouse:\n{probe.stderr[-3000:]}")
        with locked("motcua-wheelhouse"), open(log, "ab") as out:
            subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
                            "--no-deps", "--only-binary=:all:", "--dest", str(wheels), *missing],
                           stdout=out, stderr=subprocess.STDOUT, check=True, timeout=600)
        shutil.copytree(wheels, machine.root / WHEELS.lstrip("/"), dirs_exist_ok=True)
    raise AssertionError(f"the wheelhouse is still incomplete after {rounds} rounds")

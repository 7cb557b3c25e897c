#!/usr/bin/env python3
"""Bootstrap the virtual environment and run the product or its tests.

    python3 dev.py demo [motcua demo options]   # hub + commune boxes with demo data
    python3 dev.py test [pytest options]        # the whole test suite

Only the standard library is used here: this runs on a machine with nothing but Python 3.
"""
import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("MOTCUA_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_venv():
    """Create .venv and install the project (with test tools) when pyproject.toml changed."""
    stamp = VENV / ".motcua-installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"Creating virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("Installing motcua and its dependencies ...", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-e", f"{ROOT}[test]"], check=True)
    stamp.write_text(wanted)


def main(argv):
    if not argv or argv[0] not in ("demo", "test"):
        print(__doc__)
        return 2
    ensure_venv()
    command, rest = argv[0], argv[1:]
    if command == "demo":
        args = [str(BIN / "motcua"), "demo", *rest]
    else:
        args = [str(BIN / "python"), "-m", "pytest", *rest]
    os.chdir(ROOT)
    if os.name == "posix":
        # Hand this process over to the command: a signal sent to dev.py (SIGINT, SIGTERM from a
        # supervisor or `kill`) reaches the demo itself, which stops every server it started.
        sys.stdout.flush()
        os.execv(args[0], args)
    try:
        return subprocess.call(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What a box or hub installs (a wheel: systemd/install.sh, or pip) holds every file the program uses.

The development venv is an editable install reading the checkout, so a file left out of the wheel
goes unnoticed there; a real install serves pages without it.
"""
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.systemd.machine import copy_source

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("motcua", "office", "edge", "sync", "central", "devices", "provisioning")
NOT_SHIPPED = {"devices/clips/README.md"}  # how the clips are made: for developers


def test_wheel_holds_every_static_file_and_template(tmp_path):
    """motcua/static (app.css, every page's style sheet at /assets/app.css; stats.js) was missing from
    the wheel: an installed box showed its kiosk, lobby and counters unstyled."""
    source = tmp_path / "source"  # a copy: pip builds in the source tree (build/, *.egg-info)
    copy_source(source)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
                            "--wheel-dir", str(tmp_path), str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = tmp_path.glob("motcua-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", *PACKAGES], capture_output=True, text=True,
                             check=True).stdout.split()
    missing = sorted(set(tracked) - shipped - NOT_SHIPPED)
    assert missing == [], f"not in the wheel: {missing}"

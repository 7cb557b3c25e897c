#!/usr/bin/env bash
# Install motcua for real on a Debian 12 system with systemd as PID 1 and check it works:
# tests/systemd/test_real_install.py (a box: no screen, no Internet, a hub outside it) and
# test_real_install_hub.py (a hub), each in a systemd-nspawn container booted from a debootstrap
# root file system. The whole test suite runs them too (CI); this runs only them, steps named.
#
#   sudo systemd/test-real-install.sh [pytest options]
#
# Needs root, systemd-nspawn (apt-get install systemd-container), debootstrap and a Debian mirror
# for the first run (MOTCUA_DEBIAN_MIRROR, default http://deb.debian.org/debian); the root file
# system and the wheels are then kept under /var/cache (motcua-rootfs, motcua-wheelhouse). About
# 8 minutes with them cached (box and hub). Without root or nspawn the test is skipped and says why.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${MOTCUA_VENV:-.venv}/bin/python"
[ -x "$PYTHON" ] || { python3 dev.py test --version >/dev/null; PYTHON=.venv/bin/python; }
exec env PYTHONPATH="$PWD" "$PYTHON" -m pytest tests/systemd/test_real_install.py tests/systemd/test_real_install_hub.py \
  -v -rs -p no:cacheprovider "$@"

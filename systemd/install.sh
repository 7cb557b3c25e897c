#!/usr/bin/env bash
# Install motcua as systemd services on Raspberry Pi OS / Debian 12 (bookworm).
#
#   sudo systemd/install.sh                      # a commune box, from this checkout
#   sudo systemd/install.sh dist/motcua-0.1.0-py3-none-any.whl
#   sudo systemd/install.sh --hub                # the central hub
#   systemd/install.sh --dry-run [--hub]         # print what would be done, change nothing
#
# Safe to run again (an upgrade is the same command): users, groups and directories are made only
# when missing, /etc/motcua/*.env is never overwritten, the package is reinstalled, unit files
# and udev rules are replaced by the ones next to this script.
#
# Options:
#   --hub         install the hub's units (motcua-hub-web, motcua-hub-worker) instead of the box's
#   --dry-run     print the actions without doing them (no root needed)
#   --no-apt      do not apt-get install the system packages (python3-venv, curl; cage, chromium,
#                 polkitd)
#   --now         also start (restart) the enabled units; default: they start at the next boot
#   --headless    a box without its own screen (the kiosk is a PC or tablet on the LAN showing
#                 http://BOX:8001/kiosk): no cage or Chromium, motcua-kiosk is not enabled
#   --wheelhouse DIR  install the package and its dependencies from the wheels in DIR only (no
#                 package index: a box without Internet; fill DIR with the box's Python
#                 version -- requirements differ between 3.11.2 and 3.11.7 -- e.g. on a box with
#                 Internet: `pip wheel --wheel-dir DIR .[hub] pip setuptools wheel`)
#   -h, --help    this text
#   SOURCE        a wheel (.whl) or a source directory to pip-install; default: this checkout
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PREFIX=/opt/motcua
VENV="$PREFIX/venv"
DATA_DIR=/var/lib/motcua
CONF_DIR=/etc/motcua
UNIT_DIR=/etc/systemd/system
UDEV_DIR=/etc/udev/rules.d
MODULES_DIR=/etc/modules-load.d
POLKIT_DIR=/etc/polkit-1/rules.d
USER_NAME=motcua
KIOSK_USER=motcua-kiosk

BOX_UNITS=(motcua-edge-web.service motcua-edge-worker.service motcua-devices.service motcua-kiosk.service)
BOX_TEMPLATES=(motcua-provision@.service)
# installed, not enabled: the lobby TV when it is the box's only screen (see the unit)
BOX_OPTIONAL=(motcua-lobby.service)
BOX_RULES=(99-motcua-usb.rules 99-motcua-printer.rules)
HUB_UNITS=(motcua-hub-web.service motcua-hub-worker.service)

ROLE=box
DRY_RUN=0
APT=1
START_NOW=0
HEADLESS=0
WHEELHOUSE=""
SOURCE=""

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --hub) ROLE=hub ;;
    --dry-run) DRY_RUN=1 ;;
    --no-apt) APT=0 ;;
    --now) START_NOW=1 ;;
    --headless) HEADLESS=1 ;;
    --wheelhouse)
      [ $# -ge 2 ] || { echo "install.sh: --wheelhouse needs a directory" >&2; exit 2; }
      WHEELHOUSE="$2"; shift ;;
    --wheelhouse=*) WHEELHOUSE="${1#--wheelhouse=}" ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) [ -z "$SOURCE" ] || { echo "install.sh: only one SOURCE" >&2; exit 2; }; SOURCE="$1" ;;
  esac
  shift
done
if [ -z "$SOURCE" ]; then
  SOURCE="$(dirname "$HERE")"
fi
case "$SOURCE" in
  *.whl) [ -f "$SOURCE" ] || { echo "install.sh: no wheel at $SOURCE" >&2; exit 2; } ;;
  *) [ -f "$SOURCE/pyproject.toml" ] || { echo "install.sh: $SOURCE is neither a wheel nor a source directory" >&2; exit 2; } ;;
esac
SOURCE="$(cd "$(dirname "$SOURCE")" && pwd)/$(basename "$SOURCE")"
PIP_FROM=()
if [ -n "$WHEELHOUSE" ]; then
  [ -d "$WHEELHOUSE" ] || { echo "install.sh: no wheelhouse directory at $WHEELHOUSE" >&2; exit 2; }
  WHEELHOUSE="$(cd "$WHEELHOUSE" && pwd)"
  PIP_FROM=(--no-index --find-links "$WHEELHOUSE")
fi

if [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo), or with --dry-run to see what it would do" >&2
  exit 1
fi

# --- helpers: every change goes through run() or put_file(), so --dry-run shows it all -------

note() { printf '%s\n' "$*"; }

run() {
  printf '+ %s\n' "$*"
  if [ "$DRY_RUN" -eq 0 ]; then
    "$@"
  fi
}

# put_file SRC DEST MODE: copy when missing or different, and say which.
put_file() {
  local src="$1" dest="$2" mode="$3"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    note "  unchanged: $dest"
  else
    run install -m "$mode" -o root -g root "$src" "$dest"
  fi
}

have_group() { getent group "$1" >/dev/null; }
have_user() { getent passwd "$1" >/dev/null; }

ensure_group() {
  if have_group "$1"; then
    note "  group $1 exists"
  else
    run groupadd --system "$1"
  fi
}

# ensure_user NAME HOME: a system user with its own group, no login shell, no home created.
ensure_user() {
  if have_user "$1"; then
    note "  user $1 exists"
  else
    run useradd --system --user-group --home-dir "$2" --no-create-home --shell /usr/sbin/nologin "$1"
  fi
}

# add_to_group USER GROUP: when the group exists (or is about to, in a dry run).
add_to_group() {
  if id -nG "$1" 2>/dev/null | tr ' ' '\n' | grep -qx "$2"; then
    note "  $1 is in group $2"
  else
    run usermod --append --groups "$2" "$1"
  fi
}

if [ "$ROLE" = box ]; then
  UNITS=("${BOX_UNITS[@]}")
  if [ "$HEADLESS" -eq 1 ]; then
    UNITS=(motcua-edge-web.service motcua-edge-worker.service motcua-devices.service)
  fi
  ENV_FILE="$CONF_DIR/edge.env"
  EXTRA=""
else
  UNITS=("${HUB_UNITS[@]}")
  ENV_FILE="$CONF_DIR/hub.env"
  EXTRA="[hub]"
fi

note "motcua install ($ROLE) from $SOURCE$([ "$DRY_RUN" -eq 1 ] && echo ' -- dry run, nothing is changed')"

# --- 1. system packages -----------------------------------------------------------------------
note "1. system packages"
PACKAGES=(python3 python3-venv python3-pip curl)
if [ "$ROLE" = box ]; then
  # polkitd: the technician console restarts services as user motcua (motcua-polkit.js)
  PACKAGES+=(polkitd)
  if [ "$HEADLESS" -eq 0 ]; then
    PACKAGES+=(cage chromium)
  fi
  # gpiozero's pin library on bookworm (the keypad); the box's venv sees it (step 4)
  if grep -qs "Raspberry Pi" /proc/device-tree/model; then
    PACKAGES+=(python3-lgpio)
  fi
fi
if [ "$APT" -eq 1 ]; then
  missing=()
  for pkg in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  else
    note "  installed: ${PACKAGES[*]}"
  fi
else
  note "  skipped (--no-apt); needed: ${PACKAGES[*]}"
fi

# --- 2. users and groups ----------------------------------------------------------------------
note "2. users and groups"
ensure_user "$USER_NAME" "$DATA_DIR"
if [ "$ROLE" = box ]; then
  # motcua-devices.service has SupplementaryGroups=gpio lp dialout: a missing group would stop it
  # from starting (216/GROUP), e.g. on a non-Raspberry Pi box without a gpio group.
  for group in gpio lp dialout; do
    ensure_group "$group"
    add_to_group "$USER_NAME" "$group"
  done
  # The kiosk's own user: Chromium never runs as the user owning the data.
  ensure_user "$KIOSK_USER" "/run/$KIOSK_USER"
  for group in video render input audio; do
    if have_group "$group"; then
      add_to_group "$KIOSK_USER" "$group"
    else
      note "  no group $group: $KIOSK_USER not added"
    fi
  done
fi

# --- 3. directories ---------------------------------------------------------------------------
note "3. directories"
run install -d -m 0755 -o root -g root "$PREFIX"
run install -d -m 0750 -o "$USER_NAME" -g "$USER_NAME" "$DATA_DIR"
run install -d -m 0750 -o root -g "$USER_NAME" "$CONF_DIR"
env_template() {
  echo "# motcua settings for the $ROLE's services: MOTCUA_<NAME>=value, one a line (README \"Settings\")."
  echo "# Read by the units (EnvironmentFile=); after a change: sudo systemctl restart 'motcua-*'"
  if [ "$ROLE" = box ]; then
    echo "#MOTCUA_PRINTER=file:/dev/motcua-printer"
    echo "#MOTCUA_KEYPAD_PINS=17,27,22"
    echo "#MOTCUA_HUB_URL=https://hub.example.gov.vn"
  else
    echo "#MOTCUA_DATABASE=postgresql://motcua@127.0.0.1/motcua"
    echo "#MOTCUA_REDIS_URL=redis://127.0.0.1:6379/0"
    echo "#MOTCUA_HOST=127.0.0.1"
  fi
}
if [ -e "$ENV_FILE" ]; then
  note "  kept: $ENV_FILE"
elif [ "$DRY_RUN" -eq 1 ]; then
  note "+ write $ENV_FILE (root:$USER_NAME 0640):"
  env_template | sed 's/^/    /'
else
  note "+ write $ENV_FILE (root:$USER_NAME 0640)"
  (umask 0027 && env_template >"$ENV_FILE")
  chown "root:$USER_NAME" "$ENV_FILE"
  chmod 0640 "$ENV_FILE"
fi

# --- 4. the package, in its own virtual environment -------------------------------------------
note "4. virtual environment $VENV"
if [ -x "$VENV/bin/python" ]; then
  note "  exists: $VENV"
elif [ "$ROLE" = box ]; then
  # As the Raspberry Pi documentation advises for GPIO: the venv also sees the system's
  # python3-lgpio (and what else apt installed); pip still installs our own requirements in it.
  run python3 -m venv --system-site-packages "$VENV"
else
  run python3 -m venv "$VENV"
fi
run "$VENV/bin/pip" install --disable-pip-version-check --quiet "${PIP_FROM[@]}" --upgrade pip
run "$VENV/bin/pip" install --disable-pip-version-check --quiet "${PIP_FROM[@]}" "$SOURCE$EXTRA"
# Same version number, new code (a checkout between releases): replace the package itself.
run "$VENV/bin/pip" install --disable-pip-version-check --quiet "${PIP_FROM[@]}" --no-deps --force-reinstall "$SOURCE"
if [ "$ROLE" = box ]; then
  # The box's services run <data_dir>/software/current/venv (the release in use, flipped by the
  # signed updates from the hub); installing by hand puts the program just installed in use.
  run install -d -m 0750 -o "$USER_NAME" -g "$USER_NAME" "$DATA_DIR/software"
  run ln -sfn "$PREFIX" "$DATA_DIR/software/current"
fi
if [ -f "$(dirname "$HERE")/README.md" ]; then
  put_file "$(dirname "$HERE")/README.md" "$PREFIX/README.md" 0644
fi

# --- 5. units, udev rules, modules -------------------------------------------------------------
note "5. systemd units and udev rules"
if [ "$ROLE" = box ]; then
  for unit in "${BOX_UNITS[@]}" "${BOX_TEMPLATES[@]}" "${BOX_OPTIONAL[@]}"; do
    put_file "$HERE/$unit" "$UNIT_DIR/$unit" 0644
  done
  for rules in "${BOX_RULES[@]}"; do
    put_file "$HERE/$rules" "$UDEV_DIR/$rules" 0644
  done
  put_file "$HERE/motcua-modules.conf" "$MODULES_DIR/motcua.conf" 0644
  if [ ! -d "$POLKIT_DIR" ]; then  # polkitd makes it (mode 0700, polkitd's): never change it
    run install -d -m 0755 "$POLKIT_DIR"
  fi
  put_file "$HERE/motcua-polkit.js" "$POLKIT_DIR/50-motcua.rules" 0644
else
  for unit in "${UNITS[@]}"; do
    put_file "$HERE/$unit" "$UNIT_DIR/$unit" 0644
  done
fi
run systemctl daemon-reload
run systemctl enable "${UNITS[@]}"
if [ "$HEADLESS" -eq 1 ] && systemctl is-enabled --quiet motcua-kiosk.service 2>/dev/null; then
  run systemctl disable motcua-kiosk.service
fi
if [ "$ROLE" = box ]; then
  run systemctl restart systemd-modules-load.service
  # udevd reads the new rules at once when it runs; when it does not (an SD card image built in a
  # chroot, a container), `udevadm control` fails: the rules apply when udev starts at boot.
  if [ "$DRY_RUN" -eq 1 ] || udevadm control --ping 2>/dev/null; then
    run udevadm control --reload-rules
    # apply the printer rule to a printer plugged in already
    run udevadm trigger --action=change --subsystem-match=usb --subsystem-match=usbmisc
  else
    note "  udev is not running here: the rules apply when it starts (next boot)"
  fi
fi
if [ "$START_NOW" -eq 1 ]; then
  run systemctl restart "${UNITS[@]}"
fi

# --- 6. what is left to do ----------------------------------------------------------------------
note "Done. Units enabled: ${UNITS[*]}"
if [ "$ROLE" = box ]; then
  note "  USB provisioning: motcua-provision@.service, started by $UDEV_DIR/99-motcua-usb.rules"
  note "  Printer: /dev/motcua-printer ($UDEV_DIR/99-motcua-printer.rules)"
  note "  Lobby TV as this box's only screen: sudo systemctl enable --now motcua-lobby.service"
  if [ "$HEADLESS" -eq 0 ] && { [ "$(systemctl get-default 2>/dev/null || true)" = graphical.target ] \
     || systemctl is-enabled --quiet display-manager.service 2>/dev/null; }; then
    note "  WARNING: a desktop starts at boot and takes the screen from the kiosk (cage on tty1)."
    note "           Boot to the console instead: sudo systemctl set-default multi-user.target"
    note "           (or raspi-config > System Options > Boot / Auto Login > Console)."
  fi
  note "Next: set the box up (motcua edge provision from a USB stick, or"
  note "  sudo -u $USER_NAME MOTCUA_DATA_DIR=$DATA_DIR $VENV/bin/motcua edge init --commune-code CODE),"
  note "  settings in $ENV_FILE, then reboot or: sudo systemctl start ${UNITS[*]}"
else
  note "Next: settings in $ENV_FILE (database, operator password), then: sudo systemctl start ${UNITS[*]}"
fi

"""Install a downloaded release into its own virtual environment, beside the running one.

``python -m venv --without-pip`` makes ``<release>/venv``; the running version's pip installs the
release's wheels into it (``pip --python <new venv>``) with ``--no-index --find-links``: nothing is
fetched from the internet. With ``update_shared_packages`` on (the default) the new environment
also sees the running one's site-packages (a ``.pth`` file), so a release needs to carry only the
wheels that changed (motcua's own, and a dependency whose version it raises); the new
environment's own packages come first. The ``installed`` marker is written last: a venv without
it is half made and made again.
"""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from office.errors import MotcuaError

from .state import write_json

INSTALL_TIMEOUT_S = 900


def venv_python(venv):
    return Path(venv) / "bin" / "python"


def installed(release):
    return (Path(release) / "installed").is_file() and venv_python(Path(release) / "venv").exists()


def shared_site_packages():
    """The running environment's package directories, in import order (for the new one's .pth)."""
    own = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    dirs = [p for p in sys.path if p and (p in own or p.endswith(("site-packages", "dist-packages")))]
    # Resolved: a path through the ``current`` link would follow the link to the new release itself.
    return list(dict.fromkeys(os.path.realpath(p) for p in dirs))


def install_release(release, version, shared=True, log=None):
    """Make ``<release>/venv`` from ``<release>/wheels``; returns the venv's path."""
    release = Path(release)
    venv, wheels = release / "venv", release / "wheels"
    if installed(release):
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    (release / "installed").unlink(missing_ok=True)
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], log)
    if shared:
        purelib = _purelib(venv)
        (purelib / "motcua-shared.pth").write_text("\n".join(shared_site_packages()) + "\n")
    files = sorted(str(w) for w in wheels.glob("*.whl"))
    _run([sys.executable, "-m", "pip", "--python", str(venv_python(venv)), "install", "--no-index",
          "--find-links", str(wheels), "--no-cache-dir", "--disable-pip-version-check", "--no-input", *files,
          f"motcua=={version}"], log)
    probe = _run([str(venv_python(venv)), "-c", "import importlib.metadata as m; print(m.version('motcua'))"],
                 log, cwd=release)
    if probe.strip() != version:
        raise MotcuaError(f"Môi trường mới chạy motcua {probe.strip()}, không phải {version}.")
    write_json(release / "installed", {"version": version})
    return venv


def _purelib(venv):
    found = list((Path(venv) / "lib").glob("python3*/site-packages"))
    if not found:
        raise MotcuaError(f"Không thấy site-packages trong {venv}.")
    return found[0]


def _run(argv, log=None, cwd=None):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PIP_INDEX_URL")}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, env=env, cwd=cwd)
    except subprocess.TimeoutExpired as exc:
        raise MotcuaError(f"Cài đặt quá lâu: {' '.join(argv[:4])}") from exc
    if log:
        log.info("%s -> %s\n%s", " ".join(argv[:6]), done.returncode, (done.stdout + done.stderr)[-2000:])
    if done.returncode:
        raise MotcuaError(f"Cài đặt thất bại ({done.returncode}): {(done.stderr or done.stdout).strip()[-400:]}")
    return done.stdout

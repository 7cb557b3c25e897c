"""A small process supervisor for a box under test, standing in for systemd.

``python supervisor.py PREFIX DATA_DIR``: runs ``PREFIX/current/venv/bin/motcua edge serve`` and
``... edge worker`` (the link resolved anew at every start), restarts both on SIGHUP (what
``update_restart_command`` sends), stops them on SIGTERM. Writes its pid to DATA_DIR/supervisor.pid.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

UNITS = (("web", ("edge", "serve")), ("worker", ("edge", "worker")))


def main(prefix, data_dir):
    prefix, data_dir = Path(prefix), Path(data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "MOTCUA_"))}
    env.update(MOTCUA_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1")
    log = open(data_dir / "supervisor.log", "ab")
    children, wanted = {}, {"restart": False, "stop": False}

    def start():
        for name, args in UNITS:
            motcua = prefix / "current" / "venv" / "bin" / "motcua"
            log.write(f"{time.time():.0f} start {name} from {os.path.realpath(motcua)}\n".encode())
            log.flush()
            children[name] = subprocess.Popen([str(motcua), *args], cwd=data_dir, env=env, stdout=log, stderr=log,
                                              start_new_session=True)

    def stop():
        for proc in children.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in children.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        children.clear()

    signal.signal(signal.SIGHUP, lambda *_: wanted.update(restart=True))
    signal.signal(signal.SIGTERM, lambda *_: wanted.update(stop=True))
    (data_dir / "supervisor.pid").write_text(str(os.getpid()))
    start()
    while not wanted["stop"]:
        if wanted["restart"]:
            wanted["restart"] = False
            log.write(b"restart\n")
            stop()
            start()
        for name, args in UNITS:  # Restart=always
            if children.get(name) and children[name].poll() is not None and not wanted["stop"]:
                time.sleep(0.5)
                motcua = prefix / "current" / "venv" / "bin" / "motcua"
                children[name] = subprocess.Popen([str(motcua), *args], cwd=data_dir, env=env, stdout=log,
                                                  stderr=log, start_new_session=True)
        time.sleep(0.1)
    stop()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""Run a WSGI app under gunicorn (threads, so lobby displays polling do not starve counters).

Whatever must exist once per data dir (tables, the node row, keys, secret files) is made by
``prepare`` in the master process before any worker forks: several workers racing to make
them on a fresh data dir made the server fail to start. With ``tls_cert`` and ``tls_key``
set, the server speaks HTTPS itself.
"""
import gc
import os
import sys
import traceback
from pathlib import Path

from gunicorn.app.base import BaseApplication

from office.errors import MotcuaError

from .cpus import gunicorn_hooks


class _Server(BaseApplication):
    def __init__(self, factory, options):
        self.factory = factory
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            if key in self.cfg.settings:  # newer gunicorn settings are skipped on older ones
                self.cfg.set(key, value)

    def load(self):
        app = self.factory()
        # What the app loaded lives as long as the worker: the collector's full passes skip it from
        # now on (on the box, 75,000 objects: a 26 ms pause of every thread every ~2,000 tickets).
        # The garbage of loading goes first, or it would be kept for good.
        gc.collect()
        gc.freeze()
        return app


def tls_options(settings):
    """gunicorn's ``certfile``/``keyfile`` from the ``tls_cert``/``tls_key`` settings ({} without)."""
    cert, key = settings.get("tls_cert", ""), settings.get("tls_key", "")
    if not cert and not key:
        return {}
    if not (cert and key):
        raise MotcuaError("Để phục vụ HTTPS cần đặt cả tls_cert (chứng chỉ) và tls_key (khoá riêng của chứng chỉ).")
    for name, path in (("tls_cert", cert), ("tls_key", key)):
        if not Path(path).is_file():
            raise MotcuaError(f"Không tìm thấy tệp {name} “{path}”.")
    return {"certfile": str(Path(cert).resolve()), "keyfile": str(Path(key).resolve())}


def serve(factory, settings, prepare=None):
    """Serve ``factory()`` on the settings' host and port until SIGINT/SIGTERM; ``prepare()``
    runs once first, in this process, before the workers start."""
    options = {
        "bind": f"{settings['host']}:{settings['port']}",
        "workers": settings["web_workers"],
        "threads": settings["web_threads"],
        "worker_class": "gthread",
        "timeout": 60,
        "graceful_timeout": 5,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": settings["log_level"].lower(),
        "proc_name": "motcua",
        "control_socket_disable": True,  # several servers run side by side on one machine
        **tls_options(settings),
        **gunicorn_hooks(settings),
    }
    if prepare is not None:
        prepare()
    _Server(factory, options).run()


def in_child_process(fn):
    """Run ``fn()`` in a forked child and wait for it: what it imports (Flask, the models, the
    database check) never stays in the server's master process, which only forks workers that
    import their own (about 20 MB less on a box). A ``MotcuaError`` is raised again here with its
    message; any other failure ends the command after the child printed its traceback."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_end)
        code = 0
        try:
            fn()
        except MotcuaError as exc:
            os.write(write_end, exc.message.encode())
            code = 2
        except BaseException:  # noqa: BLE001  the child must never return into the caller's code
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        message = pipe.read().decode()
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    if code == 2 and message:
        raise MotcuaError(message)
    if code != 0:
        raise SystemExit(code if code > 0 else 1)

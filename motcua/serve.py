"""Run a WSGI app under gunicorn (threads, so lobby displays polling do not starve counters)."""
from gunicorn.app.base import BaseApplication


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
        return self.factory()


def serve(factory, settings):
    """Serve ``factory()`` on the settings' host and port until SIGINT/SIGTERM."""
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
    }
    _Server(factory, options).run()

"""What the box's long-running processes load: the web app and the worker stay off the libraries
only some requests or only the hub use (openpyxl and Pillow for Excel exports, escpos for the
printer until something prints, the Redis client and the PostgreSQL driver)."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["openpyxl", "PIL", "escpos", "redis", "psycopg2"]

SCRIPT = """
import json, sys
from edge.cli import leave_out_unused_clients
from motcua.settings import load_settings

settings = load_settings("edge", overrides={"data_dir": sys.argv[1], "commune_code": "05518"}, environ={})
leave_out_unused_clients(settings)  # what `motcua edge serve` and `motcua edge worker` do first
from edge.app import create_app
app = create_app(settings)
import edge.worker  # noqa: F401
assert app.test_client().get("/api/v1/health").status_code == 200
print(json.dumps(sorted(name for name in %r if sys.modules.get(name) is not None)))
""" % (HEAVY,)


def test_box_web_and_worker_start_without_heavy_or_hub_only_libraries(tmp_path):
    result = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "box")], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []

"""The box's web and worker run with two malloc arenas: glibc gives each thread that allocates an
arena of its own and keeps what is freed in it, so the web (nine threads) and the worker held about
5 MB more after a busy spell (issue 15: box web + worker under 120 MB)."""
import subprocess
import sys

import pytest

# Eight threads allocate through malloc (bytes objects larger than pymalloc's 512), then glibc's
# malloc_info counts the heaps: the main arena and one per thread that got its own.
HEAPS = """
import ctypes, sys, tempfile, threading
from edge.memory import fewer_malloc_arenas
if sys.argv[1] == "few":
    assert fewer_malloc_arenas()
held, barrier = [], threading.Barrier(8)
def work():
    held.append([bytes(4096) for _ in range(100)])
    barrier.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile("r") as out:
    stream = ctypes.c_void_p(libc.fopen(out.name.encode(), b"w"))
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    print(out.read().count("<heap nr="))
"""


def heaps(mode):
    return int(subprocess.run([sys.executable, "-c", HEAPS, mode], capture_output=True, text=True, check=True,
                              timeout=60).stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_threads_of_a_box_process_share_two_malloc_arenas():
    assert heaps("many") > 2  # what the threads do without the limit (the test can fail)
    assert heaps("few") <= 2


@pytest.mark.parametrize("command, runs", [("worker", "edge.worker.run_worker"),
                                           ("devices", "devices.service.run_service")])
def test_the_box_commands_set_the_limit_before_their_threads_start(monkeypatch, command, runs):
    """The worker prints; so does the device service where a box has one (``device_url``)."""
    import edge.cli
    import edge.devices_cli

    calls = []
    for module in (edge.cli, edge.devices_cli):
        monkeypatch.setattr(module, "fewer_malloc_arenas", lambda: calls.append("arenas"))
    monkeypatch.setattr(edge.cli, "leave_out_unused_clients", lambda settings: None)
    monkeypatch.setattr(runs, lambda settings: calls.append(command))
    from click.testing import CliRunner

    result = CliRunner().invoke(edge.cli.edge, [command], catch_exceptions=False)
    assert calls == ["arenas", command], result.output

"""Build the project's wheel in a test, offline, at any version, optionally changed on purpose.

``pip wheel`` cannot build this project offline here (its build backend needs setuptools >= 68
and the ``wheel`` package from an index), so the wheel is written as the format says (PEP 427):
the packages' files, ``*.dist-info`` with METADATA (the project's dependencies as Requires-Dist),
WHEEL, entry_points.txt and RECORD. pip installs it like any other.
"""
import base64
import hashlib
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# the packages the project's own build takes (a list kept by hand here missed a new one: every box
# of a release built in a test then failed at the first import of it)
PACKAGES = tuple(name.rstrip("*") for name in tomllib.loads((ROOT / "pyproject.toml").read_text())
                 ["tool"]["setuptools"]["packages"]["find"]["include"])


def build_wheel(out_dir, version, patches=None, root=ROOT):
    """Write ``motcua-<version>-py3-none-any.whl`` into ``out_dir``; ``patches`` maps a file's path
    (e.g. "edge/api.py") to ``(old, new)`` text replaced in the wheel's copy. Returns its path."""
    patches = dict(patches or {})
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"motcua-{version}-py3-none-any.whl"
    info = f"motcua-{version}.dist-info"
    records = []
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        def add(name, data):
            archive.writestr(name, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            records.append(f"{name},sha256={digest},{len(data)}")

        for package in PACKAGES:
            for path in sorted((root / package).rglob("*")):
                if path.is_dir() or "__pycache__" in path.parts or path.suffix == ".pyc":
                    continue
                name = path.relative_to(root).as_posix()
                data = path.read_bytes()
                if name in patches:
                    old, new = patches.pop(name)
                    assert old.encode() in data, f"{name}: {old!r} not found"
                    data = data.replace(old.encode(), new.encode())
                add(name, data)
        assert not patches, f"files not found: {sorted(patches)}"
        metadata = ["Metadata-Version: 2.1", "Name: motcua", f"Version: {version}",
                    f"Summary: {project['description']}", f"Requires-Python: {project['requires-python']}"]
        metadata += [f"Requires-Dist: {dep}" for dep in project["dependencies"]]
        add(f"{info}/METADATA", ("\n".join(metadata) + "\n").encode())
        add(f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: motcua-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        add(f"{info}/entry_points.txt", b"[console_scripts]\nmotcua = motcua.cli:main\n")
        add(f"{info}/top_level.txt", ("\n".join(PACKAGES) + "\n").encode())
        records.append(f"{info}/RECORD,,")
        archive.writestr(f"{info}/RECORD", "\n".join(records) + "\n")
    return wheel

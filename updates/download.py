"""Download a release's files from the hub: resumable (HTTP Range), each checked against the
signed manifest, each written whole or not at all.

A file arrives as ``<name>.part``; an interrupted download resumes from the part's size. A file
is renamed to its name only once its size and sha256 are the manifest's: a tampered or cut file
is deleted and the release refused, and nothing of it is ever installed.
"""
import os
from pathlib import Path

from .manifest import ManifestRefused, file_sha256
from .state import sync_dir

CHUNK = 256 * 1024


def download_release(session, base_url, manifest, wheels_dir, timeout=60.0, stats=None):
    """Fetch every file of ``manifest`` not yet in ``wheels_dir``; ``stats`` (a dict) counts bytes."""
    wheels_dir = Path(wheels_dir)
    wheels_dir.mkdir(parents=True, exist_ok=True)
    stats = stats if stats is not None else {}
    for item in manifest["files"]:
        target = wheels_dir / item["name"]
        if target.is_file() and target.stat().st_size == item["size"] and file_sha256(target) == item["sha256"]:
            continue
        url = f"{base_url.rstrip('/')}/sync/v1/releases/{manifest['version']}/{item['name']}"
        fetch_file(session, url, target, item["size"], item["sha256"], timeout, stats)
    return stats


def fetch_file(session, url, target, size, sha256, timeout, stats):
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    if have < size:
        headers = {"Range": f"bytes={have}-"} if have else {}
        with session.get(url, headers=headers, stream=True, timeout=timeout) as response:
            if response.status_code == 200:
                have, mode = 0, "wb"  # the server ignored the range: start again
            elif response.status_code == 206 and have:
                mode = "ab"
            else:
                response.raise_for_status()
                raise OSError(f"trung tâm trả lời {response.status_code} cho {target.name}")
            stats["resumed_from"] = stats.get("resumed_from", 0) + (have if mode == "ab" else 0)
            with open(part, mode) as out:
                for block in response.iter_content(CHUNK):
                    if have + len(block) > size:
                        break  # more than the manifest says: refused below
                    out.write(block)
                    have += len(block)
                    stats["bytes"] = stats.get("bytes", 0) + len(block)
                out.flush()
                os.fsync(out.fileno())
    if part.stat().st_size != size:
        if part.stat().st_size > size:
            part.unlink()
            raise ManifestRefused(f"Tệp {target.name} lớn hơn bản kê đã ký: bị từ chối.")
        raise OSError(f"tải {target.name} chưa xong ({part.stat().st_size}/{size} byte); sẽ tải tiếp")
    if file_sha256(part) != sha256:
        part.unlink()
        raise ManifestRefused(f"Tệp {target.name} không khớp mã băm trong bản kê đã ký (có thể bị sửa): bị từ chối.")
    os.replace(part, target)
    sync_dir(target.parent)


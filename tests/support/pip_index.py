"""A wheel built in the test and a loopback find-links index, so pip runs for real offline."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import threading
import zipfile
from pathlib import Path

BLOB = 1_200_000  # > 512 kB: pip only shows download progress for bigger files


def build_wheel(
    folder: Path,
    name: str = "wbtiny",
    version: str = "1.0",
    data_name: str = "blob.bin",
    blob: bytes | None = None,
) -> tuple[Path, bytes]:
    """A valid pure-python wheel holding a data file (1.2 MB of noise unless ``blob``)."""
    blob = os.urandom(BLOB) if blob is None else blob
    files = {
        f"{name}/__init__.py": b"VALUE = 42\n",
        f"{name}/{data_name}": blob,
        f"{name}-{version}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        ).encode(),
        f"{name}-{version}.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record_path = f"{name}-{version}.dist-info/RECORD"
    record.append(f"{record_path},,")
    files[record_path] = ("\n".join(record) + "\n").encode()
    wheel = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for path, data in files.items():
            zf.writestr(path, data)
    return wheel, blob


class LoopbackIndex:
    """A find-links index over HTTP on 127.0.0.1 (``stall``: hold each file halfway until
    ``release`` is set)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.release = threading.Event()
        self.release.set()
        self.stall = threading.Event()  # set: stop sending halfway until ``release``
        index = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: object, **kwargs: object) -> None:
                super().__init__(*args, directory=str(index.folder), **kwargs)  # type: ignore[arg-type]

            def log_message(self, *args: object) -> None:
                pass

            def copyfile(self, source, outputfile):  # type: ignore[no-untyped-def]
                sent, half, held = 0, BLOB // 2, False
                if hasattr(source, "name"):  # a file (the listing page is in memory)
                    half = os.fstat(source.fileno()).st_size // 2
                while block := source.read(64 * 1024):
                    outputfile.write(block)
                    outputfile.flush()
                    sent += len(block)
                    if index.stall.is_set() and sent > half and not held:
                        # Hold the rest until released, then send it. A response cut short
                        # here would make pip retry, and while ``stall`` stays set every
                        # retry would be cut again (pip gives up after six).
                        held = True
                        index.release.wait(60)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

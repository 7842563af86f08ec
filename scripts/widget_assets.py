"""Puts the chat widget's files into webchat/public/ when they are missing.

`make install` does this with npm (Makefile); an image built from a fresh clone,
with no npm, gets the same files here: widget.js and widget.css from webchat/src/,
socket.io.min.js from the socket.io-client package that webchat/package-lock.json
pins, checked against the lock file's sha512. Only at build time, never at run time.

    python -m scripts.widget_assets webchat
"""

import base64
import hashlib
import io
import json
import shutil
import sys
import tarfile
import urllib.request
from pathlib import Path

REGISTRY = "https://registry.npmjs.org"


def socketio_client(webchat: Path) -> bytes:
    package = json.loads((webchat / "package-lock.json").read_text())["packages"]["node_modules/socket.io-client"]
    version = package["version"]
    url = package.get("resolved") or f"{REGISTRY}/socket.io-client/-/socket.io-client-{version}.tgz"
    with urllib.request.urlopen(url, timeout=60) as response:
        tarball = response.read()
    algorithm, expected = package["integrity"].split("-", 1)
    if base64.b64encode(hashlib.new(algorithm, tarball).digest()).decode() != expected:
        raise SystemExit(f"{url}: does not match the integrity in package-lock.json")
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        return archive.extractfile("package/dist/socket.io.min.js").read()


def main(webchat: Path) -> None:
    public = webchat / "public"
    for name in ("widget.js", "widget.css"):
        if not (public / name).exists():
            shutil.copy(webchat / "src" / name, public / name)
    if not (public / "socket.io.min.js").exists():
        (public / "socket.io.min.js").write_bytes(socketio_client(webchat))


if __name__ == "__main__":
    main(Path(sys.argv[1]))

"""`make vendor`: fetch the console's pinned browser assets from the npm registry and check them.

The files under console/static/vendor/ are committed; manifest.json beside them names, for each
one, the npm package and version it comes from, the tarball's integrity (as npm reports it), the
path inside the tarball and the file's sha256. This script re-downloads those exact tarballs with
`npm pack`, checks both hashes, and (with --write) puts the files in place. Without --write it only
checks that the committed files are exactly what the registry serves. The console serves these
files itself: no page loads anything from the internet.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
MANIFEST = VENDOR_DIR / "manifest.json"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_manifest() -> list[dict]:
    return json.loads(MANIFEST.read_text())["packages"]


def committed_mismatches() -> list[str]:
    """Vendored files whose bytes are not the ones the manifest pins (no network)."""
    problems = []
    for package in load_manifest():
        for name, entry in package["files"].items():
            path = VENDOR_DIR / name
            if not path.exists():
                problems.append(f"{name}: missing")
            elif sha256(path.read_bytes()) != entry["sha256"]:
                problems.append(f"{name}: sha256 differs from the manifest")
    return problems


def fetch(package: dict, workdir: Path) -> dict[str, bytes]:
    """Download one pinned tarball with npm pack and return its pinned files, hashes checked."""
    spec = f"{package['name']}@{package['version']}"
    result = subprocess.run(
        ["npm", "pack", "--json", "--pack-destination", str(workdir), spec],
        check=True, capture_output=True, text=True,
    )
    packed = json.loads(result.stdout)[0]
    if packed["integrity"] != package["integrity"]:
        raise SystemExit(f"{spec}: tarball integrity {packed['integrity']} is not the pinned {package['integrity']}")
    files = {}
    with tarfile.open(workdir / packed["filename"]) as tarball:
        for name, entry in package["files"].items():
            member = tarball.extractfile(entry["from"])
            if member is None:
                raise SystemExit(f"{spec}: {entry['from']} is not in the tarball")
            data = member.read()
            if sha256(data) != entry["sha256"]:
                raise SystemExit(f"{spec}: {entry['from']} has sha256 {sha256(data)}, pinned {entry['sha256']}")
            files[name] = data
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write the fetched files into console/static/vendor/")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        for package in load_manifest():
            for name, data in fetch(package, Path(tmp)).items():
                path = VENDOR_DIR / name
                if args.write:
                    path.write_bytes(data)
                    print(f"wrote {path.relative_to(VENDOR_DIR.parent.parent.parent)} ({package['name']}@{package['version']})")
                elif not path.exists() or path.read_bytes() != data:
                    raise SystemExit(f"{name}: the committed file differs from {package['name']}@{package['version']}")
                else:
                    print(f"ok {name} = {package['name']}@{package['version']}")
    problems = committed_mismatches()
    if problems:
        raise SystemExit("; ".join(problems))


if __name__ == "__main__":
    sys.exit(main())

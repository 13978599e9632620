"""Secrets that are never in the repo: taken from the environment, or generated once into var/secrets/."""

from __future__ import annotations

import os
import secrets as _random
import tempfile
from pathlib import Path

from pydantic import SecretStr


def read_or_create(directory: Path, name: str, configured: SecretStr | None = None) -> tuple[str, bool]:
    """Return (secret, created_now): the configured value, else the file's, else a new random one.

    The file is published atomically with mode 0600 and never rewritten, so every process on the
    machine, and every restart, sees the same value.
    """
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value(), False
    path = directory / name
    if path.exists():
        return path.read_text().strip(), False
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = _random.token_urlsafe(32)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(value + "\n")
        os.link(tmp, path)  # fails if another process published first
    except FileExistsError:
        return path.read_text().strip(), False
    finally:
        os.unlink(tmp)
    return value, True


def main(argv: list[str] | None = None) -> None:
    """`python -m common.secrets NAME...`: make sure each named secret exists under var/secrets/."""
    import sys

    from common.config import get_settings

    names = argv if argv is not None else sys.argv[1:]
    directory = get_settings().secrets_dir
    for name in names:
        _, created = read_or_create(directory, name)
        print(f"{'created' if created else 'kept'} {directory / name}")


if __name__ == "__main__":
    main()

"""Reading input files safely: text that is not UTF-8, folders given for files, and names used in paths.

Every reader of a user's file (scenario, sweep, funding and observed files) goes through these, so a
binary file, a folder or a byte-order mark gets one clear message naming the file, never a traceback.
"""

from __future__ import annotations

import hashlib
import tomllib
from pathlib import Path
from typing import Any


def read_toml_text(path: Path, what: str = "scenario file") -> tuple[dict | None, str | None]:
    """(document, None) or (None, problem) for a TOML file: missing, a folder, not UTF-8 text, not TOML.

    A UTF-8 byte-order mark (as some Windows editors write) is accepted and ignored.
    """
    if path.is_dir():
        return None, f"{path}: is a folder, not a {what}"
    if not path.is_file():
        return None, f"{path}: file not found"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"{path}: cannot be read: {exc.strerror or exc}"
    raw = raw.removeprefix(b"\xef\xbb\xbf")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = f"byte {exc.object[exc.start]:#04x} at offset {exc.start}"
        return None, f"{path}: not a text (UTF-8 TOML) file: {byte} is not UTF-8"
    try:
        return tomllib.loads(text), None
    except tomllib.TOMLDecodeError as exc:
        return None, f"{path}: not valid TOML: {exc}"


def check_name(value: Any, where: str) -> list[str]:
    """A problem if a name from a file (used in folder names) is empty, a path, or has control codes."""
    if not isinstance(value, str):
        return []
    if (
        not value.strip()
        or "/" in value
        or "\\" in value
        or ".." in value
        or value.startswith(".")
        or any(ord(c) < 32 or ord(c) == 127 for c in value)
    ):
        return [
            f"{where}: {value!r} must be a plain name (letters, digits, spaces, '-', '_', '.'), "
            "not empty, not a path, with no '..' and not starting with '.'"
        ]
    return []


def bad_path_text(value: Any) -> str | None:
    """Why a file name read from a file cannot name a file (a control character such as NUL), or None."""
    if isinstance(value, str):
        bad = next((c for c in value if ord(c) < 32 or ord(c) == 127), None)
        if bad is not None:
            return f"{value!r} contains the control character {bad!r}; not a usable file name"
    return None


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes (for manifests: which inputs a result was made from)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

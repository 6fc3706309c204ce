"""`--schemas DIR` as an overlay: the bundled schemas/, each file replaced by DIR's file of the same name.

A data engineer keeps only the files they change (one source spec, `pipeline.yaml`) and gets
every other file from the installed package, so an upgrade of crm-etl brings its new defaults
along. The merged folder is built of symbolic links (an edit of DIR's file is seen by the next
load) in the temporary folder, one per distinct set of files, and loaded like any schemas folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from crm_etl.schemas.config import SCHEMAS_DIR, ConfigError

OVERLAYS = Path(tempfile.gettempdir()) / "crm-etl-schemas"


def schema_files(root: Path) -> dict[str, Path]:
    """Every configuration file under a folder, by its path relative to the folder."""
    return {
        p.relative_to(root).as_posix(): p.resolve()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".py"
    }


def overlay_schemas(directory: Path | None, bundled: Path = SCHEMAS_DIR) -> Path:
    """The folder to load for `--schemas directory`: `bundled` with `directory`'s files over it."""
    if directory is None:
        return bundled
    directory = directory.resolve()
    if not directory.is_dir():
        raise ConfigError(f"{directory}: configuration folder not found")
    if directory == bundled.resolve() or OVERLAYS in directory.parents:
        return directory
    files = {**schema_files(bundled), **schema_files(directory)}
    key = hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest()[:16]
    merged = OVERLAYS / key
    if merged.is_dir():
        return merged
    OVERLAYS.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=OVERLAYS))
    for name, target in files.items():
        link = building / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
    try:
        os.rename(building, merged)
    except OSError:  # another process built the same overlay first: theirs is as good
        shutil.rmtree(building, ignore_errors=True)
    return merged


def original_paths(message: str, merged: Path) -> str:
    """A message about the merged folder, naming the files the person wrote (DIR's or the bundled ones)."""
    if OVERLAYS not in merged.parents:
        return message
    links = sorted((p for p in merged.rglob("*") if p.is_symlink()), key=lambda p: -len(str(p)))
    for link in links:
        with contextlib.suppress(OSError):
            message = message.replace(str(link), str(link.resolve()))
    return message


__all__ = ["OVERLAYS", "original_paths", "overlay_schemas", "schema_files"]

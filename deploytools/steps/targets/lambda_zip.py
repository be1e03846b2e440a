"""Deterministic Lambda zip packages: same files in, byte-identical zip out.

Entries are sorted, stamped 1980-01-01 (the zip epoch) and given fixed permissions, so the
CodeSha256 changes only when a packaged file does and re-deploying unchanged code is a no-op.
Which files go in is deploytools.lib.zip_selection's business.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from deploytools.errors import BadInput
from deploytools.lib.zip_selection import UNZIPPED_LIMIT, PackageFile, human_size, select_files
from deploytools.output import Reporter

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024  # zipped bytes Lambda accepts in the API call itself
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ZipPackage:
    path: Path
    code_sha256: str  # base64 of the zip's SHA-256: Lambda's CodeSha256 format
    zipped_size: int
    unzipped_size: int
    file_count: int

    @property
    def summary(self) -> str:
        return (
            f"{self.file_count} files, {human_size(self.unzipped_size)} unzipped, "
            f"{human_size(self.zipped_size)} zipped"
        )


def build_zip(
    source: Path, *, out: Path, excludes: Iterable[str] = (), reporter: Reporter | None = None
) -> ZipPackage:
    """Write the zip of `source` to `out` and return its hash and sizes (and report them)."""
    files = select_files(source, excludes)
    if not files:
        raise BadInput(f"{source}: nothing to package (every file is excluded)")
    unzipped = sum(f.size for f in files)
    if unzipped > UNZIPPED_LIMIT:
        raise BadInput(
            f"{source}: the package is {human_size(unzipped)} unzipped; Lambda allows "
            f"{human_size(UNZIPPED_LIMIT)}: exclude more files or deploy a container image"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for file in files:
            archive_file(archive, file)
    partial.replace(out)
    digest = hashlib.sha256()
    with out.open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    package = ZipPackage(
        path=out,
        code_sha256=base64.b64encode(digest.digest()).decode("ascii"),
        zipped_size=out.stat().st_size,
        unzipped_size=unzipped,
        file_count=len(files),
    )
    if reporter is not None:
        reporter.info(f"  zip {source.name}/: {package.summary} (sha256 {package.code_sha256})")
    return package


def archive_file(archive: zipfile.ZipFile, file: PackageFile) -> None:
    info = zipfile.ZipInfo(file.name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so external_attr carries the mode on every host
    mode = 0o755 if file.executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.file_size = file.size  # lets zipfile pick zip64 up front for large files
    with file.path.open("rb") as src, archive.open(info, "w") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)

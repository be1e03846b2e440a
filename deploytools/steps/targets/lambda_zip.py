"""Deterministic Lambda zip packages: same files in, byte-identical zip out.

Entries are sorted, stamped 1980-01-01 (the zip epoch) and given fixed permissions, so the
CodeSha256 changes only when a packaged file does and re-deploying unchanged code is a no-op.
Which files go in is deploytools.lib.zip_selection's business.
The package's requirements (lambda_deps) are installed for the function's runtime and merged
in at the zip's root, its own files winning over a dependency's file of the same name.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import stat
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from deploytools.config.model import LambdaPackage
from deploytools.errors import BadInput
from deploytools.lib.zip_selection import UNZIPPED_LIMIT, PackageFile, human_size, select_files
from deploytools.output import Reporter
from deploytools.steps.targets import lambda_deps

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
    dependencies: str = ""  # what was merged in, e.g. "2 requirement(s) from requirements.txt"

    @property
    def summary(self) -> str:
        text = (
            f"{self.file_count} files, {human_size(self.unzipped_size)} unzipped, "
            f"{human_size(self.zipped_size)} zipped"
        )
        return f"{text}; {self.dependencies}" if self.dependencies else text


@dataclass(frozen=True)
class Dependencies:
    """Which requirements a package installs, and for which Lambda runtime and architecture.

    `requirements` None: the source folder's requirements.txt, else its pyproject.toml
    dependencies."""

    requirements: Path | None = None
    runtime: str = lambda_deps.DEFAULT_RUNTIME
    architecture: str = "x86_64"


def build_zip(
    source: Path,
    *,
    out: Path,
    excludes: Iterable[str] = (),
    reporter: Reporter | None = None,
    dependencies: Dependencies = Dependencies(),
) -> ZipPackage:
    """Write the zip of `source` with its dependencies to `out`; return its hash and sizes."""
    files = select_files(source, excludes)
    if not files:
        raise BadInput(f"{source}: nothing to package (every file is excluded)")
    installed = _dependencies(
        source,
        dependencies.requirements,
        runtime=dependencies.runtime,
        architecture=dependencies.architecture,
    )
    if installed is not None:
        files = merge(files, _installed_files(installed.folder))
    unzipped = sum(f.size for f in files)
    if unzipped > UNZIPPED_LIMIT:
        what = f" with {installed.described}" if installed else ""
        fix = "trim its requirements, exclude more files" if installed else "exclude more files"
        raise BadInput(
            f"{source}: the package is {human_size(unzipped)} unzipped{what}; Lambda allows "
            f"{human_size(UNZIPPED_LIMIT)}: {fix} or deploy a container image"
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
        dependencies=installed.note if installed else "",
    )
    if reporter is not None:
        reporter.info(f"  zip {source.name}/: {package.summary} (sha256 {package.code_sha256})")
    return package


def build_package(
    root: Path, package: LambdaPackage, *, out: Path, reporter: Reporter | None = None
) -> ZipPackage:
    """build_zip for a target's `package:` section; its paths are relative to `root`, the
    folder of deploytools.yml."""
    return build_zip(
        root / package.source,
        out=out,
        excludes=list(package.excludes),
        reporter=reporter,
        dependencies=Dependencies(
            requirements=root / package.requirements if package.requirements else None,
            runtime=package.runtime,
            architecture=package.architecture,
        ),
    )


def _dependencies(
    source: Path, requirements: Path | None, *, runtime: str, architecture: str
) -> lambda_deps.InstalledDependencies | None:
    found = lambda_deps.find_requirements(source, requirements)
    if found is None:
        return None
    return lambda_deps.install(found, runtime=runtime, architecture=architecture)


def _installed_files(folder: Path) -> list[PackageFile]:
    return [PackageFile(*entry) for entry in lambda_deps.dependency_files(folder)]


def merge(own: Sequence[PackageFile], dependencies: Sequence[PackageFile]) -> list[PackageFile]:
    """One entry per name, sorted: the package's own file wins over a dependency's."""
    names = {f.name for f in own}
    return sorted([*own, *(d for d in dependencies if d.name not in names)], key=lambda f: f.name)


def archive_file(archive: zipfile.ZipFile, file: PackageFile) -> None:
    info = zipfile.ZipInfo(file.name, date_time=ZIP_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so external_attr carries the mode on every host
    mode = 0o755 if file.executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.file_size = file.size  # lets zipfile pick zip64 up front for large files
    with file.path.open("rb") as src, archive.open(info, "w") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)

"""Fetching packages from the npm registry into the data cache (settings.data_root())."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

from .. import settings
from ..errors import StudioError


def npm_tarball(spec: str) -> Path:
    """Path of the `npm pack` tarball of `spec` (e.g. `openmoji@17.0.0`), fetched once into the cache."""
    downloads = settings.data_root() / "downloads"
    downloads.mkdir(exist_ok=True)
    name, _, version = spec.rpartition("@")
    expected = downloads / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if expected.exists():
        return expected
    npm = shutil.which("npm")
    if npm is None:
        raise StudioError(f"Building this data set needs `npm` to fetch {spec}; install Node.js and npm.")
    result = subprocess.run([npm, "pack", spec, "--silent"], cwd=downloads, capture_output=True, text=True)
    if result.returncode != 0 or not expected.exists():
        raise StudioError(f"`npm pack {spec}` failed: {result.stderr.strip() or result.stdout.strip()}")
    return expected


def unpack(tarball: Path, members_prefix: tuple[str, ...]) -> Path:
    """Extract the members under `members_prefix` of `tarball` next to it, once; returns the folder."""
    target = tarball.with_suffix("")
    marker = target / ".complete"
    if marker.exists():
        return target
    target.mkdir(exist_ok=True)
    with tarfile.open(tarball) as archive:
        members = [m for m in archive.getmembers() if m.isfile() and m.name.startswith(members_prefix)]
        archive.extractall(target, members=members, filter="data")
    marker.touch()
    return target

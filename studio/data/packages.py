"""Where downloads and built data sets live, and fetching packages from the npm registry."""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from ..errors import StudioError


def data_dir() -> Path:
    """`STUDIO_DATA`, else `~/.cache/studio`: downloads and builds never land inside the repo."""
    root = os.environ.get("STUDIO_DATA") or os.path.join(os.path.expanduser("~"), ".cache", "studio")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def npm_tarball(spec: str) -> Path:
    """Path of the `npm pack` tarball of `spec` (e.g. `openmoji@17.0.0`), fetched once into the cache."""
    downloads = data_dir() / "downloads"
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

"""Build the static site: the page, the Pyodide runtime and the pure-Python wheels it runs.

The runtime comes from the `pyodide` package of the npm registry, at a pinned version whose
tarball's SHA-256 is checked (`npm pack` fetches it once into a cache folder; the build itself
reads only the cache). The wheels are made here, without the network: convcalc from this
checkout (its built-in specs inside, as the installed wheel has them), and its dependencies
repacked from the distributions installed beside it, pure-Python files only (PyYAML without its
C extension: its loader falls back to pure Python, as on any machine without libyaml).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from convcalc import __version__
from convcalc.builtins import specs_dir
from convcalc.errors import ConvcalcError

PYODIDE_VERSION = "314.0.8"  # CPython 3.14.2 in WebAssembly (its pyodide-lock.json, "info")
# sha256sum of pyodide-314.0.8.tgz as `npm pack` gives it (npm's own integrity is its sha512).
PYODIDE_SHA256 = "9a52704e0ae5b07aaacb8e4fed9f1658e8024694a078695ea45ac79dee4cefcb"
# What the page loads of the runtime; the rest of the package (consoles, type files) stays out.
RUNTIME = ("pyodide.mjs", "pyodide.asm.mjs", "pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json")
# convcalc's dependencies and theirs (pyproject.toml: click, rich, pyyaml; rich needs pygments
# and markdown-it-py, which needs mdurl); tests/test_web.py's page imports them all.
DISTRIBUTIONS = ("click", "rich", "pygments", "markdown-it-py", "mdurl", "PyYAML")
STATIC = Path(__file__).with_name("static")
_SKIP_SUFFIXES = (".so", ".pyd", ".pyc", ".dylib", ".dll")
_SKIP_INFO = ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json", "WHEEL", "entry_points.txt")


class BuildError(ConvcalcError):
    """The site could not be built: no npm, a tarball whose checksum differs, a missing dependency."""


def cache_dir() -> Path:
    """Where the runtime's tarball is kept: $CONVCALC_WEB_CACHE, else ~/.cache/convcalc/web."""
    chosen = os.environ.get("CONVCALC_WEB_CACHE")
    return Path(chosen) if chosen else Path.home() / ".cache" / "convcalc" / "web"


def tarball(cache: Path) -> Path:
    """The path of the pinned runtime's tarball in `cache` (present or not)."""
    return cache / f"pyodide-{PYODIDE_VERSION}.tgz"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_runtime(cache: Path) -> Path:
    """The checked tarball of the pinned Pyodide, fetched with `npm pack` if the cache lacks it."""
    path = tarball(cache)
    if not path.exists():
        npm = shutil.which("npm")
        if npm is None:
            msg = f"npm is needed once to fetch pyodide@{PYODIDE_VERSION} into {cache} (or put the tarball there)"
            raise BuildError(msg)
        cache.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(  # noqa: S603 - npm, found on PATH, with fixed arguments
            [npm, "pack", f"pyodide@{PYODIDE_VERSION}", "--pack-destination", str(cache)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not path.exists():
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            msg = f"npm pack pyodide@{PYODIDE_VERSION} failed: {last}"
            raise BuildError(msg)
    found = _sha256(path)
    if found != PYODIDE_SHA256:
        msg = f"{path} has SHA-256 {found}, not pyodide {PYODIDE_VERSION}'s {PYODIDE_SHA256}: remove it and build again"
        raise BuildError(msg)
    return path


def _unpack_runtime(path: Path, into: Path) -> None:
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "r:gz") as tar:
        names = set(tar.getnames())
        for name in RUNTIME:
            member = tar.extractfile(f"package/{name}") if f"package/{name}" in names else None
            if member is None:
                msg = f"{path} has no package/{name}"
                raise BuildError(msg)
            (into / name).write_bytes(member.read())


@dataclass(frozen=True, slots=True)
class Wheel:
    """A wheel written into the site: its file name and the SHA-256 the page checks."""

    file: str
    sha256: str


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def write_wheel(folder: Path, name: str, version: str, files: dict[str, bytes], metadata: bytes) -> Wheel:
    """A pure wheel (py3-none-any) of `files` (archive name → bytes), with its dist-info."""
    stem = f"{name.replace('-', '_')}-{version}"
    info = f"{stem}.dist-info"
    generator = f"convcalc.web {__version__}"
    wheel_text = f"Wheel-Version: 1.0\nGenerator: {generator}\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries = {**files, f"{info}/METADATA": metadata, f"{info}/WHEEL": wheel_text.encode()}
    record = [_record_line(n, d) for n, d in sorted(entries.items())] + [f"{info}/RECORD,,"]
    entries[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    path = folder / f"{stem}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:
        for n in sorted(entries):  # a fixed order and date: the same input gives the same bytes
            whl.writestr(zipfile.ZipInfo(n, date_time=(2020, 1, 1, 0, 0, 0)), entries[n])
    return Wheel(path.name, _sha256(path))


def repack(folder: Path, distribution: str) -> Wheel:
    """An installed distribution's pure-Python files as a wheel (compiled extensions left out)."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        msg = f"{distribution} is not installed here: `pip install -e .` installs convcalc's dependencies"
        raise BuildError(msg) from None
    files: dict[str, bytes] = {}
    for f in dist.files or ():
        name = str(f)
        parts = f.parts
        if name.startswith("..") or "__pycache__" in parts or name.endswith(_SKIP_SUFFIXES):
            continue
        if parts[0].endswith(".dist-info"):
            if parts[-1] in _SKIP_INFO or parts[-1] == "METADATA":
                continue
            name = f"{distribution.replace('-', '_')}-{dist.version}.dist-info/{'/'.join(parts[1:])}"
        files[name] = Path(str(f.locate())).read_bytes()
    metadata = (dist.read_text("METADATA") or f"Metadata-Version: 2.1\nName: {distribution}\n").encode()
    return write_wheel(folder, distribution, dist.version, files, metadata)


def convcalc_wheel(folder: Path) -> Wheel:
    """The convcalc wheel from this checkout, the built-in specs inside it (as pyproject's force-include)."""
    package = Path(__file__).resolve().parent.parent
    files: dict[str, bytes] = {}
    for path in sorted(package.rglob("*")):
        rel = path.relative_to(package)
        if path.is_file() and "__pycache__" not in rel.parts and "static" not in rel.parts:
            files[f"convcalc/{rel.as_posix()}"] = path.read_bytes()
    for spec in sorted(Path(specs_dir()).glob("*.yaml")):
        files[f"convcalc/specs/{spec.name}"] = spec.read_bytes()
    metadata = f"Metadata-Version: 2.1\nName: convcalc\nVersion: {__version__}\n".encode()
    return write_wheel(folder, "convcalc", __version__, files, metadata)


def build(site: Path, cache: Path | None = None) -> dict[str, object]:
    """Write the site into `site` (emptied first if it holds a previous build); the manifest."""
    runtime = fetch_runtime(cache or cache_dir())
    if site.exists():
        if not (site / "wheels.json").exists() and any(site.iterdir()):
            msg = f"{site} is not empty and holds no convcalc site: choose an empty or new folder"
            raise BuildError(msg)
        shutil.rmtree(site)
    (site / "wheels").mkdir(parents=True)
    _unpack_runtime(runtime, site / "pyodide")
    wheels = [convcalc_wheel(site / "wheels")] + [repack(site / "wheels", d) for d in DISTRIBUTIONS]
    for asset in sorted(STATIC.iterdir()):
        shutil.copyfile(asset, site / asset.name)
    manifest: dict[str, object] = {
        "convcalc": __version__,
        "pyodide": PYODIDE_VERSION,
        "wheels": [{"file": w.file, "sha256": w.sha256} for w in wheels],
    }
    (site / "wheels.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest

"""A PEP 517 build backend in the standard library alone: lars_client's wheel and sdist.

pip installs from this folder offline, even where setuptools cannot build a
wheel (no `wheel` package) and PyPI is unreachable (README.md).
"""
from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path
from typing import Dict, List, Optional

NAME = "lars_client"
VERSION = "0.1.0"
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / NAME
DIST_INFO = f"{NAME}-{VERSION}.dist-info"

METADATA = f"""Metadata-Version: 2.1
Name: lars-client
Version: {VERSION}
Summary: Client of the lars-ts agent: pick a host for a route, report how the call went
License: MIT
Requires-Python: >=3.9
Description-Content-Type: text/markdown

"""

WHEEL = """Wheel-Version: 1.0
Generator: lars_build
Root-Is-Purelib: true
Tag: py3-none-any
"""


def _package_files() -> Dict[str, bytes]:
    return {
        f"{NAME}/{path.name}": path.read_bytes()
        for path in sorted(PACKAGE.iterdir())
        if path.suffix == ".py" or path.name == "py.typed"
    }


def _metadata() -> bytes:
    return (METADATA + (ROOT / "README.md").read_text(encoding="utf-8")).encode("utf-8")


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"{name},sha256={digest},{len(data)}"


def get_requires_for_build_wheel(config_settings: Optional[dict] = None) -> List[str]:
    return []


def get_requires_for_build_sdist(config_settings: Optional[dict] = None) -> List[str]:
    return []


def build_wheel(wheel_directory: str, config_settings: Optional[dict] = None, metadata_directory: Optional[str] = None) -> str:
    files = _package_files()
    files[f"{DIST_INFO}/METADATA"] = _metadata()
    files[f"{DIST_INFO}/WHEEL"] = WHEEL.encode("ascii")
    record = [_record_line(name, data) for name, data in files.items()] + [f"{DIST_INFO}/RECORD,,"]
    files[f"{DIST_INFO}/RECORD"] = ("\n".join(record) + "\n").encode("utf-8")
    wheel_name = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(Path(wheel_directory) / wheel_name, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    return wheel_name


def build_sdist(sdist_directory: str, config_settings: Optional[dict] = None) -> str:
    base = f"{NAME}-{VERSION}"
    files = {name: (ROOT / name).read_bytes() for name in ("pyproject.toml", "README.md", "build_backend/lars_build.py")}
    files.update(_package_files())
    files["PKG-INFO"] = _metadata()
    sdist_name = f"{base}.tar.gz"
    with tarfile.open(Path(sdist_directory) / sdist_name, "w:gz", format=tarfile.PAX_FORMAT) as sdist:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{base}/{name}")
            info.size = len(data)
            sdist.addfile(info, io.BytesIO(data))
    return sdist_name

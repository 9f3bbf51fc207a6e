"""Installing the example stage plugin (tests/plugin_pkg) into a folder, without the network,
and running curate with that folder on its path (as a separate process: the registry of the
tests' own process stays as it is)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

PLUGIN_SRC = Path(__file__).resolve().parents[1] / "plugin_pkg"
PACKAGE = "curate_plugin_example"


def install(target: Path) -> Path:
    """pip-install the plugin into ``target`` (``--target``, no index, no build isolation);
    where setuptools cannot build a wheel offline (not installed, or older than 70.1 without
    the ``wheel`` package), write the same layout pip writes: the package and its
    ``.dist-info`` with ``entry_points.txt``."""
    src = target.parent / "plugin-src"
    shutil.copytree(PLUGIN_SRC, src)  # the build writes its files beside the source
    if _can_build():
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "--no-deps", "--no-index",
                        "--no-build-isolation", "--target", str(target), str(src)],
                       check=True, capture_output=True, text=True)
        return target
    project = tomllib.loads((src / "pyproject.toml").read_text())["project"]
    shutil.copytree(src / PACKAGE, target / PACKAGE)
    points = project["entry-points"]
    write_dist_info(target, project["name"], project["version"], points)
    return target


def _can_build() -> bool:
    if importlib.util.find_spec("setuptools") is None:
        return False
    version = tuple(int(p) for p in metadata.version("setuptools").split(".")[:2]
                    if p.isdigit())
    return version >= (70, 1) or importlib.util.find_spec("wheel") is not None


def write_dist_info(target: Path, name: str, version: str,
                    groups: dict[str, dict[str, str]]) -> None:
    """An installed distribution's metadata as pip writes it (what importlib.metadata reads)."""
    info = target / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in points.items()) + "\n"
        for group, points in groups.items()))
    (info / "RECORD").write_text("")


def curate(*args: str, site: Path | list[Path], cwd: Path | None = None,
           timeout: int = 300) -> subprocess.CompletedProcess:
    """``python -m curate ARGS`` with ``site`` (the plugin's install folder) on the path."""
    sites = site if isinstance(site, list) else [site]
    path = os.pathsep.join([*map(str, sites), os.environ.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    env = dict(os.environ, PYTHONPATH=path, CURATE_PROGRESS="0")
    return subprocess.run([sys.executable, "-m", "curate", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=timeout)

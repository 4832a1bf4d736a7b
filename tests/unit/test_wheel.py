"""The wheel: it builds without warnings, holds every package and asset, and runs installed.

An editable install (what ``./run`` makes) hides a wheel that lacks a subpackage: the source
tree is on ``sys.path`` anyway. So this test builds the wheel from a copy of the tree,
installs it into a fresh virtual environment with no access to the source, and runs the
installed ``synapse`` from there. Dependencies come from the project's own environment
through a path entry, so the test needs no network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("synapse", "events", "adapters", "projections", "actors", "serve")


def _tree_files() -> list[str]:
    """Tracked and new (not ignored) files: what a clean clone plus this change holds."""
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if line and (ROOT / line).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """Build the wheel from a copy of the tree; return it and the build's output."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    for name in _tree_files():
        target = src / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    out = base / "dist"
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    build = subprocess.run(
        [*pip_wheel, "-v", "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    log = build.stdout + build.stderr
    assert build.returncode == 0, log[-4000:]
    (whl,) = out.glob("synapse_ai-*.whl")
    return whl, log


def test_the_build_prints_no_deprecation_or_packaging_warning(wheel: tuple[Path, str]) -> None:
    """``project.license`` as a table, or a subpackage left out, is warned about at build time."""
    _, log = wheel
    for marker in ("SetuptoolsDeprecationWarning", "BuildBackendWarning", "is deprecated"):
        assert marker not in log, next(line for line in log.splitlines() if marker in line)


def test_the_wheel_holds_every_package_and_dashboard_asset(wheel: tuple[Path, str]) -> None:
    """Each source folder with Python code and each committed static file is in the wheel."""
    whl, _ = wheel
    names = set(zipfile.ZipFile(whl).namelist())
    sources = [n for n in _tree_files() if n.split("/", 1)[0] in PACKAGES]
    modules = [n for n in sources if n.endswith((".py", ".pyi", "py.typed", ".proto"))]
    assets = [n for n in sources if n.startswith("serve/static/")]
    assert modules
    assert assets
    missing = sorted(n for n in modules + assets if n not in names)
    assert not missing, missing
    assert not [n for n in names if n.startswith(("tests/", "web/", "benchmarks/"))]


def test_the_installed_wheel_runs_without_the_source_tree(
    wheel: tuple[Path, str], tmp_path: Path
) -> None:
    """``synapse --help`` and the dashboard's files work from a fresh venv outside the repo."""
    whl, _ = wheel
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    site = Path(
        subprocess.run(
            [py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # Dependencies from this environment, after the venv's own site-packages. A path line in
    # a .pth file does not run that folder's .pth files, so the editable install of the
    # source tree stays inactive.
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", str(whl)],
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
    run = subprocess.run(
        [env_dir / "bin" / "synapse", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert "demo" in run.stdout
    assert "sync" in run.stdout
    probe = (
        "import actors.agents, actors.gateway, adapters.formats, serve.grpc, synapse, serve;"
        "from pathlib import Path;"
        "print(Path(synapse.__file__).resolve());"
        "print((Path(serve.__file__).parent / 'static' / 'app' / 'index.html').is_file())"
    )
    where = subprocess.run(
        [py, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert where.returncode == 0, where.stderr
    location, has_index = where.stdout.split()
    assert Path(location).is_relative_to(site)
    assert has_index == "True"

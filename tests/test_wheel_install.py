"""An ordinary install works: the sdist and wheel carry the icons, themes and translations.

The slow test does what a user's ``pip install`` does, offline: an sdist is built from a copy of
the source tree, a wheel from the unpacked sdist, the wheel is installed into a fresh venv, and
the installed ``qwen-desk --self-test`` runs from a folder outside the repository. The fresh venv
sees the dependencies (torch, PySide6, ...) through one ``.pth`` file listing this interpreter's
site-packages folders: plain path lines, so the project's own editable finder there is never
run and the wheel's copy is the one imported (checked through ``qwen_desk.__file__``).
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
RESOURCE_FILES = (
    "icons/qwen-desk.svg",
    "themes/light.qss",
    "themes/dark.qss",
    "translations/qwen_desk_zh_CN.ts",
)
COPY_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".import_linter_cache",
    "*.qm",
    "screenshots",
    "out",
)


def test_every_package_is_listed_for_setuptools() -> None:
    """pyproject lists the packages (resources/ maps outside qwen_desk/): none may be missing."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]
    listed = set(config["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "qwen_desk").rglob("__init__.py")
    }
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert config["setuptools"]["package-dir"]["qwen_desk.resources"] == "resources"
    for name in RESOURCE_FILES:
        assert (REPO / "resources" / name).is_file(), name


def test_source_checkout_uses_the_top_level_resources() -> None:
    from qwen_desk.ui.assets import installed_resources, resources_dir

    if os.environ.get("QWEN_DESK_RESOURCES"):
        pytest.skip("QWEN_DESK_RESOURCES overrides the lookup")
    assert installed_resources() is None  # no qwen_desk/resources in a checkout
    assert resources_dir() == REPO / "resources"


def _run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8"
    )
    assert result.returncode == 0, (
        f"{command} exited with {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


def build_wheel(work: Path) -> Path:
    """sdist from a copy of the tree, then the wheel from the unpacked sdist (no network)."""
    source = work / "source"
    shutil.copytree(REPO, source, ignore=COPY_IGNORE)
    sdist_dir = work / "sdist"
    code = "import sys; from setuptools import build_meta as m; print(m.build_sdist(sys.argv[1]))"
    name = _run([sys.executable, "-c", code, str(sdist_dir)], cwd=source).split()[-1]
    with tarfile.open(sdist_dir / name) as archive:
        archive.extractall(work / "unpacked", filter="data")
    (unpacked,) = (work / "unpacked").iterdir()
    wheels = work / "wheels"
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--quiet",
            "-w",
            str(wheels),
            str(unpacked),
        ],
        cwd=work,
    )
    (wheel,) = wheels.glob("qwen_desk-*.whl")
    return wheel


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without anything that points imports or resources at the checkout."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONPATH", "PYTHONHOME", "QWEN_DESK_RESOURCES", "QWEN_DESK_HOME")
        and not k.startswith("VIRTUAL_ENV")
    }
    env.update(extra)
    return env


def make_venv(root: Path) -> tuple[Path, Path]:
    """A fresh venv that sees this interpreter's dependencies; (its python, its site-packages)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    purelib = Path(
        _run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=root,
            env=clean_env(),
        ).strip()
    )
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    # path lines only: the .pth files in those folders (the editable finder) are not run
    (purelib / "qwen_desk_test_deps.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    return python, purelib


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_wheel_installs_and_passes_the_self_test(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "build")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [f for f in RESOURCE_FILES if f"qwen_desk/resources/{f}" not in names]
    assert not missing, f"{wheel.name} lacks {missing}"
    assert not [n for n in names if n.endswith(".qm")]  # compiled at run time, never shipped

    venv = tmp_path / "venv"
    python, purelib = make_venv(venv)
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--no-index",
            "--quiet",
            str(wheel),
        ],
        cwd=tmp_path,
        env=clean_env(),
    )
    elsewhere = tmp_path / "elsewhere"  # nothing of the repository here or above
    elsewhere.mkdir()
    env = clean_env(QT_QPA_PLATFORM="offscreen")
    imported = _run(
        [str(python), "-c", "import qwen_desk; print(qwen_desk.__file__)"], elsewhere, env
    ).strip()
    assert Path(imported).is_relative_to(purelib), imported

    script = python.parent / ("qwen-desk.exe" if os.name == "nt" else "qwen-desk")
    report_file = tmp_path / "report.json"
    result = subprocess.run(
        [str(script), "--self-test", "--report", str(report_file)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert report_file.is_file(), result.stderr
    report = json.loads(report_file.read_text(encoding="utf-8"))
    checks = {c["name"]: c for c in report["checks"]}
    assert result.returncode == 0 and report["ok"], (result.stderr, checks)
    assert Path(report["resources"]) == purelib / "qwen_desk" / "resources"
    assert checks["qt"]["ok"] and "svg icon" in checks["qt"]["detail"], checks["qt"]
    assert "themes light, dark" in checks["qt"]["detail"]
    # the .qm was compiled from the installed .ts into the self-test's own (fresh) cache
    assert checks["translations"]["ok"], checks["translations"]
    assert "qwen_desk_zh_CN.qm" in checks["translations"]["detail"]
    assert Path(report["executable"]).parent == python.parent

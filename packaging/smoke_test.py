"""Packaging: smoke test of the built .deb, installed into a temporary root, run offline.

    python packaging/smoke_test.py [--deb FILE | --bundle DIR] [--max-bundle-mb N]

Without ``--deb``/``--bundle`` it first runs ``packaging/build.py --deb`` (and times it). Then:

1. ``dpkg -x`` the package into a temporary root; check the layout (binary, /usr/bin link,
   menu entry, hicolor icons, metainfo) and that there are no maintainer scripts (so removing
   the package cannot touch user data);
2. ``desktop-file-validate`` the menu entry (and ``appstreamcli validate`` the metainfo when
   installed);
3. run the installed binary's ``--self-test --report`` through a symlink (as /usr/bin does)
   with a clean environment: no PYTHONPATH, no virtualenv, a fresh HOME, and, where
   ``unshare -n`` is allowed, no network at all; the report must be ok and frozen;
4. time the cold start of the installed binary to its first painted window (offscreen, with
   ``QWEN_DESK_EXIT_AFTER_PAINT=1``, see ``desktop/launcher.py``), after dropping the page cache
   when permitted;
5. check the bundle size against a limit.

Prints a JSON summary (build time, bundle and .deb size, cold start, self-test result) and exits
non-zero when any check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from icons import HICOLOR_SIZES  # noqa: E402

from build import APP_ID, dir_size, find_cuda  # noqa: E402  (packaging/build.py)

DEFAULT_MAX_BUNDLE_MB = 2500
SELFTEST_TIMEOUT_S = 600
PAINT_TIMEOUT_S = 120


class Failures(list[str]):
    def check(self, ok: bool, message: str) -> bool:
        if not ok:
            self.append(message)
            print(f"[smoke] FAIL {message}", file=sys.stderr, flush=True)
        return ok


def log(message: str) -> None:
    print(f"[smoke] {message}", file=sys.stderr, flush=True)


def build_deb() -> tuple[Path, float, dict[str, object]]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(HERE / "build.py"), "--deb"], stdout=subprocess.PIPE, check=True
    )
    seconds = time.monotonic() - started
    report = json.loads(result.stdout)
    return Path(str(report["deb"])), seconds, report


def clean_env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """What a user's desktop session gives the app: no PYTHONPATH, no venv, a fresh HOME."""
    env = {
        "HOME": str(home),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": str(home / "tmp"),
        "XDG_RUNTIME_DIR": str(home / "run"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    (home / "run").mkdir(mode=0o700, parents=True, exist_ok=True)
    env.update(extra or {})
    return env


def offline_prefix() -> list[str]:
    """``unshare -n`` (a new network namespace with only a down loopback) when permitted."""
    unshare = shutil.which("unshare")
    if unshare:
        probe = subprocess.run([unshare, "-n", "true"], capture_output=True)
        if probe.returncode == 0:
            return [unshare, "-n"]
    return []


def drop_page_cache() -> bool:
    try:
        subprocess.run(["sync"], check=False)
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
        return True
    except OSError:
        return False


def check_layout(root: Path, failures: Failures) -> Path:
    """The installed files; returns the app folder."""
    app = root / "opt" / "qwen-desk"
    binary = app / "qwen-desk"
    failures.check(binary.is_file() and os.access(binary, os.X_OK), f"no executable {binary}")
    link = root / "usr" / "bin" / "qwen-desk"
    failures.check(
        link.is_symlink() and os.readlink(link) == "/opt/qwen-desk/qwen-desk",
        "/usr/bin/qwen-desk is not a link to /opt/qwen-desk/qwen-desk",
    )
    share = root / "usr" / "share"
    failures.check((share / "applications" / f"{APP_ID}.desktop").is_file(), "no .desktop")
    failures.check((share / "metainfo" / f"{APP_ID}.metainfo.xml").is_file(), "no metainfo")
    for size in HICOLOR_SIZES:
        icon = share / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        failures.check(icon.is_file(), f"no {size}px icon")
    failures.check(
        (share / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file(),
        "no scalable icon",
    )
    return app


def check_no_maintainer_scripts(deb: Path, failures: Failures) -> list[str]:
    with tempfile.TemporaryDirectory() as control:
        subprocess.run(["dpkg-deb", "-e", str(deb), control], check=True)
        members = sorted(os.listdir(control))
    scripts = [m for m in members if m in ("preinst", "postinst", "prerm", "postrm", "config")]
    failures.check(not scripts, f"maintainer scripts present: {scripts}")
    return members


def validate_desktop_files(root: Path, failures: Failures) -> dict[str, str]:
    results = {}
    desktop = root / "usr" / "share" / "applications" / f"{APP_ID}.desktop"
    tool = shutil.which("desktop-file-validate")
    if tool:
        run = subprocess.run([tool, str(desktop)], capture_output=True, text=True)
        failures.check(run.returncode == 0, f"desktop-file-validate: {run.stdout}{run.stderr}")
        results["desktop-file-validate"] = "ok" if run.returncode == 0 else "failed"
    else:
        failures.append(
            "desktop-file-validate is not installed (apt-get install desktop-file-utils)"
        )
    metainfo = root / "usr" / "share" / "metainfo" / f"{APP_ID}.metainfo.xml"
    tool = shutil.which("appstreamcli")
    if tool:
        run = subprocess.run(
            [tool, "validate", "--no-net", str(metainfo)], capture_output=True, text=True
        )
        failures.check(run.returncode == 0, f"appstreamcli validate: {run.stdout}{run.stderr}")
        results["appstreamcli"] = "ok" if run.returncode == 0 else "failed"
    else:
        results["appstreamcli"] = "not installed (skipped)"
    return results


def run_self_test(binary: Path, work: Path, failures: Failures) -> dict[str, object]:
    home = work / "home"
    launcher = work / "bin" / "qwen-desk"  # a symlink, as /usr/bin/qwen-desk is
    launcher.parent.mkdir(parents=True, exist_ok=True)
    launcher.symlink_to(binary)
    report_file = work / "self-test.json"
    prefix = offline_prefix()
    started = time.monotonic()
    run = subprocess.run(
        [*prefix, str(launcher), "--self-test", "--report", str(report_file)],
        env=clean_env(home),
        cwd=str(home),
        capture_output=True,
        text=True,
        timeout=SELFTEST_TIMEOUT_S,
    )
    seconds = time.monotonic() - started
    if run.returncode != 0:
        log(f"self-test stderr:\n{run.stderr[-4000:]}")
    failures.check(run.returncode == 0, f"self-test exited {run.returncode}")
    report: dict[str, object] = {}
    if failures.check(report_file.is_file(), "self-test wrote no report"):
        report = json.loads(report_file.read_text(encoding="utf-8"))
        failures.check(report.get("ok") is True, "self-test report is not ok")
        failures.check(report.get("frozen") is True, "self-test did not run frozen")
        names = {c["name"] for c in report.get("checks", [])}  # type: ignore[union-attr]
        wanted = {"qt", "translations", "embedding", "lancedb", "ingest_search", "ollama"}
        failures.check(wanted <= names, f"self-test checks missing: {sorted(wanted - names)}")
    leaked = [p for p in (home / ".cache" / "huggingface", home / ".local" / "share") if p.exists()]
    failures.check(not leaked, f"self-test wrote into the user's HOME: {leaked}")
    return {"report": report, "seconds": round(seconds, 1), "offline_namespace": bool(prefix)}


def time_first_paint(binary: Path, work: Path, runs: int = 3) -> dict[str, object]:
    """Cold (page cache dropped when allowed) and warm starts to the first painted window."""
    results: list[dict[str, object]] = []
    for index in range(runs):
        dropped = drop_page_cache() if index == 0 else False
        home = work / f"paint-home-{index}"
        started = time.monotonic()
        run = subprocess.run(
            [str(binary)],
            env=clean_env(home, {"QWEN_DESK_EXIT_AFTER_PAINT": "1"}),
            cwd=str(home),
            capture_output=True,
            text=True,
            timeout=PAINT_TIMEOUT_S,
        )
        wall = time.monotonic() - started
        inner = next(
            (
                float(line.split()[1])
                for line in run.stdout.splitlines()
                if line.startswith("first-paint")
            ),
            None,
        )
        results.append(
            {
                "wall_s": round(wall, 3),
                "in_process_s": inner,
                "page_cache_dropped": dropped,
                "exit": run.returncode,
            }
        )
    return {
        "runs": results,
        "cold_s": results[0]["wall_s"],
        "warm_s": min(float(str(r["wall_s"])) for r in results[1:]) if runs > 1 else None,
        "load_average_1min": round(os.getloadavg()[0], 2),  # other work on the machine
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deb", help="test this .deb instead of building one")
    parser.add_argument("--bundle", help="test this app folder (no .deb checks)")
    parser.add_argument("--max-bundle-mb", type=float, default=DEFAULT_MAX_BUNDLE_MB)
    parser.add_argument("--keep", action="store_true", help="keep the temporary root")
    parser.add_argument("--out", help="also write the JSON summary here")
    args = parser.parse_args(argv)

    failures = Failures()
    summary: dict[str, object] = {}
    work = Path(tempfile.mkdtemp(prefix="qwen-desk-smoke-"))
    try:
        if args.bundle:
            app = Path(args.bundle).resolve()
        else:
            if args.deb:
                deb = Path(args.deb).resolve()
            else:
                deb, build_s, build_report = build_deb()
                summary["build_seconds"] = round(build_s, 1)
                summary["build"] = build_report
            summary["deb"] = str(deb)
            summary["deb_bytes"] = deb.stat().st_size
            summary["deb_mb"] = round(deb.stat().st_size / 1e6, 1)
            root = work / "root"
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
            app = check_layout(root, failures)
            summary["control_members"] = check_no_maintainer_scripts(deb, failures)
            summary["validation"] = validate_desktop_files(root, failures)
        size = dir_size(app)
        summary["bundle_bytes"] = size
        summary["bundle_mb"] = round(size / 1e6, 1)
        failures.check(size <= args.max_bundle_mb * 1e6, f"bundle {size / 1e6:.0f} MB > limit")
        cuda = find_cuda(app)
        failures.check(not cuda, f"CUDA files in the bundle: {cuda[:5]}")
        binary = app / "qwen-desk"
        log("running the installed app's --self-test (clean environment, offline)")
        summary["self_test"] = run_self_test(binary, work, failures)
        log("timing the start to the first painted window")
        summary["first_paint"] = time_first_paint(binary, work)
        paint_ok = all(r["in_process_s"] is not None for r in summary["first_paint"]["runs"])  # type: ignore[index]
        failures.check(paint_ok, "the installed app never painted a window")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            summary["work"] = str(work)
    summary["ok"] = not failures
    summary["failures"] = list(failures)
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: peak memory and time of ``qwen-desk add`` on hostile or huge inputs.

Each input is generated in a temporary folder (never in the repository), then added by
``python -m qwen_desk add --json`` run as a subprocess in a fresh ``QWEN_DESK_HOME``. The peak
RSS of the whole process tree (the CLI, the parser child) is sampled every 0.1 s with psutil
(or /proc when psutil is missing). Prints one JSON object: per input the peak MB, seconds, exit
code, the file's status and error code, and whether any output held a Python traceback.

Inputs: a 5,000-page blank PDF, 5,000 pages each showing one blank scanned image, a 2,000-page
text PDF, a 200 MB text file, a .docx whose document.xml expands to 1 GB (zip bomb), a FIFO and
a character device named .txt, and a folder holding a symlink loop.

    .venv/bin/python bench/input_memory.py                  # everything (minutes)
    .venv/bin/python bench/input_memory.py --only fifo_txt  # one input (repeatable flag)
    .venv/bin/python bench/input_memory.py --small          # the cheap sizes the tests use
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
LIMIT_MB = 1536
TIME_BOUND_S = {  # the bound each input must end within (indexed or failed with a code)
    "blank_pdf": 60,
    "blank_scan_pdf": 60,
    "text_pdf": 900,  # ~7,700 chunks at 10-40 chunks/s on 2 shared cores
    "text_200mb": 60,
    "docx_bomb": 30,
    "fifo_txt": 30,
    "device_txt": 30,
    "symlink_loop": 60,
}

# --- generators ----------------------------------------------------------------------------


def blank_pdf(folder: Path, pages: int) -> Path:
    import pymupdf

    out = folder / "blank.pdf"
    doc = pymupdf.open()
    for _ in range(pages):
        doc.new_page()
    doc.save(out)
    return out


def blank_scan_pdf(folder: Path, pages: int) -> Path:
    """Every page shows the same white A4 image at 300 dpi (a scanned blank sheet)."""
    import pymupdf

    out = folder / "blank_scan.pdf"
    pix = pymupdf.Pixmap(pymupdf.csGRAY, pymupdf.IRect(0, 0, 2480, 3508), False)
    pix.set_rect(pix.irect, (255,))
    png = pix.tobytes("png")
    doc = pymupdf.open()
    xref = 0
    for _ in range(pages):
        page = doc.new_page()
        if xref:
            page.insert_image(page.rect, xref=xref)
        else:
            xref = page.insert_image(page.rect, stream=png)
    doc.save(out, deflate=True)
    return out


def text_pdf(folder: Path, pages: int) -> Path:
    import pymupdf

    out = folder / "text.pdf"
    doc = pymupdf.open()
    for n in range(pages):
        page = doc.new_page()
        body = "\n".join(
            f"Page {n + 1}, line {i + 1}: the quarterly report lists item {n * 40 + i}."
            for i in range(40)
        )
        page.insert_text((50, 60), body, fontsize=9)
    doc.save(out, deflate=True)
    return out


def big_text(folder: Path, megabytes: int) -> Path:
    out = folder / "big.txt"
    line = "The archive keeps every letter written between the two offices. " * 4 + "\n"
    block = (line * ((1 << 20) // len(line) + 1)).encode()[: 1 << 20]
    with open(out, "wb") as fh:
        for _ in range(megabytes):
            fh.write(block)
    return out


def docx_bomb(folder: Path, megabytes: int) -> Path:
    """A valid .docx whose word/document.xml inflates to ``megabytes`` MB (~1000:1)."""
    out = folder / "bomb.docx"
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    rels = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/'
            '2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
            "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            f'package/2006/relationships"><Relationship Id="rId1" Type="{rels}/officeDocument"'
            ' Target="word/document.xml"/></Relationships>',
        )
        para = b"<w:p><w:r><w:t>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa</w:t></w:r></w:p>"
        chunk = para * ((1 << 20) // len(para))
        with z.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0"?><w:document xmlns:w="{w}"><w:body>'.encode())
            for _ in range(megabytes):
                fh.write(chunk)
            fh.write(b"</w:body></w:document>")
    return out


def fifo_txt(folder: Path, _size: int) -> Path:
    out = folder / "pipe.txt"
    os.mkfifo(out)
    return out


def device_txt(folder: Path, _size: int) -> Path:
    out = folder / "zero.txt"
    out.symlink_to("/dev/zero")
    return out


def symlink_loop(folder: Path, _size: int) -> Path:
    root = folder / "loop"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "note.txt").write_text("A short note about the symlink loop test.\n")
    (root / "sub" / "back").symlink_to("..")  # a folder that contains itself
    (root / "self").symlink_to(".")
    (root / "a.txt").symlink_to("b.txt")  # a file link loop
    (root / "b.txt").symlink_to("a.txt")
    return root


INPUTS: dict[str, tuple[Callable[[Path, int], Path], int, int]] = {
    # name: (generator, full size, small size)
    "blank_pdf": (blank_pdf, 5000, 300),
    "blank_scan_pdf": (blank_scan_pdf, 5000, 300),
    "text_pdf": (text_pdf, 2000, 20),
    "text_200mb": (big_text, 200, 2),
    "docx_bomb": (docx_bomb, 1024, 64),
    "fifo_txt": (fifo_txt, 0, 0),
    "device_txt": (device_txt, 0, 0),
    "symlink_loop": (symlink_loop, 0, 0),
}

# --- measuring -----------------------------------------------------------------------------


def _tree_rss(pid: int) -> int:
    try:
        import psutil
    except ImportError:
        return _proc_tree_rss(pid)
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.Error:
            pass
    return total


def _proc_tree_rss(pid: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
        rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo.extend(children.get(p, ()))
    return total


def run_add(path: Path, home: Path, timeout_s: float) -> dict[str, Any]:
    env = {**os.environ, "QWEN_DESK_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    cmd = [sys.executable, "-m", "qwen_desk", "add", "--json", str(path)]
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=str(home))
        peak, killed = 0, None
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            elapsed = time.monotonic() - started
            if peak > 3 * LIMIT_MB * 2**20 or elapsed > timeout_s:
                killed = "memory" if elapsed <= timeout_s else "timeout"
                _kill_tree(proc.pid)
                proc.wait()
                break
            time.sleep(0.1)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    results = []
    for line in stdout.splitlines():
        try:
            results.append(json.loads(line))
        except ValueError:
            pass
    return {
        "peak_mb": round(peak / 2**20, 1),
        "seconds": round(seconds, 2),
        "exit": proc.returncode,
        "killed": killed,
        "files": [
            {
                "name": Path(r.get("path", "")).name,
                "status": r.get("status"),
                "code": (r.get("error") or {}).get("code"),
                "chunks": r.get("chunks"),
            }
            for r in results
        ],
        "traceback": "Traceback" in stdout or "Traceback" in stderr,
        "stderr_tail": stderr.strip().splitlines()[-3:],
    }


def _kill_tree(pid: int) -> None:
    try:
        import psutil

        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
        for proc in procs:
            proc.kill()
    except Exception:
        os.kill(pid, 9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=sorted(INPUTS))
    parser.add_argument("--small", action="store_true", help="the cheap sizes of the tests")
    args = parser.parse_args()
    report: dict[str, Any] = {"limit_mb": LIMIT_MB, "small": args.small, "inputs": {}}
    for name in args.only or INPUTS:
        make, full, small = INPUTS[name]
        with tempfile.TemporaryDirectory(prefix=f"qd-mem-{name}-") as tmp:
            folder, home = Path(tmp) / "in", Path(tmp) / "home"
            folder.mkdir()
            home.mkdir()
            t0 = time.monotonic()
            path = make(folder, small if args.small else full)
            made = time.monotonic() - t0
            size = path.stat().st_size if path.is_file() and not path.is_symlink() else None
            result = run_add(path, home, TIME_BOUND_S[name] * 3)
            result.update(
                size_mb=round(size / 2**20, 2) if size else None,
                generated_s=round(made, 1),
                bound_s=TIME_BOUND_S[name],
                within_bound=result["seconds"] <= TIME_BOUND_S[name],
                under_limit=result["peak_mb"] <= LIMIT_MB,
            )
            report["inputs"][name] = result
            print(json.dumps({name: result}), file=sys.stderr, flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

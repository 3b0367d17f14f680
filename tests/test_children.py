"""Worker processes end with the process that started them, even one killed with SIGKILL: a kill -9'd crawl
or reparse leaves no orphaned pool workers behind (the reliability tests and the fault matrix kill -9 often)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

POOLS = {
    "file-text stage": "from scraper.extract.stage import FileTextStage\npool = FileTextStage(None, None, 2)._executor()",
    "parse pool": "from scraper.parse_pool import ParsePool\npool = ParsePool(2)._pool",
}


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")
@pytest.mark.parametrize("make", POOLS.values(), ids=POOLS.keys())
def test_pool_workers_die_with_a_killed_parent(make):
    code = f"{make}\nimport os\nfor _ in pool.map(os.getpgid, [0] * 8): pass\nprint('ready', flush=True)\nimport time\ntime.sleep(60)\n"
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        workers = [p for p in _children(proc.pid) if "python" in Path(f"/proc/{p}/cmdline").read_text(errors="replace")]
        assert len(workers) >= 2, workers  # the pool's workers (and the resource tracker) are running
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        end = time.monotonic() + 10
        while any(_alive(p) for p in workers) and time.monotonic() < end:
            time.sleep(0.1)
        assert not [p for p in workers if _alive(p)], "pool workers outlived their killed parent"
    finally:
        if proc.poll() is None:
            proc.kill()

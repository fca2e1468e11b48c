"""Importing a 100 MB venues register (584,000 rows): peak memory and time of `wangxun import-venues`.

    .venv/bin/python -m bench.import_venues [--rows 584000] [--compare-with DIR] [--keep]

Writes a venues CSV of `--rows` rows (about 180 bytes a row, Chinese names and addresses, half the
rows with a grid code and half placed by their point) in a temporary directory, loads the sample
district's grids into a fresh database and imports the file through the real command in a
subprocess, twice: into the empty table, then again (every row matched and unchanged). Each step
runs under a small wrapper process that reports `resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`,
so every figure is the peak RSS of that one command.

Baselines, in the same run and on the same file: pandas reading the file alone (`read_csv`, all
columns as text), and the old importer's first step alone (the whole file read, decoded and split
into rows with the csv module, which it then turned into dicts and ORM objects). `--compare-with DIR`
also imports the file with the code of another checkout (cwd and PYTHONPATH = DIR, its own fresh
database), e.g. the code before streaming (the commit before 0006):

    mkdir /tmp/before && git archive 90f194f~1 | tar -x -C /tmp/before
    .venv/bin/python -m bench.import_venues --compare-with /tmp/before

The target is a peak under 500 MB for the 584,000-row file; the run exits 1 when the import
exceeds it. On a 2-CPU machine with other work running (load average 2.8), 584,000 rows, 101.5 MiB:

    step                                              peak RSS       time
    baseline: pandas.read_csv alone                     515 MB      3.3 s
    baseline: whole-file read + csv (old 1st step)      843 MB      3.9 s
    import, code at the commit before 0006            3,490 MB    101.8 s
    import (streamed)                                   176 MB     63.4 s
    import again: every row unchanged                   193 MB     48.8 s
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE = PROJECT_ROOT / "grids" / "sample" / "data"
TARGET_MB = 500
WEST, SOUTH, EAST, NORTH = 120.545, 31.275, 120.655, 31.355  # inside the sample district's extent

# Runs the command given as its arguments, then prints its peak RSS (kB on Linux) and wall time.
_WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": done.returncode, "seconds": time.perf_counter() - t,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
                  "stdout": done.stdout[-2000:], "stderr": done.stderr[-2000:]}))
"""

_PANDAS_READ = "import pandas, sys; f = pandas.read_csv(sys.argv[1], dtype=str); print(len(f))"
_WHOLE_FILE_READ = (
    "import csv, io, sys; from pathlib import Path; "
    "rows = list(csv.reader(io.StringIO(Path(sys.argv[1]).read_bytes().decode('utf-8-sig')))); print(len(rows))"
)

BRANDS = ("网鱼", "星空", "极速", "蓝海", "金色年华", "天籁", "欢乐迪", "新华", "博文", "凤凰", "文渊", "彩虹", "鸿运")
KINDS = (
    ("网吧", "网咖"),
    ("歌舞娱乐", "KTV"),
    ("游艺", "电玩城"),
    ("书店与出版物零售", "书店"),
    ("印刷", "图文快印"),
    ("演出场所", "剧场"),
)
ROADS = ("平江路", "人民路", "干将西路", "十全街", "景德路", "阊胥路", "石路", "山塘街", "道前街", "临顿路", "东中市")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


def write_register(path: Path, rows: int, grid_codes: list[str]) -> None:
    rng = random.Random(584)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(
            [
                "名称",
                "类别",
                "许可证号",
                "有效期至",
                "地址",
                "经度",
                "纬度",
                "网格编码",
                "法定代表人",
                "联系电话",
                "状态",
            ]
        )
        for i in range(rows):
            category, word = rng.choice(KINDS)
            road = rng.choice(ROADS)
            out.writerow(
                [
                    f"{rng.choice(BRANDS)}{word}（{road}{i % 997}店）",
                    category,
                    f"32050800{i:07d}",
                    f"20{rng.randint(26, 30)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    f"江苏省苏州市姑苏区{road}{rng.randint(1, 999)}号{rng.randint(1, 30)}幢",
                    f"{rng.uniform(WEST, EAST):.6f}",
                    f"{rng.uniform(SOUTH, NORTH):.6f}",
                    rng.choice(grid_codes) if i % 2 else "",
                    rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                    f"0512-6{rng.randint(0, 9999999):07d}",
                    "营业",
                ]
            )


def measure(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    result["peak_mb"] = result["maxrss_kb"] / 1024
    return result


def database(code: Path, data_dir: Path) -> dict[str, str]:
    """A fresh database under data_dir with the sample district's grids, made by the code at `code`."""
    env = {
        **os.environ,
        "PYTHONPATH": str(code),
        "WANGXUN_CORE__DATA_DIR": str(data_dir),
        "WANGXUN_CORE__DATABASE_URL": f"sqlite:///{data_dir / 'wangxun.db'}",
    }
    for verb in (["init"], ["import-grids", str(SAMPLE / "district.geojson"), "--crs", "wgs84"]):
        subprocess.run([sys.executable, "-m", "core.cli", *verb], cwd=code, env=env, check=True, capture_output=True)
    return env


def report(label: str, r: dict, rows: int) -> None:
    rate = f"{rows / r['seconds']:,.0f} rows/s" if r["rc"] == 0 else f"exit {r['rc']}: {r['stderr'].strip()[-200:]}"
    print(f"{label:<46} {r['peak_mb']:>8,.0f} MB {r['seconds']:>8.1f} s   {rate}", flush=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="584,000 rows (~100 MB, the target size) instead of 100,000")
    ap.add_argument("--rows", type=int, help="rows in the register (overrides --full)")
    ap.add_argument("--compare-with", type=Path, help="another checkout whose import to measure on the same file")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (its path is printed)")
    a = ap.parse_args(argv)
    a.rows = a.rows or (584_000 if a.full else 100_000)
    tmp = Path(tempfile.mkdtemp(prefix="bench-import-venues-"))
    try:
        grid_codes = [
            f["properties"]["code"]
            for f in json.loads((SAMPLE / "district.geojson").read_text(encoding="utf-8"))["features"]
            if f["properties"]["level"] == "grid"
        ]
        register = tmp / "venues.csv"
        t = time.perf_counter()
        write_register(register, a.rows, grid_codes)
        print(
            f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
            f"register: {a.rows:,} rows, {register.stat().st_size / 2**20:,.1f} MiB (written in "
            f"{time.perf_counter() - t:.1f} s) in {tmp}",
            flush=True,
        )
        print(f"{'step':<46} {'peak RSS':>11} {'time':>10}", flush=True)
        python = sys.executable
        report("baseline: pandas.read_csv alone", measure([python, "-c", _PANDAS_READ, str(register)], tmp), a.rows)
        report(
            "baseline: whole-file read + csv (old 1st step)",
            measure([python, "-c", _WHOLE_FILE_READ, str(register)], tmp),
            a.rows,
        )
        command = [python, "-m", "core.cli", "import-venues", str(register), "--crs", "wgs84"]
        if a.compare_with:
            env = database(a.compare_with.resolve(), tmp / "old")
            report(f"import, code at {a.compare_with}", measure(command, a.compare_with.resolve(), env), a.rows)
        env = database(PROJECT_ROOT, tmp / "new")
        first = measure(command, PROJECT_ROOT, env)
        report("import (this checkout)", first, a.rows)
        again = measure(command, PROJECT_ROOT, env)
        report("import again: every row unchanged", again, a.rows)
        for r in (first, again):
            print(f"  {r['stdout'].strip()}")
        if first["rc"] or again["rc"]:
            return 1
        scale = 584_000 / a.rows
        verdict = "meets" if first["peak_mb"] < TARGET_MB else "MISSES"
        print(f"peak {max(first['peak_mb'], again['peak_mb']):,.0f} MB {verdict} the target of {TARGET_MB} MB", end="")
        print(f" (measured on {a.rows:,} rows; the target is for 584,000)" if scale != 1 else "")
        return 0 if max(first["peak_mb"], again["peak_mb"]) < TARGET_MB else 1
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

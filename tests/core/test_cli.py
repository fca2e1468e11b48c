"""Every entry point turns user mistakes into one line and a non-zero exit, never a traceback."""

import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "core.cli", "no-such-verb"],
        ["-m", "crawlers", "--no-such-option"],
        ["-m", "crawlers", "no_such_source"],
        ["-m", "jobs", "run", "no_such_task"],
    ],
)
def test_entry_points_report_user_mistakes_in_one_line(tmp_path, argv):
    env = {"WANGXUN_CORE__DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, *argv], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode != 0
    assert "Traceback" not in out.stderr, out.stderr
    assert out.stderr.strip(), "the mistake is explained"

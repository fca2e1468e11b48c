"""One vocabulary (#15 item 8): one name per status code, every name a message id pybabel extracts."""

import ast
import re
from collections.abc import Mapping
from pathlib import Path

from core import vocabulary

# Vocabularies where two codes may share a name on purpose (a field and its list form, two popups,
# two zones on one clock).
SHARED_NAMES_OK = {"AUDIT_FIELD", "PAGE", "ZONE_NAME", "EXPORT_FORMAT"}
STATUSES = ("HIT_STATUS", "CLUE_STATUS", "CLUE_OUTCOME", "JOB_RUN_STATUS")


def _vocabularies():
    return {n: m for n, m in vars(vocabulary).items() if n.isupper() and isinstance(m, Mapping)}


def test_a_name_means_one_code():
    for name, mapping in _vocabularies().items():
        if name in SHARED_NAMES_OK:
            continue
        seen: dict[str, str] = {}
        for code, text in mapping.items():
            assert text not in seen, f"{name}: {seen[text]!r} and {code!r} are both called {text!r}"
            seen[text] = code


def test_one_name_per_status_across_hits_clues_and_jobs():
    # 新发现 is a hit's "new"; 待处理 is an open clue's: never one status under both names.
    names: dict[str, set[str]] = {}
    for name in STATUSES:
        for code, text in getattr(vocabulary, name).items():
            names.setdefault(text, set()).add(code)
    assert {text: codes for text, codes in names.items() if len(codes) > 1} == {}
    assert vocabulary.HIT_STATUS["new"] == "新发现" and vocabulary.CLUE_STATUS["open"] == "待处理"


def test_every_chinese_name_is_wrapped_for_extraction():
    source = Path(vocabulary.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    wrapped = {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_" and node.args
    }
    for name, mapping in _vocabularies().items():
        for code, text in mapping.items():
            if re.search(r"[\u4e00-\u9fff]", text):
                assert text in wrapped, f"{name}[{code!r}] = {text!r} is not wrapped in N_()"

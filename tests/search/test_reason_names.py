"""Every reason code a detector can record has a Chinese name (core.vocabulary.REASON): the search
index holds the names, so a code without one could only be found by its English code."""

from __future__ import annotations

import ast

from core import reasons, vocabulary
from tests.conftest import PROJECT_ROOT


def _codes_recorded_by_detectors() -> set[str]:
    codes = set()
    for path in (PROJECT_ROOT / "detection").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and len(node.args) >= 3
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
            ):
                codes.add(node.args[1].value)
            if (  # speech_act.py: return "act_offer", f"…" (the speech act's reason)
                path.name == "speech_act.py"
                and isinstance(node, ast.Return)
                and isinstance(node.value, ast.Tuple)
                and len(node.value.elts) == 2
                and isinstance(node.value.elts[0], ast.Constant)
                and str(node.value.elts[0].value).startswith("act_")
            ):
                codes.add(node.value.elts[0].value)
    return codes


def test_every_detector_reason_code_has_a_name():
    codes = _codes_recorded_by_detectors()
    assert {"piracy_terms", "no_licence", "tour_product", "act_offer"} <= codes  # the scan sees the detectors' calls
    assert sorted(codes - set(vocabulary.REASON)) == []
    assert "盗版" in vocabulary.REASON["piracy_terms"]


def test_unique_lists_a_reason_found_in_title_and_text_once():
    piracy = {"label": "illegal_publication", "code": "piracy_terms", "text": "盗版/高仿：「高仿」"}
    sale = {"label": "illegal_publication", "code": "on_sale", "text": "售卖或提供：「38元」", "field": "text"}
    got = reasons.unique([{**piracy, "field": "title"}, {**piracy, "field": "text"}, sale, "旧的文字理由"])
    assert [(r.get("code"), r["fields"]) for r in got] == [
        ("piracy_terms", ["title", "text"]),
        ("on_sale", ["text"]),
        (None, []),
    ]
    assert reasons.codes([{**piracy, "field": "title"}, {**piracy, "field": "text"}, sale]) == [
        "piracy_terms",
        "on_sale",
    ]

"""`wangxun classify` end to end: input and output files, --agencies, bad input."""

import json

import pytest

from core.cli import main

POSTS = [
    {
        "id": "t1",
        "url": "https://example.invalid/1",
        "platform": "wechat",
        "source_name": "姑苏驴友户外",
        "title": "园林纯玩一日游",
        "text": "含大巴、门票、导游，168元/人，报名私信，许可证L-JS-CJ00017",
    },
    {
        "id": "t2",
        "url": "https://example.invalid/2",
        "platform": "wechat",
        "source_name": "苏州青旅",
        "title": "园林纯玩一日游",
        "text": "含大巴、门票、导游，168元/人，报名私信，许可证L-JS-CJ00017",
    },
    {
        "id": "p1",
        "url": "https://example.invalid/3",
        "platform": "shop",
        "source_name": "书摊",
        "title": "三体全集 A版",
        "text": "非原版 无防伪 29元包邮",
        "price": 29,
    },
    {
        "id": "n1",
        "url": "https://example.invalid/4",
        "platform": "note",
        "source_name": "吃货",
        "title": "苏州面馆推荐",
        "text": "枫镇大肉面人均30元",
    },
]


@pytest.fixture
def env(cfg, monkeypatch):
    monkeypatch.setenv("WANGXUN_CORE__DATA_DIR", str(cfg.data_dir))
    monkeypatch.setenv("WANGXUN_CORE__DATABASE_URL", "")
    return cfg


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_classify_with_agencies_writes_one_line_per_post(env, tmp_path):
    src = _write(tmp_path / "in.jsonl", [json.dumps(p, ensure_ascii=False) for p in POSTS])
    agencies = tmp_path / "agencies.csv"
    agencies.write_text(
        "name,license_no,address,lon,lat\n苏州中国青年旅行社有限公司,L-JS-CJ00017,十全街311号,120.63,31.29\n",
        encoding="utf-8",
    )
    out = tmp_path / "out" / "result.jsonl"
    main(["classify", str(src), "--agencies", str(agencies), "--out", str(out)])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["t1", "t2", "p1", "n1"]
    labels = {r["id"]: r["labels"] for r in rows}
    assert labels == {"t1": ["unlicensed_travel"], "t2": [], "p1": ["illegal_publication"], "n1": []}
    assert all(set(r) == {"id", "labels", "scores", "reasons", "location"} for r in rows)


def test_without_agencies_the_database_registry_is_used(env, tmp_path, capsys):
    src = _write(tmp_path / "in.jsonl", [json.dumps(POSTS[1], ensure_ascii=False)])
    main(["classify", str(src)])
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["labels"] == ["unlicensed_travel"]  # empty database registry: L-JS-CJ00017 is unknown


def test_bad_json_line_names_the_line_and_writes_nothing(env, tmp_path, capsys):
    src = _write(tmp_path / "in.jsonl", [json.dumps(POSTS[0], ensure_ascii=False), "{not json"])
    out = tmp_path / "out.jsonl"
    with pytest.raises(SystemExit) as exc:
        main(["classify", str(src), "--out", str(out)])
    assert exc.value.code != 0 and "line 2" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("nom,numero\nx,y\n", "header"),
        ("name,license_no,address,lon,lat\nA,,addr,1,2\n", "line 2"),
        ("name,license_no,address,lon,lat\nA,L-JS-00001,addr,east,2\n", "not a number"),
    ],
)
def test_bad_agencies_file_is_one_clear_error(env, tmp_path, capsys, content, message):
    src = _write(tmp_path / "in.jsonl", [json.dumps(POSTS[0], ensure_ascii=False)])
    agencies = tmp_path / "a.csv"
    agencies.write_text(content, encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["classify", str(src), "--agencies", str(agencies)])
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_gbk_agencies_file_is_read(env, tmp_path, capsys):
    src = _write(tmp_path / "in.jsonl", [json.dumps(POSTS[1], ensure_ascii=False)])
    agencies = tmp_path / "a.csv"
    agencies.write_bytes(
        "name,license_no,address,lon,lat\n苏州中国青年旅行社有限公司,L-JS-CJ00017,,,\n".encode("gb18030")
    )
    main(["classify", str(src), "--agencies", str(agencies)])
    assert json.loads(capsys.readouterr().out)["labels"] == []


def test_missing_input_file(env, tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["classify", str(tmp_path / "nope.jsonl")])
    assert "nope.jsonl" in capsys.readouterr().err


def test_many_posts_use_workers_and_keep_order(env, tmp_path):
    from detection import Detector
    from detection.cli import classify_many

    detector = Detector.from_records([])
    posts = [dict(POSTS[i % 4], id=str(i)) for i in range(1200)]
    serial = list(classify_many(detector, posts, workers=1))
    parallel = list(classify_many(detector, posts, workers=2))
    assert parallel == serial


@pytest.mark.parametrize(
    "line, message",
    [
        ('{"id": "x", "title": "t", "text": ["a", "list"]}', "line 2: field 'text' must be text, not list"),
        ('{"id": "x", "title": {"an": "object"}, "text": "t"}', "line 2: field 'title' must be text, not dict"),
        ('{"id": "x", "text": "t", "price": [1]}', "line 2: field 'price' must be a number, not list"),
        (
            '{"id": "x", "text": "t", "account_subject": {"a": 1}}',
            "line 2: field 'account_subject' must be text, not dict",
        ),
        ("[" * 100_000 + "]" * 100_000, "line 2: JSON nested too deeply"),
    ],
)
def test_a_post_of_the_wrong_shape_is_one_line_naming_it(env, tmp_path, capsys, line, message):
    src = _write(tmp_path / "in.jsonl", [json.dumps(POSTS[0], ensure_ascii=False), line])
    out = tmp_path / "out.jsonl"
    with pytest.raises(SystemExit) as exc:
        main(["classify", str(src), "--out", str(out)])
    err = capsys.readouterr().err
    assert exc.value.code != 0 and message in err and "Traceback" not in err and not out.exists()

"""移送外地 in the web app (#15 item 3): the triage page's form, the clue's history, the to-do list."""

from core import db
from tests.helpers import make_hit
from tests.webmap.conftest import PASSWORD, csrf_from, login
from webmap import create_app


def test_transfer_in_the_web_app_leaves_the_to_do_list_and_shows_on_the_clue(cfg, users_world):
    app = create_app({"TESTING": True}, config=cfg)
    with db.session_scope(cfg) as s:
        far = make_hit(s, None, None, "杭州西湖一日游 散客拼团", 120.15, 30.25).id
    client = app.test_client()
    login(client, "patrol", PASSWORD)
    assert f"/hits/{far}" in client.get("/clues").text  # waiting for triage
    page = client.get(f"/hits/{far}/triage").text
    assert "移送外地" in page
    r = client.post(
        f"/hits/{far}/transfer",
        data={"authority": "杭州市文化市场综合行政执法队", "note": "卖家在杭州", "csrf_token": csrf_from(page)},
    )
    assert r.status_code == 302 and "/clues/" in r.headers["Location"]
    clue_page = client.get(r.headers["Location"]).text
    assert "移送外地" in clue_page and "杭州市文化市场综合行政执法队" in clue_page and "已移送外地" in clue_page
    assert f"/hits/{far}" not in client.get("/clues").text  # no longer waiting
    assert "已移送外地：杭州市文化市场综合行政执法队" in client.get(f"/hits/{far}/triage").text
    login(client, "gm_own", PASSWORD)
    token = csrf_from(client.get("/clues").text)
    refused = client.post(
        f"/api/hits/{users_world.hit_own}/transfer", json={"authority": "x"}, headers={"X-CSRFToken": token}
    )
    assert refused.status_code == 403  # grid managers do not triage


def test_hits_outside_every_grid_are_listed_apart_from_the_district_layers(cfg, users_world):
    with db.session_scope(cfg) as s:
        far = make_hit(s, None, None, "杭州西湖一日游 散客拼团", 120.15, 30.25, location_name="杭州西湖").id
    client = create_app({"TESTING": True, "webmap.tile_provider": "none"}, config=cfg).test_client()
    login(client, "patrol", PASSWORD)
    page = client.get("/").text
    assert "辖区外或未定位的线索（1）" in page and f'/hits/{far}/triage"' in page and "杭州西湖" in page
    plotted = [row[0] for row in client.get("/api/hits").json["rows"]]
    assert far not in plotted and users_world.hit_own in plotted
    login(client, "gm_own", PASSWORD)
    assert "辖区外或未定位的线索" not in client.get("/").text

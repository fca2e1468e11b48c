"""One hit page (#15 item 7): /hits/<id> holds the text with its reasons marked, the seller and what the
registries say, place and grid, the evidence and its download, the actions and the clue's history;
the former /search/hits/<id> redirects to it."""

import re

from sqlalchemy import select

from core import db
from core.models import Grid, Hit, User
from hits import clues
from tests.helpers import make_hit
from tests.webmap.conftest import login
from webmap import create_app

REGISTRY = {
    "label": "unlicensed_travel",
    "code": "licence_held_by_other",
    "text": "许可证号登记在「某旅行社」名下，与发布者不符",
}
OFFER = {
    "label": "unlicensed_travel",
    "code": "tour_product",
    "text": "招揽组团旅游：「一日游」",
    "field": "title",
    "spans": [[3, 6]],
}


def test_one_page_holds_both_halves_and_the_clue(cfg, users_world):
    with db.session_scope(cfg) as s:
        s.get(Hit, users_world.hit_own).reasons = [OFFER, REGISTRY]
    client = create_app({"TESTING": True}, config=cfg).test_client()
    login(client, "patrol")
    page = client.get(f"/hits/{users_world.hit_own}").text
    assert "<h1>平江路<mark>低价一</mark>日游</h1>" in page  # the title with the reason's span marked
    reasons = page.split('id="reasons"')[1].split("</ul>")[0]
    assert "招揽组团旅游：「一日游」" in reasons and "许可证号" not in reasons
    seller = page.split('id="seller"')[1].split("</section>")[0]
    assert "许可证号登记在「某旅行社」名下" in seller  # the registry's outcome sits with the seller
    assert "平江一网格" in page and 'id="evidence"' in page and "下载证据包" in page
    # The hit is already a clue: its history is on the page, and no triage form.
    assert 'id="history"' in page and 'id="confirm-form"' not in page
    moved = client.get(f"/search/hits/{users_world.hit_own}")
    assert moved.status_code == 301 and moved.headers["Location"].endswith(f"/hits/{users_world.hit_own}#evidence")


def test_a_new_hit_offers_the_actions_to_patrol_only(cfg, users_world):
    with db.session_scope(cfg) as s:
        fresh = make_hit(s, s.get(Grid, users_world.grid_own), None, "新发现的一日游", 120.61, 31.31).id
    client = create_app({"TESTING": True}, config=cfg).test_client()
    login(client, "patrol")
    page = client.get(f"/hits/{fresh}").text
    for form in ("confirm-form", "dismiss-form", "transfer-form", "assign-form"):
        assert f'id="{form}"' in page, form
    login(client, "gm_own")
    page = client.get(f"/hits/{fresh}").text
    assert "待巡查人员研判" in page and 'id="confirm-form"' not in page and 'id="assign-form"' not in page
    with db.session_scope(cfg) as s:
        clues.dismiss_hit(s, fresh, s.scalar(select(User).where(User.username == "patrol")), "误报")
    assert "已排除：误报" in client.get(f"/hits/{fresh}").text
    with db.session_scope(cfg) as s:
        far = make_hit(s, None, None, "杭州一日游", 120.15, 30.25).id
        clues.transfer_hit(s, far, s.scalar(select(User).where(User.username == "patrol")), "杭州市执法队")
    login(client, "patrol")  # a hit outside every grid is the district's, not a grid manager's
    history = client.get(f"/hits/{far}").text.split('id="history"')[1].split("</table>")[0]
    assert "移送外地：接收单位 杭州市执法队" in history
    assert re.search(r'<td title="[^"]+ UTC">\d{4}-\d\d-\d\d \d\d:\d\d', history)  # local time, not raw ISO

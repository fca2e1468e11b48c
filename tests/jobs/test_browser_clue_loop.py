"""The clue loop from hit to case in a real browser: patrol triages, the grid manager inspects and files a case."""

import re
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from core import db
from core.chromium import BROWSER_ARGS
from core.models import Attachment, AuditLog, Clue, Inspection
from tests.conftest import CHROMIUM
from tests.jobs.conftest import PASSWORD

pytestmark = pytest.mark.browser
TIMEOUT_MS = 30_000


@pytest.fixture
def live(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(BROWSER_ARGS))
        yield b
        b.close()


def _login(browser, live, username):
    page = browser.new_context(locale="zh-CN").new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{live}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"^(?!.*/login).*$"))
    return page


def test_clue_loop_in_the_browser(cfg, app, world, live, browser, tmp_path):
    patrol = _login(browser, live, "patrol")
    patrol.goto(f"{live}/clues")  # the task page lists new hits waiting for triage
    patrol.click(f"#new-hits a[href$='/hits/{world['hit']}/triage']")
    patrol.fill("#confirm-form textarea[name=note]", "疑似无证经营出境游")
    patrol.click("#confirm-form button[type=submit]")
    patrol.wait_for_url(re.compile(r"/clues/\d+$"))
    clue_id = int(patrol.url.rsplit("/", 1)[1])
    assert "平江一网格" in patrol.text_content("body")  # routed by the hit's location

    gm = _login(browser, live, "gm_own")
    gm.goto(f"{live}/clues")
    gm.click(f"tr[data-clue='{clue_id}'] a")
    gm.click("#start-form button[type=submit]")
    gm.wait_for_selector("text=已开始核查")
    photo = tmp_path / "现场.png"
    photo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"scene" * 50)
    gm.select_option("#inspection-form select[name=result]", "立案查处")
    gm.fill("#inspection-form textarea[name=violations]", "未经许可经营出境旅游业务")
    gm.fill("#inspection-form input[name=penalty]", "30000")
    gm.set_input_files("#inspection-form input[name=photos]", str(photo))
    gm.click("#inspection-form button[type=submit]")
    gm.wait_for_selector("#inspection")
    gm.select_option("#close-form select[name=outcome]", "case")
    gm.fill("#close-form input[name=case_no]", "苏姑文执罚〔2026〕9号")
    gm.click("#close-form button[type=submit]")
    gm.wait_for_selector("#case-no")
    assert gm.text_content("#case-no") == "苏姑文执罚〔2026〕9号"
    assert "已办结" in gm.text_content("#clue-status")
    assert gm.locator("#history tbody tr").count() == 4

    with db.session_scope(cfg) as s:
        clue = s.get(Clue, clue_id)
        assert (clue.status, clue.outcome, clue.history[0]["routed"]) == ("closed", "case", "location")
        inspection = s.get(Inspection, clue.inspection_id)
        assert inspection.result == "立案查处" and inspection.clue_id == clue_id
        assert s.scalar(select(Attachment).where(Attachment.inspection_id == inspection.id)).filename == "现场.png"
        actions = {
            a.action
            for a in s.scalars(
                select(AuditLog).where(AuditLog.object_type == "clue", AuditLog.object_id == str(clue_id))
            )
        }
        assert {"confirm", "start", "inspect", "close"} <= actions

"""主题搭建 in a real browser: a department user builds a theme from scratch — a yes/no question, a field shown
only on “yes”, a repeat group —, previews it, fixes the error the builder shows next to the field, and
publishes it; a grid worker then reports with the generated form on a phone, the server refuses a submission
that breaks the condition, and the case runs through the workflow onto the map. The screenshots are the ones
docs/builder.md shows."""
import os
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from minqing.core.models import Case

KEY = "urban_management.manhole_patrol"
# Screenshots for docs/builder.md: written there with MINQING_DOC_SCREENSHOTS=1, else into a scratch folder, so
# a test run does not rewrite the committed pictures.
DOCS_IMG = (Path(__file__).resolve().parents[3] / "docs" / "img" if os.environ.get("MINQING_DOC_SCREENSHOTS")
            else Path(tempfile.gettempdir()) / "minqing-screenshots")
TOP_LEVEL = "#panel-fields .field-tree > .field-list > ol > li"


def shot(page, name: str, locator=None, full_page: bool = True) -> None:
    """<DOCS_IMG>/builder-<name>.png: the page, or one part of it cut from the whole page as it lies (scrolled to
    the top first, so the sticky bar is where it belongs and does not cover the part)."""
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    path = str(DOCS_IMG / f"builder-{name}.png")
    if locator is None:
        page.screenshot(path=path, full_page=full_page)
        return
    page.mouse.wheel(0, -100_000)
    page.wait_for_timeout(200)
    box = locator.bounding_box()
    page.screenshot(path=path, full_page=True, clip=box)


def opened(open_page, phone: bool = False):
    """A fresh browser context, patient enough for a loaded machine (the first report builds the grid locator)."""
    page, requested = open_page(phone=phone)
    page.set_default_timeout(45_000)
    return page, requested


def card(page, pointer: str):
    return page.locator(f"li.field-card[data-pointer='{pointer}']")


def add_field(page, label: str, kind: str, name: str, within=None):
    """Add a field at the top level (or inside the group card `within`), give it a label, type and name."""
    before = page.locator("li.field-card").count()
    if within is None:
        page.click("#panel-fields .field-tree > .field-list > button.add-field")
    else:
        within.locator(":scope > .children > .field-list > button.add-field").click()
    assert page.locator("li.field-card").count() == before + 1
    new = (page.locator(TOP_LEVEL) if within is None else within.locator(":scope > .children > .field-list > ol > li")).last
    pointer = new.get_attribute("data-pointer")
    new.locator(".field-label-input").first.fill(label)
    new.locator("select.field-type").first.select_option(kind)
    renamed = pointer.rsplit("/", 1)[0] + "/" + name
    card(page, pointer).locator("input.field-name").first.fill(name)
    card(page, pointer).locator("input.field-name").first.press("Tab")
    return card(page, renamed)


def save_draft(page) -> str:
    page.click("#save-draft")
    expect(page.locator("#save-status")).to_contain_text("已保存草稿")
    return page.locator("#save-status").inner_text()




def only_local(requested: list[str]) -> bool:
    return all(urlparse(url).hostname in ("127.0.0.1", None) or url.startswith(("data:", "blob:"))
               for url in requested)


def test_a_department_builds_and_publishes_a_theme_and_a_grid_worker_uses_it(server, open_page, sign_in,
                                                                             close_the_loop, platform, tmp_path):
    page, requested = opened(open_page)
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, "chengguan")
    page.goto(f"{server}/builder/")
    page.click("#new-theme")
    page.fill("#title", "井盖巡查")
    page.fill("#slug", "manhole_patrol")
    shot(page, "new")
    page.click("#create")
    page.wait_for_url(f"**/builder/{KEY}/")
    page.wait_for_selector("li.field-card")
    # The report page always requires the place (a case needs a point on the map): the list says so too
    place = page.locator("li.field-card:has(.field-head .tag:text-is('位置'))").first
    assert place.locator(".field-head .tag.red", has_text="必填").count() == 1

    # The fields: a yes/no question, a text shown only on “yes” (required then), a repeat group of covers.
    has_damage = add_field(page, "井盖是否破损", "yesno", "has_damage")
    has_damage.locator("label.check:has-text('必填') input").check()
    damage = add_field(page, "破损情况", "text", "damage")
    damage.locator("select.condition-source").select_option("has_damage")
    damage.locator("select.condition-value").select_option("true")
    damage.locator("label.check:has-text('必填') input").check()
    damage.locator("input.limit-minLength").fill("5")
    damage.locator("input.limit-maxLength").fill("2")          # a mistake: at most 2 but at least 5
    severity = add_field(page, "破损程度", "single", "severity")
    severity.locator("textarea.options-input").fill("1 轻微\n2 严重\n危及安全")   # pasted, one per line
    severity.locator("textarea.options-input").press("Tab")
    expect(card(page, "/forms/report/properties/severity").locator("textarea.options-input")).to_have_value(
        "1 轻微\n2 严重\n3 危及安全")                                           # the last one got the next code
    covers = add_field(page, "井盖清单", "repeat", "covers")
    number = add_field(page, "井盖编号", "text", "number", within=covers)
    number.locator("label.check:has-text('必填') input").check()
    # Keyboard-accessible reordering: the group moves up above the conditional field and back down.
    covers.locator(":scope > .field-head button.move-up").click()
    assert page.locator(TOP_LEVEL).last.get_attribute("data-name") == "severity"
    card(page, "/forms/report/properties/covers").locator(":scope > .field-head button.move-down").click()
    assert page.locator(TOP_LEVEL).last.get_attribute("data-name") == "covers"
    # … and by dragging: 破损程度 dropped onto 破损情况 goes before it (both folded, clear of the sticky bar).
    for name in ("damage", "severity"):
        settings = card(page, f"/forms/report/properties/{name}").locator(":scope > details.field-settings")
        if settings.get_attribute("open") is not None:
            settings.locator(":scope > summary").click()
    target = card(page, "/forms/report/properties/damage").locator(":scope > .field-head")
    target.scroll_into_view_if_needed()
    page.mouse.wheel(0, -250)
    page.wait_for_timeout(200)
    card(page, "/forms/report/properties/severity").locator(":scope > .field-head .drag").drag_to(target)
    order = [item.get_attribute("data-name") for item in page.locator(TOP_LEVEL).all()]
    assert order[-4:] == ["has_damage", "severity", "damage", "covers"], order

    # A category, routed to the theme's own department.
    page.click("#panel-categories summary")
    page.click("button.add-category")
    page.fill("#category-fields .category-parent", "井盖")
    page.fill("#category-fields .category-code", "0901")
    page.fill("#category-fields .category-title", "井盖破损")

    # The builder shows the mistake next to the field that causes it; the publish button refuses.
    status = save_draft(page)
    assert "问题" in status
    damage_problems = card(page, "/forms/report/properties/damage").locator(":scope > ul.problems li")
    assert damage_problems.count() >= 1 and "最少字数" in damage_problems.first.inner_text()
    shot(page, "problem", card(page, "/forms/report/properties/damage"))
    page.click("#publish")
    expect(page.locator("#save-status")).to_contain_text("改正后才能发布")
    damage = card(page, "/forms/report/properties/damage")
    damage.locator("input.limit-maxLength").fill("200")

    # Workflow: a shorter time limit for handling, the diagram redrawn after saving.
    page.click("#panel-workflow summary")
    page.fill("input[aria-label='处置中 一般']", "24")
    page.click("#panel-layer summary")
    page.wait_for_selector("#layer-map[data-sample-geometry=point]")
    status = save_draft(page)
    assert "检查通过" in status
    assert card(page, "/forms/report/properties/damage").locator(":scope > ul.problems li").count() == 0
    page.wait_for_selector("#workflow-diagram[src*='t=']")
    shot(page, "workflow", page.locator("#panel-workflow"))
    shot(page, "layer", page.locator("#panel-layer"))
    shot(page, "categories", page.locator("#panel-categories"))
    page.reload()                      # as a person comes back to it: every field folded, in its order
    assert page.locator(TOP_LEVEL).last.get_attribute("data-name") == "covers"
    card(page, "/forms/report/properties/damage").locator(":scope > details.field-settings > summary").click()

    # The preview is the form a grid worker sees; a trial submission shows the server's messages.
    preview = page.frame_locator("#preview-frame")
    preview.locator("input[name='details-has_damage']").first.wait_for()
    assert preview.locator("[name='details-damage']").is_hidden()
    preview.locator("input[name='details-has_damage']").first.check()
    assert preview.locator("[name='details-damage']").is_visible()
    preview.locator("input[name=title]").fill("试填")
    preview.locator("input[name='details-location-lon']").fill("103.83")
    preview.locator("input[name='details-location-lat']").fill("36.05")
    preview.locator("textarea[name='details-description'], input[name='details-description']").fill("试填说明")
    preview.locator("form button.mq-submit").click()
    preview.locator(".mq-error-summary, .mq-errors, [role=alert]").first.wait_for()
    assert "破损情况" in preview.locator("body").inner_text()
    preview.locator("[name='details-damage']").fill("井盖碎裂，有塌陷风险")
    preview.locator("form button.mq-submit").click()
    preview.locator("#preview-result").wait_for()
    page.mouse.wheel(0, page.locator("#panel-fields").bounding_box()["y"] - 70)
    page.wait_for_timeout(200)
    shot(page, "editor-desktop", full_page=False)

    page.click("#publish")
    expect(page.locator("#save-status")).to_contain_text("已发布第 1 版")
    with platform.db.session() as session:
        assert session.scalar(select(Case.id)) is None    # the preview stored nothing

    # A second version: one more field; the versions page says who published what, and what changed.
    add_field(page, "联系电话", "mobile", "phone")
    page.click("#publish")
    expect(page.locator("#save-status")).to_contain_text("已发布第 2 版")
    page.click("#versions-link")
    expect(page.locator("#diff-added")).to_contain_text("联系电话")
    shot(page, "versions")
    page.goto(f"{server}/builder/")
    shot(page, "list")

    # A phone-sized look at the editor, for the guide.
    phone_editor, _ = opened(open_page, phone=True)
    sign_in(phone_editor, "chengguan")
    phone_editor.goto(f"{server}/builder/{KEY}/")
    phone_editor.wait_for_selector("li.field-card")
    phone_editor.mouse.wheel(0, phone_editor.locator("#panel-fields").bounding_box()["y"] - 10)
    phone_editor.wait_for_timeout(200)
    shot(phone_editor, "editor-phone", full_page=False)
    phone_editor.locator("#preview-frame").scroll_into_view_if_needed()
    phone_editor.frame_locator("#preview-frame").locator("input[name=title]").wait_for()
    shot(phone_editor, "preview-phone", full_page=False)

    worker_report(server, open_page, sign_in, close_the_loop, platform, tmp_path)
    assert only_local(requested)


def worker_report(server, open_page, sign_in, close_the_loop, platform, tmp_path):
    worker, requested = opened(open_page, phone=True)
    sign_in(worker, "worker")
    worker.goto(f"{server}/work/report")
    worker.click(f"a[data-theme='{KEY}']")
    worker.wait_for_selector("input[name=title]")
    worker.wait_for_load_state("load")  # forms.js has run: conditional fields are hidden
    damage = worker.locator("[name='details-damage']")
    assert damage.is_hidden()
    yes, no = (f"input[name='details-has_damage'][value='{value}']" for value in ("true", "false"))
    worker.check(yes)  # the theme's UI makes the yes/no a pair of radio buttons
    assert damage.is_visible()
    worker.check(no)
    assert damage.is_hidden()

    # Without the browser's help: the same form posted by a second request, “yes” but no 破损情况.
    form = worker.locator("main form")
    action = form.get_attribute("action")
    fields = {"csrf_token": worker.locator("input[name=csrf_token]").first.input_value(), "title": "井盖破损",
              "category": "0901", "urgency": "normal",
              "details-location-lon": "103.83", "details-location-lat": "36.05", "details-description": "井盖碎裂",
              "details-covers-0-number": "JG-001"}
    fields["details-has_damage"] = worker.locator(yes).get_attribute("value")
    refused = worker.context.request.post(f"{server}{action}", form=fields)
    assert refused.status == 400 and "破损情况" in refused.text()
    with platform.db.session() as session:
        assert session.scalar(select(Case.id)) is None

    worker.fill("input[name=title]", "井盖破损")
    worker.fill("input[name='details-location-lon']", "103.83")
    worker.fill("input[name='details-location-lat']", "36.05")
    worker.fill("textarea[name='details-description'], input[name='details-description']", "张掖路井盖碎裂")
    worker.check(yes)
    worker.fill("[name='details-damage']", "井盖碎裂，有塌陷风险")
    worker.fill("input[name='details-covers-0-number']", "JG-001")
    worker.select_option("select[name='details-severity']", "2")
    shot(worker, "report-phone")
    worker.click("main form button.mq-submit")
    worker.wait_for_url("**/work/cases/*")
    case_url = worker.url
    with platform.db.session() as session:
        case = session.scalar(select(Case))
        assert case.theme_key == KEY and case.form_data["damage"] == "井盖碎裂，有塌陷风险"
        assert case.workflow_key == KEY     # the theme's own workflow, with the time limits edited above
        assert case.form_data["covers"] == [{"number": "JG-001"}] and case.form_data["severity"] == "2"

    photo = tmp_path / "处置.jpg"
    Image.new("RGB", (64, 48), (30, 140, 90)).save(photo, format="JPEG")
    close_the_loop(case_url, worker, photo, "已更换井盖")
    with platform.db.session() as session:
        assert session.scalar(select(Case.status)) == "closed"

    station, _ = opened(open_page)
    sign_in(station, "station")
    station.goto(f"{server}/map/")
    station.wait_for_selector("#map[data-cases-in-view='1']")   # in a circle at the city's zoom
    station.wait_for_selector("#layer-groups .layer-item", state="attached")
    station.fill("#layer-search", "井盖巡查")            # the layer list, grouped by department, searched
    overlays = station.locator("#layer-groups .layer-item:visible").all_inner_texts()
    assert any("井盖巡查" in label for label in overlays), overlays
    cases = station.context.request.get(f"{server}/map/cases.geojson?bbox=103.7,35.9,104.1,36.2").json()
    assert [feature["properties"]["theme"] for feature in cases["features"]] == [KEY]
    # ... and on the new theme's own layer, switched on in the layer list like any department's
    station.locator("#layer-groups .layer-item", has_text="井盖巡查").locator("input").check()
    layer = station.context.request.get(f"{server}/map/layers/{KEY}.geojson").json()
    on_layer = [feature for feature in layer["features"] if feature["properties"].get("kind") == "case"]
    assert [(feature["properties"]["case_id"], feature["properties"]["status"]) for feature in on_layer] == [
        (cases["features"][0]["id"], "closed")]
    assert only_local(requested)



"""Browser suite: a real Chromium (Debian's package) driven by Playwright against a demo server."""
import os
import tempfile

import pytest
from playwright.sync_api import expect

from portal import BASE, cli, login, server_data, submit_german_demand


def submit_demand(page, instrument, authority, role, reference, categories, emergency_statement=None, pdf_note=b"% browser test", filename="instrument.pdf"):
    """Fills the agency portal's demand form for alice@example.com and submits it; returns the case number."""
    page.goto(f"{BASE}/agency/demands/new")
    page.select_option("#instrument", instrument)
    page.fill("#jurisdiction", "US")
    page.fill("#authorityName", authority)
    page.select_option("#authorityRole", role)
    page.fill("#caseReference", reference)
    page.select_option("#targetType", "email")
    page.fill("#targetValue", "alice@example.com")
    for category in categories:
        page.check(f"input[value={category}]")
    if emergency_statement is not None:
        page.check("input[name=emergency]")
        page.fill("#emergencyStatement", emergency_statement)
    pdf = os.path.join(tempfile.mkdtemp(), filename)
    with open(pdf, "wb") as f:
        f.write(b"%PDF-1.4\n" + pdf_note + b"\n%%EOF\n")
    page.set_input_files("#document", pdf)
    page.click("text=Submit demand")
    expect(page.locator(".flash")).to_contain_text("Demand received as case")
    return page.locator(".flash").inner_text().split("case ")[-1].strip()


def test_staff_sees_queue_and_opens_a_case(browser):
    page = browser.new_page()
    login(page, "staff", "reviewer@provider.example", "custos-demo-staff")
    expect(page.locator("h1")).to_have_text("Case queue")
    rows = page.locator("#queue tbody tr")
    assert rows.count() >= 10
    # emergencies first
    expect(rows.first).to_contain_text("emergency")
    rows.first.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text("Case C-")
    expect(page.locator("#timeline")).to_contain_text("demand.received")
    expect(page.locator("#actions")).to_contain_text("Begin Review")
    # The rulebook's assessment: an emergency request under 18 U.S.C. § 2702 is voluntary only.
    expect(page.locator("#verdicts")).to_contain_text("voluntary")
    expect(page.locator("#flags")).to_contain_text("emergency_voluntary_only")
    expect(page.locator("#notice")).to_contain_text("after the emergency is over")


def test_wrong_password_is_refused(browser):
    page = browser.new_page()
    login(page, "staff", "reviewer@provider.example", "wrong-password")
    expect(page.locator(".error")).to_contain_text("wrong")


def test_agency_submits_pdf_and_staff_sees_it(browser):
    agency = browser.new_page()
    login(agency, "agency", "officer@fbi-seattle.example", "custos-demo-agency")
    expect(agency.locator("h1")).to_contain_text("Demands of FBI Seattle Field Office")
    agency.click("text=Submit a new demand")
    expect(agency.locator("h1")).to_have_text("Submit a demand")
    number = submit_demand(agency, "us.subpoena", "Grand Jury, W.D. Wash.", "prosecutor", "BROWSER-0001", ["subscriber_info", "content"],
                           filename="subpoena.pdf")
    expect(agency.locator("#demands")).to_contain_text("BROWSER-0001")

    staff = browser.new_page()
    login(staff, "staff", "intake@provider.example", "custos-demo-staff")
    staff.select_option("#instrument", "us.subpoena")
    staff.click("text=Filter")
    expect(staff.locator("#queue")).to_contain_text(number)
    staff.click(f"text={number}")
    expect(staff.locator("h1")).to_contain_text(number)
    expect(staff.locator("body")).to_contain_text("subpoena.pdf")
    # Staff see what the law compels: a subpoena reaches subscriber information, never content.
    expect(staff.locator('#verdicts tr[data-category="subscriber_info"]')).to_contain_text("allowed")
    expect(staff.locator('#verdicts tr[data-category="content"]')).to_contain_text("denied")
    expect(staff.locator('#verdicts tr[data-category="content"]')).to_contain_text("us.subpoena.content")
    expect(staff.locator("#deadlines")).to_contain_text("production")
    expect(staff.locator("body")).to_contain_text("Due (legal deadline)")


def test_agency_form_names_missing_fields(browser):
    page = browser.new_page()
    login(page, "agency", "officer@fbi-seattle.example", "custos-demo-agency")
    page.goto(f"{BASE}/agency/demands/new")
    page.click("text=Submit demand")
    expect(page.locator(".error")).to_contain_text("caseReference")


def test_customer_reads_a_notice_and_consents(browser):
    page = browser.new_page()
    login(page, "customer", "legal@northwind.example", "custos-demo-customer")
    expect(page.locator("h1")).to_contain_text("Demands concerning Northwind Traders")
    card = page.locator("div.card[data-case]").filter(has=page.locator("form.answer")).first
    expect(card).to_contain_text("Copy of the demand")
    number = card.get_attribute("data-case")
    # the copy of the demand downloads
    with page.expect_download() as download:
        card.locator("a[href^='/customer/documents/']").first.click()
    assert download.value.suggested_filename.endswith(".pdf")
    card.locator("input[value=consent]").check()
    card.locator("textarea").fill("Please disclose only what the warrant names.")
    card.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("your answer is recorded")
    answered = page.locator(f"div.card[data-case='{number}']")
    expect(answered.locator(".answered")).to_contain_text("We consent to the disclosure")
    expect(answered.locator("form.answer")).to_have_count(0)


def test_customer_objects_with_a_document_and_staff_see_it_in_challenge_review(browser, tmp_path):
    evidence = tmp_path / "account-closed.pdf"
    evidence.write_bytes(b"%PDF-1.4\n% the account was closed in 2025\n%%EOF\n")
    page = browser.new_page()
    login(page, "customer", "legal@mueller-mb.example", "custos-demo-customer")
    expect(page.locator("h1")).to_contain_text("Müller Maschinenbau GmbH")
    card = page.locator("div.card[data-case]").filter(has=page.locator("form.answer")).first
    number = card.get_attribute("data-case")
    card.locator("input[value=object]").check()
    card.locator("textarea").fill("The account named was closed before the period in question.")
    card.locator("input[type=file]").set_input_files(str(evidence))
    card.locator("button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("your answer is recorded")
    expect(page.locator(f"div.card[data-case='{number}'] .answered")).to_contain_text("account-closed.pdf")

    staff = browser.new_page()
    login(staff, "staff", "reviewer@provider.example", "custos-demo-staff")
    staff.goto(f"{BASE}/staff/queue?attention=challenge_review")
    expect(staff.locator("#challenge-review-count")).to_be_visible()
    staff.locator(f"tr[data-case='{number}'] a").first.click()
    expect(staff.locator("body")).to_contain_text("from the customer: account-closed.pdf")
    with staff.expect_download() as download:
        staff.locator("a[href^='/staff/attachments/']").first.click()
    assert download.value.suggested_filename == "account-closed.pdf"


def test_agency_downloads_the_released_package_and_it_verifies_with_openssl(browser, tmp_path):
    """Issue 5's "done when": the demo's released case has a signed package; the requester downloads
    it once through the portal, and stock OpenSSL verifies manifest.sig over manifest.json."""
    import subprocess
    import urllib.request
    import zipfile

    agency = browser.new_page()
    login(agency, "agency", "officer@fbi-seattle.example", "custos-demo-agency")
    link = agency.locator("a[href$='/package']").first
    expect(link).to_be_visible()
    with agency.expect_download() as info:
        link.click()
    download = info.value
    package = tmp_path / "package.zip"
    download.save_as(package)
    with zipfile.ZipFile(package) as z:
        names = z.namelist()
        assert {"manifest.json", "manifest.sig", "cover-letter.html"} <= set(names)
        assert any(n.startswith("records/") for n in names)
        (tmp_path / "manifest.json").write_bytes(z.read("manifest.json"))
        (tmp_path / "manifest.sig").write_bytes(z.read("manifest.sig"))
    key = tmp_path / "signing-key.pem"
    key.write_bytes(urllib.request.urlopen(f"{BASE}/.well-known/custos/signing-key.pem").read())
    ok = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(key), "-rawin",
                         "-in", str(tmp_path / "manifest.json"), "-sigfile", str(tmp_path / "manifest.sig")],
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "Signature Verified Successfully" in ok.stdout, ok.stdout + ok.stderr
    # the download is on record for staff, with the bytes the officer received
    staff = browser.new_page()
    login(staff, "staff", "reviewer@provider.example", "custos-demo-staff")
    staff.goto(BASE + download.url.replace(BASE, "").replace("/agency/", "/staff/").rsplit("/package", 1)[0])
    expect(staff.locator("#timeline")).to_contain_text("package.downloaded")
    expect(staff.locator("#timeline")).to_contain_text(str(package.stat().st_size))


def test_customer_downloads_a_log_proof_that_checks_offline(browser, tmp_path):
    """issue 6: the portal hands out a tlog-proof for a published demand; `custos log check-proof`
    accepts it with the key the server publishes and shows the customer's own account, nothing else."""
    import subprocess
    import urllib.request
    page = browser.new_page()
    login(page, "customer", "legal@northwind.example", "custos-demo-customer")
    link = page.locator("p.log-proof a").first
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    proof = tmp_path / "demand.tlog-proof"
    download.value.save_as(proof)
    assert proof.read_text().startswith("c2sp.org/tlog-proof@v1\nextra ")
    key = urllib.request.urlopen(f"{BASE}/log/legal-process/key", timeout=10).read().decode().strip()
    binary = os.environ.get("CUSTOS_BIN", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "custos"))
    checked = subprocess.run([binary, "log", "check-proof", str(proof), "--key", key], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    assert "OK: entry" in checked.stdout and "opened subject/0:" in checked.stdout
    assert "northwind" in checked.stdout.lower() or "acct" in checked.stdout.lower()
    # one altered byte in the proof's path and it no longer checks
    lines = proof.read_text().split("\n")
    index_line = next(i for i, line in enumerate(lines) if line.startswith("index "))
    if lines[index_line + 1]:
        first = lines[index_line + 1]
        lines[index_line + 1] = ("B" if first[0] != "B" else "C") + first[1:]
        (tmp_path / "bad.tlog-proof").write_text("\n".join(lines))
        bad = subprocess.run([binary, "log", "check-proof", str(tmp_path / "bad.tlog-proof"), "--key", key], capture_output=True, text=True, timeout=60)
        assert bad.returncode == 1


def test_public_transparency_report_draws_its_charts_and_offers_every_export(browser):
    import csv
    import io
    from PIL import Image

    page = browser.new_page()  # nobody signed in: the report is public
    page.goto(f"{BASE}/transparency")
    expect(page.locator("h1")).to_contain_text("Transparency report")
    # The previous half-year has the demo's imported history in every chart.
    page.locator("#periods a").first.click()
    expect(page.locator("#periods [aria-current=page]")).to_be_visible()
    accent = {(0x1D, 0x4F, 0x91), (0x4F, 0x86, 0xC6), (0x9A, 0xB8, 0xDE), (0xA3, 0x26, 0x1B)}
    for chart in ["#chart-countries svg", "#chart-outcomes svg", "#chart-trend svg"]:
        box = page.locator(chart).bounding_box()
        assert box["width"] >= 300 and box["height"] >= 100, chart
        image = Image.open(io.BytesIO(page.locator(chart).screenshot())).convert("RGB")
        painted = sum(count for count, rgb in image.getcolors(maxcolors=1 << 20) if rgb in accent)
        assert painted > 1500, f"{chart}: only {painted} pixels of bar colour"
    # Accessible tables: a caption, column headers, the TOTAL row first as a row header.
    first_row = page.locator("#section-criminal tbody tr").first
    expect(first_row.locator("th[scope=row]")).to_have_text("TOTAL")
    assert page.locator("#section-criminal thead th[scope=col]").count() == 8
    # National-security process only as bands; the DSA table names Member States' orders.
    expect(page.locator("#national-security tbody tr").first.locator("td").first).to_have_text("0 - 499")
    assert page.locator("#dsa tbody tr").count() >= 1
    # Every export downloads; the LERR file starts with its contract header and the TOTAL row.
    links = page.locator("#downloads a")
    assert links.count() == 7
    with page.expect_download() as download:
        links.first.click()
    with open(download.value.path()) as f:
        rows = list(csv.reader(f))
    assert rows[0][:4] == ["Country/Region", "Code", "Requests", "Accounts"] and rows[1][:2] == ["TOTAL", "ALL"]
    assert int(rows[1][2]) > 0
    with page.expect_download() as download:
        links.nth(4).click()
    with open(download.value.path()) as f:
        assert f.read().startswith("Applicability,Service,Reporting period,")  # the DSA template's Part 3
    with page.expect_download() as download:
        links.nth(5).click()
    with open(download.value.path()) as f:
        assert f.read().startswith("{")
    with page.expect_download() as download:
        links.last.click()
    with open(download.value.path()) as f:
        html = f.read()
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 3


def test_drill_a_forged_emergency_request_is_never_released(browser):
    """Issue 8's drill: a requester on a look-alike domain (holding an account of the FBI office and
    the emergency permission, as a hijacked account would) sends an urgent request; staff see the
    red flags, the directory's number does not confirm it, and release is never offered."""
    if not server_data():
        pytest.skip("needs CUSTOS_SERVER_DATA_DIR, the demo server's data folder (scripts/test sets it)")
    email = "duty.officer@fbi-seatt1e.example"
    added = cli("user", "add", "--email", email, "--kind", "agency", "--agency", "FBI Seattle Field Office", stdin="forged-but-long-password\n")
    assert added.returncode == 0, added.stderr
    allowed = cli("user", "standing", "--email", email, "--set", "active", "--emergency", "allow",
                  "--reason", "drill: a hijacked account that was allowed emergencies")
    assert allowed.returncode == 0, allowed.stderr

    forger = browser.new_page()
    login(forger, "agency", email, "forged-but-long-password")
    number = submit_demand(forger, "us.emergency_2702", "FBI Seattle", "police", "DRILL-EDR-0001", ["subscriber_info"],
                           emergency_statement="URGENT!! Failure to comply immediately could result in loss of life.", pdf_note=b"% forged")

    staff = browser.new_page()
    login(staff, "staff", "intake@provider.example", "custos-demo-staff")
    staff.select_option("#instrument", "us.emergency_2702")
    staff.click("text=Filter")
    staff.click(f"text={number}")
    facts = staff.locator("body")
    expect(facts).to_contain_text("Red flag: Look-alike domain")
    expect(facts).to_contain_text("fbi-seatt1e.example imitates fbi-seattle.example")
    expect(facts).to_contain_text("Red flag: Urgency without specifics")
    # The checklist: the hijacked account has a second factor, but its address is not the agency's.
    expect(staff.locator('#checklist tr[data-check="second_factor"] .verdict')).to_have_text("passed")
    expect(staff.locator('#checklist tr[data-check="sender_domain"] .verdict')).to_have_text("failed")
    expect(staff.locator('#checklist tr[data-check="sender_domain"]')).to_contain_text("fbi-seatt1e.example")
    expect(staff.locator('#checklist tr[data-check="supervisor_confirmation"] .verdict')).to_have_text("open")
    expect(facts).to_contain_text("blocked: an emergency release needs a confirmed callback on a number from the agency directory")
    # The callback form offers only the directory's number, never one from the request.
    form = staff.locator("form:has(input[value=record_callback])")
    options = form.locator("select[name=phoneId] option")
    assert options.count() == 1
    expect(options.first).to_contain_text("+1 206 555 0100")
    form.locator("input[name=spokeWith]").fill("Night duty desk")
    form.locator("select[name=confirmed]").select_option("false")
    form.locator("input[name=note]").fill("no officer of that name; no such case")
    form.locator("button").click()
    expect(staff.locator("body")).to_contain_text("Callback: NOT confirmed")
    expect(staff.locator("#timeline")).to_contain_text("case.record_callback")
    expect(staff.locator('#checklist tr[data-check="callback"] .verdict')).to_have_text("failed")
    # Nothing on this case can release data: no release action is offered to anyone here.
    expect(staff.locator("#actions")).not_to_contain_text("Release")


def test_an_admin_suspends_a_requester_and_the_portal_refuses_its_demands(browser):
    """Issue 8: the directory and every requester's standing in the console; only admins change it."""
    reviewer = browser.new_page()
    login(reviewer, "staff", "reviewer@provider.example", "custos-demo-staff")
    reviewer.click("nav.console >> text=Requesters")
    card = reviewer.locator(".agency", has_text="LKA Baden-Württemberg")
    expect(card).to_contain_text("lka-bw.example")
    expect(card).to_contain_text("+49 711 5555 0")
    expect(card.locator("tr[data-email='ermittler@lka-bw.example'] .standing")).to_have_text("active")
    assert reviewer.locator("form[action*='/standing']").count() == 0  # reviewers read, admins change

    admin = browser.new_page()
    login(admin, "staff", "admin@provider.example", "custos-demo-staff")
    admin.goto(f"{BASE}/staff/requesters")
    row = admin.locator("tr[data-email='ermittler@lka-bw.example']")
    row.locator("select[name=standing]").select_option("suspended")
    row.locator("input[name=reason]").fill("mailbox reported compromised by the LKA")
    row.locator("button").click()
    expect(admin.locator(".flash")).to_contain_text("Standing saved")
    row = admin.locator("tr[data-email='ermittler@lka-bw.example']")
    expect(row.locator(".standing")).to_have_text("suspended")
    expect(row).to_contain_text("mailbox reported compromised by the LKA")

    officer = browser.new_page()
    login(officer, "agency", "ermittler@lka-bw.example", "custos-demo-agency")
    submit_german_demand(officer, "SUSPENDED-0001")
    expect(officer.locator(".error")).to_contain_text("suspended")

"""Issue 10, item 4: HTML and script payloads in every text field of a demand are shown as text in
a real browser; none of them runs. Each payload, if it ran, would set window.__custosInjected or
open a dialog; the test listens for both on the staff case page, the queue and the agency's list."""
import base64
import json
import os
import urllib.request

from playwright.sync_api import expect

from portal import BASE, cli, login

PAYLOADS = [line for line in open(os.path.join(os.path.dirname(__file__), "..", "hostile", "injection-payloads.txt"), encoding="utf-8").read().splitlines() if line]


def submit(token, number, payload):
    body = {
        "instrument": "us.search_warrant", "jurisdiction": "US", "subdivision": "US-WA",
        "issuingAuthority": {"name": payload, "role": "judge"}, "caseReference": f"INJECT-{number} {payload}",
        "receivedAt": "2026-11-02T09:00:00Z",
        "targets": [{"type": "other", "value": payload}, {"type": "email", "value": "alice@example.com"}],
        "categories": ["subscriber_info"], "dataTypes": [payload],
        "window": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, "emergency": False, "preservation": False,
        "nonDisclosureOrder": {"basis": payload, "until": "2027-05-04"},
        "documents": [{"filename": "warrant.pdf", "mediaType": "application/pdf", "base64": base64.b64encode(b"%PDF-1.4 inject").decode()}],
    }
    request = urllib.request.Request(f"{BASE}/api/v1/demands", data=json.dumps(body).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.loads(response.read())["caseNumber"]


def watch(page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def test_script_payloads_in_a_demand_never_run(browser):
    token = cli("token", "add", "--email", "officer@fbi-seattle.example", "--label", "injection").stdout.strip().splitlines()[-1]
    numbers = [submit(token, number, payload) for number, payload in enumerate(PAYLOADS)]
    staff = browser.new_context().new_page()
    dialogs = watch(staff)
    login(staff, "staff", "reviewer@provider.example", "custos-demo-staff")
    staff.goto(f"{BASE}/staff")
    for number, payload in zip(numbers, PAYLOADS):
        staff.goto(f"{BASE}/staff")
        staff.click(f"text={number}")
        # the payload is on the page as text, and nothing it carries ran
        expect(staff.get_by_text(payload, exact=False).first).to_be_attached()
        staff.mouse.move(10, 10)
        staff.mouse.move(300, 300)
        assert staff.evaluate("window.__custosInjected") is None, f"{payload} ran on the case page of {number}"
    assert dialogs == []
    agency = browser.new_context().new_page()
    agency_dialogs = watch(agency)
    login(agency, "agency", "officer@fbi-seattle.example", "custos-demo-agency")
    agency.goto(f"{BASE}/agency")
    expect(agency.get_by_text(f"INJECT-0 {PAYLOADS[0]}")).to_be_attached()
    assert agency.evaluate("window.__custosInjected") is None
    assert agency_dialogs == []

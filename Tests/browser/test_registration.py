"""Issue 8 in a real browser: an official registers in the agency portal with an address on the
agency's directory domain, confirms it through the mailed link, sets up a second factor, and can
submit a demand only after an admin approves; admins keep the directory in the console."""
import email
import glob
import os
import re
import uuid

import pytest
from playwright.sync_api import expect

from portal import BASE, login, server_data, submit_german_demand


def latest_mail_to(address):
    for path in sorted(glob.glob(os.path.join(server_data(), "mail", "*.eml")), reverse=True):
        with open(path, "rb") as f:
            message = email.message_from_binary_file(f)
        if message["To"] == address:
            return message.get_payload(decode=True).decode()
    return None


def test_an_official_registers_confirms_and_is_approved_by_an_admin(browser):
    if not server_data():
        pytest.skip("needs CUSTOS_SERVER_DATA_DIR, the demo server's data folder (scripts/test sets it)")
    address = f"kommissarin.{uuid.uuid4().hex[:6]}@lka-bw.example"
    page = browser.new_page()
    page.goto(f"{BASE}/agency/login")
    page.click("#register-link")
    expect(page.locator("h1")).to_have_text("Register as a requester")
    option = page.locator("#agency option", has_text="LKA Baden-Württemberg")
    page.select_option("#agency", value=option.get_attribute("value"))
    page.fill("#name", "KHKin Weber")
    page.fill("#password", "weber-password-1")
    # A look-alike of the agency's domain is refused on the form.
    page.fill("#email", "weber@lka-bw-polizei.example")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("not an official domain of LKA Baden-Württemberg")
    page.fill("#email", address)
    page.fill("#password", "weber-password-1")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Check your mailbox")

    # Signing in before confirming is refused.
    page.goto(f"{BASE}/agency/login")
    page.fill("#email", address)
    page.fill("#password", "weber-password-1")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("Confirm your address first")

    text = latest_mail_to(address)
    assert text, "the confirmation mail is in the data folder's mail/ (no SMTP relay on the demo server)"
    link = re.search(r"https?://\S+/agency/register/confirm\?token=\S+", text).group(0)
    page.goto(BASE + link[link.index("/agency/"):])
    page.click("text=Confirm my address")
    expect(page.locator("h1")).to_have_text("Address confirmed")

    login(page, "agency", address, "weber-password-1")  # sets up the second factor on the way
    expect(page.locator("h1")).to_contain_text("Demands of LKA Baden-Württemberg")
    submit_german_demand(page, "REGISTERED-0001")
    expect(page.locator(".error")).to_contain_text("waits for approval")

    admin = browser.new_page()
    login(admin, "staff", "admin@provider.example", "custos-demo-staff")
    admin.goto(f"{BASE}/staff/requesters")
    expect(admin.locator("#awaiting")).to_contain_text("await approval")
    row = admin.locator(f"tr[data-email='{address}']")
    expect(row).to_contain_text("address confirmed")
    expect(row.locator(".standing")).to_have_text("pending")
    row.locator("select[name=standing]").select_option("active")
    row.locator("input[name=reason]").fill("confirmed with the LKA's switchboard on the directory number")
    row.locator("button").click()
    expect(admin.locator(".flash")).to_contain_text("Standing saved")

    submit_german_demand(page, "REGISTERED-0002", document=b"%PDF-1.4\n% registered\n%%EOF\n")
    expect(page.locator(".flash")).to_contain_text("Demand received as case")


def test_an_admin_edits_the_directory_in_the_console(browser):
    admin = browser.new_page()
    login(admin, "staff", "admin@provider.example", "custos-demo-staff")
    admin.goto(f"{BASE}/staff/requesters")
    admin.click("#add-agency summary")
    admin.fill("#new-name", "Landespolizei Vorarlberg")
    admin.fill("#new-country", "AT")
    admin.select_option("#new-kind", "law_enforcement")
    admin.fill("#new-domains", "polizei.gv.example")
    admin.fill("#new-phones", "+43 59133 80 | Landesleitzentrale | bmi.gv.at contact page")
    admin.click("text=Add agency")
    expect(admin.locator(".flash")).to_contain_text("Landespolizei Vorarlberg added to the directory")
    card = admin.locator(".agency", has_text="Landespolizei Vorarlberg")
    expect(card).to_contain_text("+43 59133 80 · Landesleitzentrale · source: bmi.gv.at contact page")
    card.locator(".edit-agency summary").click()
    card.locator("textarea[name=phones]").fill("+43 59133 80 | Landesleitzentrale |")
    card.locator("text=Save directory entry").click()
    expect(admin.locator(".error")).to_contain_text("is empty: say where the number was found")
    card = admin.locator(".agency", has_text="Landespolizei Vorarlberg")
    expect(card).to_contain_text("source: bmi.gv.at contact page")  # nothing changed

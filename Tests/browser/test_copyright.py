"""Issue 9 in a real browser: a rights holder files a notice through the public form, confirms it
with the mailed link, the customer hosting the material answers in its portal, and staff record
the takedown; an incomplete notice gets the "substantially complies" follow-up."""
import time
import uuid

import pytest
from playwright.sync_api import expect

from portal import BASE, login, server_data
from test_registration import latest_mail_to


def file_notice(page, email, url, perjury=True):
    page.goto(f"{BASE}/copyright/notice")
    page.fill("#name", "Jane Roe")
    page.fill("#organisation", "Roe Photo LLC")
    page.fill("#email", email)
    page.fill("#address", "1 Main St, Portland OR")
    page.fill("#country", "US")
    page.fill("#work", "Photograph 'Harbour at Dawn' (2024)")
    page.fill("#original", "https://roe.example/harbour")
    page.fill("#infringing", url)
    page.check("input[name=goodFaith]")
    if perjury:
        page.check("input[name=perjury]")
    page.fill("#signature", "Jane Roe")
    page.click("text=Send notice")
    expect(page.locator("h1")).to_have_text("Check your mailbox")
    return page.locator(".card p").first.inner_text().split("Notice ")[1].split(" ")[0]


def confirm_link(page, email):
    # The server's copyright runner sends queued mail every few seconds.
    deadline = time.time() + 30
    text = latest_mail_to(email)
    while not text and time.time() < deadline:
        time.sleep(0.5)
        text = latest_mail_to(email)
    assert text, "the confirmation mail is in the data folder's mail/"
    start = text.index("/copyright/notices/status?token=")
    page.goto(BASE + text[start:].split()[0])
    page.click("text=Confirm that I sent this notice")


def test_a_notice_goes_from_the_public_form_through_the_customer_to_takedown(browser):
    if not server_data():
        pytest.skip("needs CUSTOS_SERVER_DATA_DIR, the demo server's data folder (scripts/test sets it)")
    sender = f"jane.{uuid.uuid4().hex[:6]}@roe.example"
    page = browser.new_page()
    number = file_notice(page, sender, "https://northwind.example/gallery/harbour.jpg")
    confirm_link(page, sender)
    expect(page.locator(".flash")).to_contain_text("Notice confirmed: with the customer")
    expect(page.locator('tr[data-element="N-vi"] .verdict')).to_have_text("present")

    customer = browser.new_page()
    login(customer, "customer", "legal@northwind.example", "custos-demo-customer")
    customer.click("#copyright-link")
    card = customer.locator(f".copyright-notice[data-number='{number}']")
    expect(card).to_contain_text("https://northwind.example/gallery/harbour.jpg")
    card.locator("input[name=note]").fill("deleted the photo")
    card.locator("text=We removed the material").click()
    expect(customer.locator(".flash")).to_contain_text(f"{number} is marked removed")

    staff = browser.new_page()
    login(staff, "staff", "custodian@provider.example", "custos-demo-staff")
    staff.click("nav.console >> text=Copyright")
    card = staff.locator(f".copyright-notice[data-number='{number}']")
    expect(card.locator(".state")).to_have_text("takedown pending")
    card.locator("input[name=note]").fill("URL answers 404")
    card.locator("text=record takedown").click()
    expect(staff.locator(".flash")).to_contain_text(f"{number}: takedown recorded")
    card = staff.locator(f".copyright-notice[data-number='{number}']")
    expect(card.locator(".state")).to_have_text("taken down")
    expect(card).to_contain_text("strike")
    # The customer sees its strike; the sender sees the outcome.
    customer.goto(f"{BASE}/customer/copyright")
    expect(customer.locator("#strikes")).to_have_text("1")
    page.reload()
    expect(page.locator(".state")).to_have_text("taken down")


def test_an_incomplete_notice_is_sent_back_with_what_is_missing(browser):
    if not server_data():
        pytest.skip("needs CUSTOS_SERVER_DATA_DIR, the demo server's data folder (scripts/test sets it)")
    sender = f"jane.{uuid.uuid4().hex[:6]}@roe.example"
    page = browser.new_page()
    file_notice(page, sender, "https://northwind.example/gallery/other.jpg", perjury=False)
    confirm_link(page, sender)
    expect(page.locator(".state")).to_have_text("incomplete: the sender was asked to complete it")
    expect(page.locator('tr[data-element="N-vi"] .verdict')).to_have_text("missing")
    expect(page.locator('tr[data-element="N-vi"]')).to_contain_text("17 U.S.C. § 512(c)(3)(A)(vi)")

"""Issue 8's second factor in a real browser: a new agency user must set one up before the portal
opens, signs in with a recovery code once, and after an admin's reset sets up a new one."""
import time
import uuid

import pyotp
import pytest
from playwright.sync_api import expect

from portal import BASE, DEMO_SECRET, cli, fresh_code, login, server_data


def sign_in_with_password(page, area, email, password):
    page.goto(f"{BASE}/{area}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_a_new_agency_user_sets_up_a_second_factor_and_uses_a_recovery_code_once(browser):
    if not server_data():
        pytest.skip("needs CUSTOS_SERVER_DATA_DIR, the demo server's data folder (scripts/test sets it)")
    email = f"new.officer.{uuid.uuid4().hex[:6]}@lka-bw.example"
    added = cli("user", "add", "--email", email, "--kind", "agency", "--agency", "LKA Baden-Württemberg", stdin="a-long-enough-password\n")
    assert added.returncode == 0, added.stderr

    page = browser.new_page()
    sign_in_with_password(page, "agency", email, "a-long-enough-password")
    expect(page.locator("h1")).to_have_text("Set up your second factor")
    # Nothing opens before the second factor is set up.
    page.goto(f"{BASE}/agency/demands")
    expect(page.locator("h1")).not_to_contain_text("Demands of")
    page.goto(f"{BASE}/agency/login/enrol")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    # The otpauth:// link (Google Authenticator's key URI format) as an independent parser reads it.
    parsed = pyotp.parse_uri(page.locator("#totp-uri").get_attribute("href"))
    assert (parsed.secret, parsed.name, parsed.issuer, parsed.digits, parsed.interval) == (secret, email, "Custos", 6, 30)
    page.fill("#code", "000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("does not match")
    page.fill("#code", fresh_code(email, secret))
    page.click("button[type=submit]")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.click("#continue")
    expect(page.locator("h1")).to_contain_text("Demands of LKA Baden-Württemberg")
    page.click("#account-link")
    expect(page.locator("#codes-left")).to_have_text("10")
    page.click("text=Sign out")

    # A recovery code signs in once.
    sign_in_with_password(page, "agency", email, "a-long-enough-password")
    expect(page.locator("h1")).to_have_text("Second factor")
    expect(page.locator("#demo-code")).to_have_count(0)  # only the demo accounts' shared key shows its code
    page.fill("#code", codes[0])
    page.click("button[type=submit]")
    expect(page.locator(".flash")).to_contain_text("recovery code; 9 left")
    expect(page.locator("#codes-left")).to_have_text("9")
    page.click("text=Sign out")
    sign_in_with_password(page, "agency", email, "a-long-enough-password")
    page.fill("#code", codes[0])
    page.click("button[type=submit]")
    expect(page.locator(".error")).to_contain_text("wrong or was already used")

    # An admin resets it (a lost phone): the next sign-in sets up a new one.
    reset = cli("user", "second-factor", "--email", email, "--reset", "--reason", "phone lost")
    assert reset.returncode == 0, reset.stderr
    shown = cli("user", "second-factor", "--email", email)
    assert "no second factor; required for agency users" in shown.stdout
    sign_in_with_password(page, "agency", email, "a-long-enough-password")
    expect(page.locator("h1")).to_have_text("Set up your second factor")
    assert page.locator("#totp-secret").inner_text().replace(" ", "") != secret


def test_the_demo_server_shows_the_demo_accounts_current_code(browser):
    page = browser.new_page()
    sign_in_with_password(page, "staff", "auditor@provider.example", "custos-demo-staff")
    expect(page.locator("h1")).to_have_text("Second factor")
    shown = page.locator("#demo-code strong").inner_text()
    totp = pyotp.TOTP(DEMO_SECRET)
    now = time.time()
    assert shown in {totp.at(now - 30), totp.at(now), totp.at(now + 30)}
    page.fill("#code", fresh_code("auditor@provider.example", DEMO_SECRET))
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text("Case queue")

"""Shared helpers of the browser suite: signing in (password, then the second factor) and the CLI
against the demo server's data folder."""
import os
import subprocess
import time

import pyotp
from playwright.sync_api import expect

BASE = os.environ.get("CUSTOS_BASE_URL", "http://127.0.0.1:18089")
BIN = os.environ.get("CUSTOS_BIN", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "custos"))
# The authenticator key the demo's staff and agency accounts share (printed by `serve --demo`).
DEMO_SECRET = "CUSTOSDEMOSECONDFACTORSHAREDBY22"
SECRETS = {}
LAST_STEP = {}


def fresh_code(email, secret):
    """The code of a 30-second step this user has not used yet: the server accepts a step once
    (RFC 6238 §5.2) and one step either side of its clock. Computed with pyotp, an independent
    implementation, so Custos's TOTP is checked against it."""
    totp = pyotp.TOTP(secret)
    while True:
        now = int(time.time() // 30)
        step = max(now, LAST_STEP.get(email, -1) + 1)
        if step <= now + 1:
            LAST_STEP[email] = step
            return totp.at(step * 30)
        time.sleep(1)


def login(page, area, email, password):
    """Signs in through the forms; sets up the second factor when the server asks for one."""
    page.goto(f"{BASE}/{area}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    if "/login/enrol" in page.url:
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        SECRETS[email] = secret
        page.fill("#code", fresh_code(email, secret))
        page.click("button[type=submit]")
        expect(page.locator("#recovery-codes li")).to_have_count(10)
        page.click("#continue")
    elif "/login/code" in page.url:
        page.fill("#code", fresh_code(email, SECRETS.get(email, DEMO_SECRET)))
        page.click("button[type=submit]")


def server_data():
    return os.environ.get("CUSTOS_SERVER_DATA_DIR")


def cli(*args, stdin=""):
    """Runs the CLI on the demo server's data folder (scripts/test sets CUSTOS_SERVER_DATA_DIR)."""
    env = dict(os.environ, CUSTOS_DATA_DIR=server_data())
    env.pop("CUSTOS_DATABASE_URL", None)
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


def submit_german_demand(page, reference, document=None):
    """Fills the agency portal's form with a § 100j StPO request for subscriber information about
    alice@example.com and submits it (with `document`'s bytes as a PDF when given)."""
    page.goto(f"{BASE}/agency/demands/new")
    page.select_option("#instrument", "de.stpo_100j")
    page.fill("#jurisdiction", "DE")
    page.fill("#authorityName", "Staatsanwaltschaft Stuttgart")
    page.select_option("#authorityRole", "prosecutor")
    page.fill("#caseReference", reference)
    page.fill("#targetValue", "alice@example.com")
    page.check("input[value=subscriber_info]")
    if document is not None:
        page.set_input_files("#document", files=[{"name": "beschluss.pdf", "mimeType": "application/pdf", "buffer": document}])
    page.click("text=Submit demand")

"""The CLI contract: migrate, demo load, user add (password on stdin), token add, and serve."""
import contextlib
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

BIN = os.environ.get("CUSTOS_BIN", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "custos"))
PORT = int(os.environ.get("CUSTOS_CLI_TEST_PORT", "18091"))


def custos(data, *args, stdin="", **settings):
    env = dict(os.environ, CUSTOS_DATA_DIR=data, **settings)
    env.pop("CUSTOS_DATABASE_URL", None)
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


@contextlib.contextmanager
def serving(data, stderr=subprocess.DEVNULL, **settings):
    """`custos serve` on the data folder (with more settings given), answering /health, until the block ends."""
    env = dict(os.environ, CUSTOS_DATA_DIR=data, **settings)
    env.pop("CUSTOS_DATABASE_URL", None)
    server = subprocess.Popen([BIN, "serve", "--port", str(PORT)], env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


def get(path, token):
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture(scope="module")
def data():
    return tempfile.mkdtemp(prefix="custos-cli-")


def test_migrate_demo_users_and_tokens(data):
    assert custos(data, "migrate").returncode == 0
    assert os.path.exists(os.path.join(data, "custos.sqlite"))
    loaded = custos(data, "demo", "load")
    assert loaded.returncode == 0, loaded.stderr
    assert "Demo data loaded." in loaded.stdout
    assert "already present" in custos(data, "demo", "load").stdout

    short = custos(data, "user", "add", "--email", "x@p.example", "--kind", "staff", "--role", "reviewer", stdin="short\n")
    assert short.returncode != 0 and "12 characters" in short.stderr
    bad_role = custos(data, "user", "add", "--email", "x@p.example", "--kind", "staff", "--role", "king", stdin="long enough password\n")
    assert bad_role.returncode != 0 and "unknown role" in bad_role.stderr
    added = custos(data, "user", "add", "--email", "cop@new.example", "--kind", "agency", "--agency", "New Agency", "--agency-country", "GB",
                   stdin="long enough password\n")
    assert added.returncode == 0, added.stderr
    assert "Created agency New Agency." in added.stdout
    assert custos(data, "user", "add", "--email", "cop@new.example", "--kind", "agency", "--agency", "New Agency",
                  stdin="long enough password\n").returncode != 0

    staff_token = custos(data, "token", "add", "--email", "reviewer@provider.example").stdout.strip()
    agency_token = custos(data, "token", "add", "--email", "cop@new.example").stdout.strip()
    assert staff_token.startswith("cst_") and agency_token.startswith("cst_")
    assert custos(data, "token", "add", "--email", "nobody@p.example").returncode != 0

    with serving(data):
        status, cases = get("/api/v1/cases?state=", staff_token)
        assert status == 200
        # The demo set: 20 demands over the workflow states, from 5 agencies in 4 countries.
        assert len(cases) == 20
        assert len({case["state"] for case in cases}) >= 10
        assert {case["country"] for case in cases} == {"US", "DE", "FR", "BR"}
        assert len({case["agencyID"] for case in cases}) == 5
        assert any(case.get("customer", {}).get("isUnlinkedService") for case in cases)
        assert {case["customer"]["kind"] for case in cases if case.get("customer")} == {"enterprise", "consumer"}
        # Every demo case carries its rulebook assessment.
        assert all(case.get("assessment", {}).get("rulebookVersion") for case in cases)
        status, demands = get("/api/v1/demands", agency_token)
        assert status == 200 and demands == []


def test_tenant_webhook_set_and_remove(data):
    assert custos(data, "migrate").returncode == 0
    custos(data, "demo", "load")
    plain = custos(data, "tenant", "webhook", "set", "--tenant", "Northwind Traders", "--url", "http://hooks.northwind.example/custos")
    assert plain.returncode != 0 and "https" in plain.stderr
    nobody = custos(data, "tenant", "webhook", "set", "--tenant", "No Such Tenant", "--url", "https://hooks.example/custos")
    assert nobody.returncode != 0 and "no tenant named" in nobody.stderr
    first = custos(data, "tenant", "webhook", "set", "--tenant", "Northwind Traders", "--url", "https://hooks.northwind.example/custos")
    assert first.returncode == 0, first.stderr
    secret = first.stdout.strip().split()[-1]
    assert secret.startswith("whsec_") and len(secret) > 40
    again = custos(data, "tenant", "webhook", "set", "--tenant", "Northwind Traders", "--url", "https://hooks.northwind.example/v2")
    assert again.stdout.strip().split()[-1] != secret, "a replaced endpoint gets a new secret"
    removed = custos(data, "tenant", "webhook", "remove", "--tenant", "Northwind Traders")
    assert removed.returncode == 0 and "Removed" in removed.stdout
    assert "had no notice webhook" in custos(data, "tenant", "webhook", "remove", "--tenant", "Northwind Traders").stdout


# --- custos rules check / custos rules assess (issue 3's CLI contract) ---

RULEBOOK = os.path.join(os.path.dirname(__file__), "..", "..", "Sources", "CustosDomain", "Resources", "rulebook.json")


def rules(*args, stdin="", env=None):
    return subprocess.run([BIN, "rules", *args], input=stdin, capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, **(env or {})))


def test_rules_check_accepts_the_bundled_rulebook_and_reports_problems_with_their_location(tmp_path):
    ok = rules("check", RULEBOOK)
    assert ok.returncode == 0, ok.stderr
    assert "valid rulebook" in ok.stdout

    book = json.load(open(RULEBOOK))
    book["rules"][0]["effects"]["contnt"] = "allowed"
    book["rules"][1]["citation"] = ""
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(book, indent=2))
    bad = rules("check", str(broken))
    assert bad.returncode != 0
    assert "rules[0] (" + book["rules"][0]["id"] + ").effects.contnt" in bad.stderr
    assert "line " in bad.stderr
    assert "every rule must cite its source" in bad.stderr

    syntax = tmp_path / "syntax.json"
    syntax.write_text('{"format": "custos-rulebook/1", "version": ')
    assert rules("check", str(syntax)).returncode != 0
    missing = rules("check", str(tmp_path / "nope.json"))
    assert missing.returncode != 0 and "cannot be read" in missing.stderr


ASSESS_INPUT = {
    "demand": {"instrument": "eu.epoc", "jurisdiction": "DE", "issuingAuthority": {"name": "Staatsanwaltschaft Berlin", "role": "prosecutor"},
               "caseReference": "StA-1", "receivedAt": "2026-09-07T10:20:00Z",
               "targets": [{"type": "email", "value": "jean@example.fr"}], "categories": ["subscriber_info", "content"],
               "offenceMaxYears": 5},
    "customer": {"kind": "consumer", "nationality": "FR", "residence": "FR", "dataLocation": "IE",
                 "services": [{"id": "mail", "unlinked": False}]},
    "at": "2026-09-07T10:20:00Z",
}


def test_rules_assess_prints_the_assessment_as_the_contract_says():
    result = rules("assess", stdin=json.dumps(ASSESS_INPUT))
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["rulebookVersion"]
    assert out["categories"]["content"]["verdict"] == "denied"  # a prosecutor may not order content (Art. 4(2))
    assert "eu.epoc.traffic_content" in out["categories"]["content"]["rules"]
    assert out["categories"]["content"]["explanation"]
    assert out["categories"]["subscriber_info"]["verdict"] == "allowed"
    production = [d for d in out["deadlines"] if d["kind"] == "production"]
    assert production and production[0]["due"].startswith("2026-09-17T22:00:00")  # end of the 10th day, Berlin time
    assert out["notice"]["status"] == "barred_indefinitely"  # Art. 13: the issuing authority informs the person
    assert isinstance(out["flags"], list) and "issuer_insufficient" in out["flags"]


def test_rules_assess_example_from_the_issue():
    example = {"demand": {"instrument": "us.search_warrant", "jurisdiction": "US", "issuingAuthority": {"name": "W.D. Wash.", "role": "judge"},
                          "caseReference": "2:26-mj-1", "targets": [{"type": "email", "value": "a@example.com"}], "categories": ["content"],
                          "nonDisclosureOrder": {"basis": "18 U.S.C. 2705(b)", "until": "2026-11-04"}},
               "customer": {"kind": "enterprise", "nationality": "DE", "residence": "DE", "dataLocation": "IE",
                            "services": [{"id": "svc", "unlinked": False}]},
               "at": "2026-05-04T09:00:00Z"}
    out = json.loads(rules("assess", stdin=json.dumps(example)).stdout)
    assert out["categories"]["content"]["verdict"] == "allowed"
    assert out["notice"] == {**out["notice"], "status": "barred_until", "until": "2026-11-05T00:00:00.000Z"}
    assert set(out["flags"]) == {"redirect_first", "gdpr_art48_review"}


@pytest.mark.parametrize("text,needle", [
    ("", "got nothing"),
    ("not json", "not valid JSON"),
    ('{"demand": {}, "customer": {}, "at": "yesterday"}', "at: must be an ISO 8601 timestamp"),
    ('{"demand": {"instrument": "us.teleport"}, "at": "2026-05-04T09:00:00Z"}', "demand.instrument"),
    ('{"demand": {}, "custmer": {}, "at": "2026-05-04T09:00:00Z"}', "custmer: unknown field"),
    ('{"demand": {}, "customer": {"kind": "household"}, "at": "2026-05-04T09:00:00Z"}', "customer.kind"),
])
def test_rules_assess_refuses_invalid_input_with_a_clear_message(text, needle):
    result = rules("assess", stdin=text)
    assert result.returncode != 0
    assert result.stdout == ""
    assert needle in result.stderr


def test_rules_assess_uses_the_rulebook_named_by_CUSTOS_RULEBOOK(tmp_path):
    book = json.load(open(RULEBOOK))
    book["version"] = "provider-test-1"
    own = tmp_path / "own.json"
    own.write_text(json.dumps(book))
    result = rules("assess", stdin=json.dumps(ASSESS_INPUT), env={"CUSTOS_RULEBOOK": str(own)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["rulebookVersion"] == "provider-test-1"
    book["rules"][0]["effects"] = {"encryption_keys": "allowed"}
    own.write_text(json.dumps(book))
    refused = rules("assess", stdin=json.dumps(ASSESS_INPUT), env={"CUSTOS_RULEBOOK": str(own)})
    assert refused.returncode != 0 and "encryption_keys can only be denied" in refused.stderr


BLOB_STORES = [("database", {"CUSTOS_BLOB_URL": "database"})]
if os.environ.get("CUSTOS_TEST_S3_ENDPOINT"):
    BLOB_STORES.append(("s3", {
        "CUSTOS_BLOB_URL": "s3://custos-cli-" + os.urandom(4).hex() + "/packages-test", "CUSTOS_S3_ENDPOINT": os.environ["CUSTOS_TEST_S3_ENDPOINT"],
        "CUSTOS_S3_REGION": "eu-central-1", "CUSTOS_S3_ACCESS_KEY_ID": "testing", "CUSTOS_S3_SECRET_ACCESS_KEY": "testing"}))


@pytest.mark.parametrize("name,settings", BLOB_STORES, ids=[name for name, _ in BLOB_STORES])
def test_packages_in_a_shared_blob_store(name, settings, tmp_path):
    """issue 28: with CUSTOS_BLOB_URL the CLI builds into the database or S3 (the bucket is made on
    first use), nothing lands in the data folder, `package verify --case` checks the stored
    package there and the published key checks a plain copy; a storage-key rotation reseals it."""
    import sqlite3
    data = str(tmp_path / "data")
    assert custos(data, "migrate", **settings).returncode == 0
    assert custos(data, "demo", "load", **settings).returncode == 0
    db = sqlite3.connect(os.path.join(data, "custos.sqlite"))
    number, case_id = db.execute("SELECT number, id FROM cases WHERE state = 'scope_approved' ORDER BY number LIMIT 1").fetchone()
    db.close()
    built = custos(data, "production", "build", number, "--as", "custodian@provider.example", **settings)
    assert built.returncode == 0, built.stderr
    where = "database" if name == "database" else settings["CUSTOS_BLOB_URL"]
    assert f"packages/{str(case_id).lower()}.zip.sealed in {where}" in built.stdout, built.stdout
    folder = os.path.join(data, "packages")
    assert not os.path.isdir(folder) or not os.listdir(folder), os.listdir(folder)

    checked = custos(data, "package", "verify", "--case", number, **settings)
    assert checked.returncode == 0 and "valid package for case " + number in checked.stdout, checked.stderr
    assert where in checked.stdout
    by_id = custos(data, "package", "verify", "--case", str(case_id), **settings)
    assert by_id.returncode == 0, by_id.stderr
    unknown = custos(data, "package", "verify", "--case", "2099-999999", **settings)
    assert unknown.returncode == 2 and "no case 2099-999999" in unknown.stderr
    both = custos(data, "package", "verify", "x.zip", "--case", number, **settings)
    assert both.returncode != 0 and "not both" in both.stderr
    # without the store's settings the data folder has no such package: it says where it looked
    elsewhere = custos(data, "package", "verify", "--case", number)
    assert elsewhere.returncode == 1 and "NOT VALID" in elsewhere.stderr

    # the published key, as a recipient checks it
    pem = tmp_path / "key.pem"
    pem.write_text(export_public(data)["packageSigningKey"]["pem"])
    assert custos(data, "package", "verify", "--case", number, "--key", str(pem), **settings).returncode == 0

    # the provider's plain copy, from the store, on the record; it verifies with the published key
    plain = tmp_path / "plain.zip"
    unsealed = custos(data, "package", "unseal", "--case", number, "--out", str(plain), "--as", "custodian@provider.example", **settings)
    assert unsealed.returncode == 0, unsealed.stderr
    assert custos(data, "package", "verify", str(plain), "--key", str(pem)).returncode == 0

    rotated = custos(data, "keys", "rotate", **settings)
    assert rotated.returncode == 0 and "1 old key(s) retired" in rotated.stdout, rotated.stderr
    assert custos(data, "package", "verify", "--case", number, **settings).returncode == 0


def test_production_build_and_package_verify(data, tmp_path):
    """issue 5: the CLI builds a signed package for an approved demo case; it verifies with the CLI
    and with stock OpenSSL against the published key; a tampered copy does not."""
    import shutil
    import sqlite3
    import zipfile
    assert custos(data, "migrate").returncode == 0
    custos(data, "demo", "load")
    db = sqlite3.connect(os.path.join(data, "custos.sqlite"))
    number, case_id = db.execute("SELECT number, id FROM cases WHERE state = 'scope_approved' ORDER BY number LIMIT 1").fetchone()
    db.close()
    refused = custos(data, "production", "build", number, "--as", "reviewer@provider.example")
    assert refused.returncode != 0 and "not a custodian" in refused.stderr
    unknown = custos(data, "production", "build", "2099-999999", "--as", "custodian@provider.example")
    assert unknown.returncode != 0 and "no open case 2099-999999" in unknown.stderr
    built = custos(data, "production", "build", number, "--as", "custodian@provider.example")
    assert built.returncode == 0, built.stderr
    assert "record file(s)" in built.stdout and "key_material 1" in built.stdout
    assert "100%" in built.stderr
    sealed = os.path.join(data, "packages", str(case_id).lower() + ".zip.sealed")
    assert os.path.exists(sealed)
    # issue 10: sealed at rest; no ZIP structure, file name or record byte in the clear
    stored = open(sealed, "rb").read()
    assert stored.startswith(b"CSF1") and b"PK\x03\x04" not in stored and b"manifest.json" not in stored and b"Alice" not in stored

    ok = custos(data, "package", "verify", sealed)
    assert ok.returncode == 0, ok.stderr
    assert "valid package for case " + number in ok.stdout

    # the provider's own plain copy: custodians only, on the record, never over a file
    package = str(tmp_path / "package.zip")
    assert custos(data, "package", "unseal", sealed, "--out", package, "--as", "reviewer@provider.example").returncode != 0
    assert not os.path.exists(package)
    unsealed = custos(data, "package", "unseal", sealed, "--out", package, "--as", "custodian@provider.example")
    assert unsealed.returncode == 0, unsealed.stderr
    assert zipfile.is_zipfile(package)
    assert custos(data, "package", "unseal", sealed, "--out", package, "--as", "custodian@provider.example").returncode != 0
    db = sqlite3.connect(os.path.join(data, "custos.sqlite"))
    logged = db.execute("SELECT actor, subject FROM audit_entries WHERE action = 'package.unsealed'").fetchall()
    db.close()
    assert len(logged) == 1 and "custodian@provider.example" in logged[0][0], logged
    assert logged[0][1] == "case:" + str(case_id).lower(), logged

    # a sealed package with one byte changed does not verify, and does not unseal
    broken = tmp_path / "broken.zip.sealed"
    broken.write_bytes(stored[:2000] + bytes([stored[2000] ^ 1]) + stored[2001:])
    bad_seal = custos(data, "package", "verify", str(broken))
    assert bad_seal.returncode == 1 and "does not authenticate" in bad_seal.stderr, bad_seal.stderr
    assert custos(data, "package", "unseal", str(broken), "--out", str(tmp_path / "x.zip"), "--as", "custodian@provider.example").returncode == 1
    assert not os.path.exists(tmp_path / "x.zip")

    # stock OpenSSL, with the public key as the server publishes it
    with serving(data):
        pem = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/.well-known/custos/signing-key.pem", timeout=5).read()
    (tmp_path / "signing-key.pem").write_bytes(pem)
    with zipfile.ZipFile(package) as z:
        z.extract("manifest.json", tmp_path)
        z.extract("manifest.sig", tmp_path)
        names = z.namelist()
    assert not any("encryption_keys" in name for name in names)
    verified = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signing-key.pem", "-rawin", "-in", "manifest.json",
                               "-sigfile", "manifest.sig"], cwd=tmp_path, capture_output=True, text=True)
    assert verified.returncode == 0 and "Signature Verified Successfully" in verified.stdout
    assert custos(data, "package", "verify", package, "--key", str(tmp_path / "signing-key.pem")).returncode == 0

    # a copy with one record changed fails, naming the file
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(package) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename.startswith("records/") and not any(n.startswith("records/") and n < item.filename for n in names):
                content = content.replace(b"Alice", b"Mallory") + b" "
            target.writestr(item, content)
    bad = custos(data, "package", "verify", str(tampered))
    assert bad.returncode == 1 and "NOT VALID" in bad.stderr and "SHA-256" in bad.stderr


def test_agency_import_checks_rows_and_list_shows_the_directory():
    data = tempfile.mkdtemp(prefix="custos-agency-")
    path = os.path.join(data, "agencies.csv")
    env = dict(os.environ, CUSTOS_DATA_DIR=data)
    env.pop("CUSTOS_DATABASE_URL", None)

    def run(*args):
        return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=120)

    with open(path, "w") as f:
        f.write("name,country,kind,domains,phone,phone_label,phone_source\n"
                "Polizei Berlin,DE,law_enforcement,polizei.berlin.de,+49 30 4664 0,Zentrale,https://www.berlin.de/polizei/\n"
                "Fake Bureau,US,law_enforcement,gmail.com,+1 555,,\n")
    bad = run("agency", "import", path)
    assert bad.returncode == 2
    assert "row 3:" in bad.stderr and "free-mail" in bad.stderr and "phone_source is empty" in bad.stderr
    assert "nothing was imported" in bad.stderr
    with open(path, "w") as f:
        f.write("name,country,kind,domains,phone,phone_label,phone_source\n"
                "Polizei Berlin,DE,law_enforcement,polizei.berlin.de,+49 30 4664 0,Zentrale,https://www.berlin.de/polizei/\n")
    good = run("agency", "import", path)
    assert good.returncode == 0, good.stderr
    assert "1 created, 0 updated, 0 unchanged" in good.stdout
    listed = run("agency", "list")
    assert "Polizei Berlin (DE, law_enforcement)" in listed.stdout
    assert "domains: polizei.berlin.de" in listed.stdout
    assert "phone: +49 30 4664 0 · Zentrale · source: https://www.berlin.de/polizei/" in listed.stdout


def test_user_standing_shows_and_changes_a_requesters_standing(data):
    # The module's data folder has the demo set (test_migrate_demo_users_and_tokens runs first).
    shown = custos(data, "user", "standing", "--email", "officer@fbi-seattle.example")
    assert shown.returncode == 0, shown.stderr
    assert "officer@fbi-seattle.example: active, emergency requests allowed" in shown.stdout
    assert "demo: police requester, verified at onboarding" in shown.stdout
    no_reason = custos(data, "user", "standing", "--email", "officer@fbi-seattle.example", "--set", "suspended")
    assert no_reason.returncode != 0 and "--reason" in no_reason.stderr
    bad = custos(data, "user", "standing", "--email", "officer@fbi-seattle.example", "--set", "banned", "--reason", "x")
    assert bad.returncode != 0 and "pending, active, unverified, suspended, blocklisted" in bad.stderr
    changed = custos(data, "user", "standing", "--email", "officer@fbi-seattle.example", "--set", "suspended", "--emergency", "deny",
                     "--reason", "mailbox reported compromised")
    assert changed.returncode == 0, changed.stderr
    assert "suspended, emergency requests not allowed" in changed.stdout and "mailbox reported compromised" in changed.stdout
    staff = custos(data, "user", "standing", "--email", "reviewer@provider.example")
    assert staff.returncode != 0 and "no agency user" in staff.stderr


def test_two_installations_exchange_a_signed_blocklist():
    first, second = tempfile.mkdtemp(prefix="custos-bl-a-"), tempfile.mkdtemp(prefix="custos-bl-b-")

    def run(data, url, *args):
        env = dict(os.environ, CUSTOS_DATA_DIR=data, CUSTOS_PUBLIC_URL=url)
        env.pop("CUSTOS_DATABASE_URL", None)
        return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=120)

    assert run(first, "https://a.example", "blocklist", "add", "--domain", "fbi-gov.com", "--reason", "forged EDR").returncode == 0
    assert "already" in run(first, "https://a.example", "blocklist", "add", "--domain", "fbi-gov.com", "--reason", "again").stdout
    key = run(first, "https://a.example", "blocklist", "key").stdout.strip()
    assert key.startswith("a.example/transparency/blocklist+")
    feed = run(first, "https://a.example", "blocklist", "export").stdout
    assert feed.startswith("custos-blocklist/v1\norigin a.example/transparency/blocklist\n") and "domain fbi-gov.com" in feed
    path = os.path.join(second, "feed.txt")
    with open(path, "w") as f:
        f.write(feed.replace("fbi-gov.com", "fbi-gov.org"))
    forged = run(second, "https://b.example", "blocklist", "import", path, "--key", key)
    assert forged.returncode == 2 and "does not verify" in forged.stderr
    with open(path, "w") as f:
        f.write(feed)
    imported = run(second, "https://b.example", "blocklist", "import", path, "--key", key)
    assert imported.returncode == 0, imported.stderr
    assert "imported 1 entries from a.example/transparency/blocklist" in imported.stdout
    assert "a.example/transparency/blocklist: 1" in run(second, "https://b.example", "blocklist", "list").stdout


def test_user_password_resets_and_ends_sessions(data):
    short = custos(data, "user", "password", "--email", "ermittler@lka-bw.example", stdin="short\n")
    assert short.returncode != 0 and "12 characters" in short.stderr
    unknown = custos(data, "user", "password", "--email", "nobody@nowhere.example", stdin="long enough password\n")
    assert unknown.returncode != 0 and "no user" in unknown.stderr
    reset = custos(data, "user", "password", "--email", "ermittler@lka-bw.example", stdin="a brand new long password\n")
    assert reset.returncode == 0, reset.stderr
    assert "Password of ermittler@lka-bw.example reset; every session ended." in reset.stdout


def test_copyright_cli_hosts_stats_and_lumen(data):
    """Issue 9's commands: a tenant's hosts route notices, stats count them, lumen exports them."""
    assert custos(data, "demo", "load").returncode == 0
    added = custos(data, "tenant", "host", "add", "--tenant", "Contoso Health", "--host", "files.contoso-health.example")
    assert added.returncode == 0, added.stderr
    assert "files.contoso-health.example" in custos(data, "tenant", "host", "list", "--tenant", "Contoso Health").stdout
    again = custos(data, "tenant", "host", "add", "--tenant", "Contoso Health", "--host", "files.contoso-health.example")
    assert again.returncode != 0 and "already" in again.stderr
    bad = custos(data, "tenant", "host", "add", "--tenant", "Contoso Health", "--host", "not a host")
    assert bad.returncode != 0 and "host name" in bad.stderr
    stats = custos(data, "copyright", "stats")
    assert stats.returncode == 0, stats.stderr
    assert "Notices received" in stats.stdout
    assert custos(data, "copyright", "stats", "--period", "2026-H3").returncode != 0
    lumen = custos(data, "copyright", "lumen", "--from", "2020-01-01")
    assert lumen.returncode == 0, lumen.stderr
    assert isinstance(json.loads(lumen.stdout), list)
    assert custos(data, "copyright", "lumen", "--from", "yesterday").returncode != 0


def export_public(data):
    """`custos keys export-public --json`, parsed."""
    exported = custos(data, "keys", "export-public", "--json")
    assert exported.returncode == 0, exported.stderr
    return json.loads(exported.stdout)


def test_keys_rotate_reseals_and_retires_the_old_key(data):
    """Issues 10 and 28: `custos keys rotate` makes a new storage key in the keyring, reseals, and retires the old one."""
    assert custos(data, "demo", "load").returncode == 0
    before = export_public(data)["currentStorageKeyId"]
    assert before
    # on SQLite, beside a running server on the same folder it refuses: that server would keep sealing with the old key
    with serving(data):
        refused = custos(data, "keys", "rotate")
    assert refused.returncode == 2 and "a server is running" in refused.stderr, refused.stderr
    assert export_public(data)["currentStorageKeyId"] == before
    rotated = custos(data, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    assert "resealed" in rotated.stdout and "1 old key(s) retired" in rotated.stdout
    # the demo's built packages are resealed too, and still verify with only the new key left
    import re
    packages = [os.path.join(data, kind, f) for kind in ("packages", "preservations")
                for f in os.listdir(os.path.join(data, kind)) if f.endswith(".zip.sealed")]
    assert packages and re.search(r"(\d+) package\(s\)", rotated.stdout).group(1) == str(len(packages)), rotated.stdout
    for path in packages:
        checked = custos(data, "package", "verify", path)
        assert checked.returncode == 0, checked.stderr
    after = export_public(data)["currentStorageKeyId"]
    assert after and after != before
    # A second rotation finds everything on the current key before resealing with the next one.
    again = custos(data, "keys", "rotate")
    assert again.returncode == 0 and "1 old key(s) retired" in again.stdout


def test_keys_export_public_prints_every_public_key(data):
    """Issue 28: one command prints the installation's public keys, the same ones the server publishes."""
    assert custos(data, "migrate").returncode == 0
    keys = export_public(data)
    for name, path in (("auditLog", "/log/audit"), ("legalProcessLog", "/log/legal-process"), ("canary", "/transparency/canary"),
                       ("report", "/transparency/report"), ("blocklist", "/transparency/blocklist")):
        origin, key_id, _ = keys[name].split("+", 2)  # <name>+<hex key id>+<base64, which may hold a +>
        assert origin.endswith(path) and len(key_id) == 8, keys[name]
    assert keys["packageSigningKey"]["pem"].startswith("-----BEGIN PUBLIC KEY-----")
    text = custos(data, "keys", "export-public")
    assert text.returncode == 0 and keys["auditLog"] in text.stdout and keys["packageSigningKey"]["pem"].strip() in text.stdout
    assert custos(data, "log", "key", "--log", "audit").stdout.strip() == keys["auditLog"]
    with serving(data):
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/.well-known/custos/signing-key.pem", timeout=10) as response:
            assert response.read().decode() == keys["packageSigningKey"]["pem"]


def test_keys_import_folder_moves_an_old_folders_keys_in_once(tmp_path):
    """Issue 28: a data folder from before the keyring (key files) moves into a database in one command, once."""
    import base64
    import hashlib
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives import serialization
    old = tmp_path / "old"
    (old / "storage-keys").mkdir(parents=True)
    raw = {}
    for name in ("package-signing", "log-audit", "log-legal-process", "canary", "report", "blocklist", "ns-commitment"):
        raw[name] = os.urandom(32)
        (old / f"{name}.key").write_bytes(raw[name])
    storage = os.urandom(32)
    storage_id = hashlib.sha256(storage).hexdigest()[:16]
    (old / "storage-keys" / f"{storage_id}.key").write_text(base64.b64encode(storage).decode())
    (old / "storage-keys" / "current").write_text(storage_id)
    (old / "transparency-address").write_text("https://old.example\n")
    new = str(tmp_path / "new")
    imported = custos(new, "keys", "import-folder", "--folder", str(old))
    assert imported.returncode == 0, imported.stderr
    assert "Imported 8 key(s)" in imported.stdout, imported.stdout
    twice = custos(new, "keys", "import-folder", "--folder", str(old))
    assert twice.returncode == 0 and "Imported 0 key(s)" in twice.stdout and "8 already there" in twice.stdout, twice.stdout
    keys = export_public(new)
    assert keys["currentStorageKeyId"] == storage_id
    pem = Ed25519PrivateKey.from_private_bytes(raw["package-signing"]).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    assert keys["packageSigningKey"]["pem"] == pem
    assert keys["auditLog"].startswith("old.example/log/audit+")
    # Another installation's folder is refused, and nothing changes.
    for name in raw:
        (old / f"{name}.key").write_bytes(os.urandom(32))
    refused = custos(new, "keys", "import-folder", "--folder", str(old))
    assert refused.returncode == 2 and "already holds other keys" in refused.stderr, refused.stderr
    assert export_public(new) == keys


def test_serve_writes_json_log_lines_when_asked(tmp_path):
    """Issue 28: CUSTOS_LOG_FORMAT=json gives one JSON object per log line, for a log collector."""
    data = str(tmp_path / "json-logs")
    with serving(data, stderr=subprocess.PIPE, CUSTOS_LOG_FORMAT="json") as server:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=10) as response:
            assert "custos_cases_open" in response.read().decode()
    stderr = server.stderr.read()
    lines = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert lines, stderr[:2000]
    assert all({"time", "level", "label", "message"} <= set(line) for line in lines)
    assert any(line["level"] in ("info", "notice") for line in lines)

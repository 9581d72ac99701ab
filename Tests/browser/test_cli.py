"""The CLI contract: migrate, demo load, user add (password on stdin), token add, and serve."""
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


def custos(data, *args, stdin=""):
    env = dict(os.environ, CUSTOS_DATA_DIR=data)
    env.pop("CUSTOS_DATABASE_URL", None)
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, env=env, timeout=120)


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

    server = subprocess.Popen([BIN, "serve", "--port", str(PORT)], env=dict(os.environ, CUSTOS_DATA_DIR=data),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(60):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        status, cases = get("/api/v1/cases?state=", staff_token)
        assert status == 200
        # The demo set: 20 demands over the workflow states, from 5 agencies in 4 countries.
        assert len(cases) == 20
        assert len({case["state"] for case in cases}) >= 10
        assert {case["country"] for case in cases} == {"US", "DE", "FR", "BR"}
        assert len({case["agencyID"] for case in cases}) == 5
        assert any(case.get("customer", {}).get("isUnlinkedService") for case in cases)
        assert {case["customer"]["kind"] for case in cases if case.get("customer")} == {"enterprise", "consumer"}
        status, demands = get("/api/v1/demands", agency_token)
        assert status == 200 and demands == []
    finally:
        server.terminate()
        server.wait(timeout=30)

"""The report contract: `custos import cases FILE.jsonl` and `custos report build` (issue 7)."""
import csv
import io
import json
import os
import subprocess
import tempfile

BIN = os.environ.get("CUSTOS_BIN", os.path.join(os.path.dirname(__file__), "..", "..", ".build", "debug", "custos"))

LERR_HEADER = ["Country/Region", "Code", "Requests", "Accounts", "Content %", "Content", "Non-content %", "Non-content",
               "No data %", "No data", "Rejected %", "Rejected"]
GOOGLE_HEADER = ["Period Ending", "Country/Region", "CLDR Territory Code", "Legal Process", "User Data Requests",
                 "Percentage disclosed", "Accounts"]


def custos(data, *args):
    env = dict(os.environ, CUSTOS_DATA_DIR=data)
    env.pop("CUSTOS_DATABASE_URL", None)
    return subprocess.run([BIN, *args], capture_output=True, text=True, env=env, timeout=120)


def line(id, country, outcome, received="2019-03-01", section="criminal", instrument="us.search_warrant", accounts=1, kind="consumer"):
    return json.dumps({"id": id, "receivedAt": received, "country": country, "section": section, "instrument": instrument,
                       "accounts": accounts, "tenantKind": kind, "outcome": outcome})


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def test_import_then_build_reproduces_the_published_australia_row():
    data = tempfile.mkdtemp(prefix="custos-report-")
    path = os.path.join(data, "history.jsonl")
    # 2019-H1 Australia as Microsoft published it: 887 requests, 647 non-content, 125 no data, 115 rejected.
    lines = [line(f"au-{i}", "AU", "non_content") for i in range(647)] + [line(f"au-n{i}", "AU", "no_data") for i in range(125)] \
        + [line(f"au-r{i}", "AU", "rejected") for i in range(115)] \
        + [line("pres-1", "AU", "no_data", instrument="us.preservation_2703f")] \
        + [line("h2-1", "AU", "content", received="2019-07-01")]
    write(path, lines)
    first = custos(data, "import", "cases", path)
    assert first.returncode == 0, first.stderr
    assert "imported 889 cases; 0 already present" in first.stdout
    again = custos(data, "import", "cases", path)
    assert again.returncode == 0 and "imported 0 cases; 889 already present" in again.stdout

    built = custos(data, "report", "build", "--period", "2019-H1", "--format", "lerr-csv")
    assert built.returncode == 0, built.stderr
    rows = list(csv.reader(io.StringIO(built.stdout)))
    assert rows[0] == LERR_HEADER
    assert rows[1] == ["TOTAL", "ALL", "887", "887", "0.00", "0", "72.94", "647", "14.09", "125", "12.97", "115"]
    assert rows[2] == ["Australia", "AU", "887", "887", "0.00", "0", "72.94", "647", "14.09", "125", "12.97", "115"]
    assert len(rows) == 3

    google = list(csv.reader(io.StringIO(custos(data, "report", "build", "--period", "2019-H1", "--format", "google-csv").stdout)))
    assert google[0] == GOOGLE_HEADER
    assert ["2019-06-30", "Australia", "AU", "Preservation Requests", "1", "", "1"] in google
    assert ["2019-06-30", "Australia", "AU", "Search Warrants", "887", "73", "887"] in google

    report = json.loads(custos(data, "report", "build", "--period", "2019-01-01..2019-12-31", "--format", "json").stdout)
    assert report["preservationRequests"] == 1 and report["factCount"] == 889
    criminal = [s for s in report["sections"] if s["section"] == "criminal"][0]
    assert criminal["rows"][0]["requests"] == 888

    page = custos(data, "report", "build", "--period", "2019-H1", "--format", "html")
    assert page.returncode == 0 and page.stdout.startswith("<!DOCTYPE html>")
    assert page.stdout.count("<svg") == 3 and '<th scope="row">Australia</th>' in page.stdout


def test_a_bad_line_imports_nothing_and_names_its_line():
    data = tempfile.mkdtemp(prefix="custos-report-")
    path = os.path.join(data, "bad.jsonl")
    write(path, [line("a", "DE", "content"), line("b", "DE", "partly"), "{oops", line("c", "Germany", "content")])
    result = custos(data, "import", "cases", path)
    assert result.returncode == 2
    assert "line 2:" in result.stderr and "partly" in result.stderr
    assert "line 3: not a JSON object" in result.stderr
    assert "line 4:" in result.stderr and "alpha-2" in result.stderr
    assert "nothing was imported (3 bad lines)" in result.stderr
    built = custos(data, "report", "build", "--period", "2019-H1", "--format", "lerr-csv")
    assert list(csv.reader(io.StringIO(built.stdout)))[1][2] == "0"


def test_bad_period_and_format_are_refused_clearly():
    data = tempfile.mkdtemp(prefix="custos-report-")
    period = custos(data, "report", "build", "--period", "2019-H3", "--format", "json")
    assert period.returncode != 0 and "YYYY-H1" in period.stderr
    fmt = custos(data, "report", "build", "--period", "2019-H1", "--format", "xlsx")
    assert fmt.returncode != 0 and "lerr-csv" in fmt.stderr


def test_close_freezes_and_signs_and_verify_catches_late_facts():
    data = tempfile.mkdtemp(prefix="custos-report-")
    first, late = os.path.join(data, "first.jsonl"), os.path.join(data, "late.jsonl")
    write(first, [line(f"de-{i}", "DE", "non_content") for i in range(3)])
    write(late, [line("fr-late", "FR", "content")])
    assert custos(data, "import", "cases", first).returncode == 0
    unclosed = custos(data, "report", "verify", "--period", "2019-H1")
    assert unclosed.returncode == 2 and "has not been closed" in unclosed.stderr

    closed = custos(data, "report", "close", "--period", "2019-H1")
    assert closed.returncode == 0, closed.stderr
    body, signature = closed.stdout.split("\n\n", 1)
    assert body.startswith("custos-report/v1 ") and "\nperiod 2019-H1\n" in body and "\nfacts 3\n" in body
    assert signature.startswith("\u2014 ")  # a c2sp.org/signed-note signature line
    assert custos(data, "report", "close", "--period", "2019-H1").returncode == 2
    assert custos(data, "report", "close", "--period", "2999-H1").returncode == 2

    holds = custos(data, "report", "verify", "--period", "2019-H1")
    assert holds.returncode == 0 and "holds" in holds.stdout
    assert custos(data, "import", "cases", late).returncode == 0
    changed = custos(data, "report", "verify", "--period", "2019-H1")
    assert changed.returncode == 1
    assert "criminal FR: frozen absent; now 1 requests" in changed.stderr


DSA_HEADER_START = ["Applicability", "Service", "Reporting period", "Category of illegal content", 'Description of the sub-category "Other"',
                    "Scope", "Number of orders to act against illegal content received"]


def test_dsa_csv_counts_member_state_orders_with_median_hours():
    data = tempfile.mkdtemp(prefix="custos-report-")
    path = os.path.join(data, "eu.jsonl")

    def order(id, country, hours, outcome="non_content", category=None):
        record = json.loads(line(id, country, outcome, received="2019-03-01T08:00:00Z", instrument="eu.epoc"))
        record["acknowledgedAt"] = "2019-03-01T08:00:00Z"
        if hours is not None:
            record["effectAt"] = f"2019-03-{1 + (8 + hours) // 24:02d}T{(8 + hours) % 24:02d}:00:00Z"
        if category:
            record["dsaCategory"] = category
        return json.dumps(record)

    write(path, [order("de-1", "DE", 10), order("de-2", "DE", 30), order("de-3", "DE", None, outcome="rejected"),
                 order("gr-1", "GR", 96, category="STATEMENT_CATEGORY_SCAMS_AND_FRAUD"), line("us-1", "US", "content")])
    assert custos(data, "import", "cases", path).returncode == 0
    env_service = dict(CUSTOS_REPORT_SERVICE="Example Cloud")
    result = subprocess.run([BIN, "report", "build", "--period", "2019-H1", "--format", "dsa-csv"], capture_output=True, text=True,
                            env={**{k: v for k, v in os.environ.items() if k != "CUSTOS_DATABASE_URL"}, "CUSTOS_DATA_DIR": data, **env_service})
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0][:7] == DSA_HEADER_START and len(rows[0]) == 20
    by_key = {(r[5], r[3]): r for r in rows[1:]}
    # TOTAL: 4 orders (the US one is not a Member State's); effect 10, 30, 96 hours -> median 30; receipt at once -> 0.
    total = by_key[("TOTAL", "TOTAL")]
    assert total[:13] == ["All", "Example Cloud", "2019-01-01/2019-06-30", "TOTAL", "", "TOTAL", "", "", "", "", "4", "0", "30"]
    assert by_key[("DE", "TOTAL")][10:13] == ["3", "0", "20"]
    assert by_key[("EL", "STATEMENT_CATEGORY_SCAMS_AND_FRAUD")][10:13] == ["1", "0", "96"]
    assert ("GR", "TOTAL") not in by_key and ("US", "TOTAL") not in by_key
    assert rows[1][5] == "TOTAL" and rows[1][3] == "TOTAL"


def test_demo_load_scale_generates_closed_cases_the_report_counts():
    data = tempfile.mkdtemp(prefix="custos-scale-")
    loaded = custos(data, "demo", "load", "--scale", "2500", "--period", "2021-H1")
    assert loaded.returncode == 0, loaded.stderr
    assert "Generated 2500 closed cases received in 2021-H1" in loaded.stdout
    report = json.loads(custos(data, "report", "build", "--period", "2021-H1", "--format", "json").stdout)
    assert report["factCount"] > 2300  # national-security process is left out of the count
    assert any(r["scope"] == "EL" for r in report["dsa"]["rows"])
    lerr = list(csv.reader(io.StringIO(custos(data, "report", "build", "--period", "2021-H1", "--format", "lerr-csv").stdout)))
    assert lerr[1][:2] == ["TOTAL", "ALL"] and int(lerr[1][2]) > 1000 and len(lerr) > 10
    bad = custos(data, "demo", "load", "--scale", "0")
    assert bad.returncode != 0 and "--scale must be a positive number" in bad.stderr
    bad_period = custos(data, "demo", "load", "--scale", "5", "--period", "2021-H3")
    assert bad_period.returncode != 0 and "YYYY-H1" in bad_period.stderr

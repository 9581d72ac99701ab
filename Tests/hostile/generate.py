#!/usr/bin/env python3
"""Writes the hostile-input corpus (issue 10, item 4) as files; run it again after changing it. The
files are committed so the corpus is reviewed like code.

corpus/<endpoint>-<case>.body: one request body per file. `demand-*` go to POST /api/v1/demands
with an agency token, `notice-*` to POST /api/v1/copyright/notices without one.

requests/<case>.json: whole requests (method, path, who sends it, headers, body) for everything a
body alone cannot say: malformed workflow events, forged and missing CSRF tokens, forged, altered
and expired sessions and tokens, oversize bodies, zip and gzip bombs, path traversal and injection
in URLs, a replayed Idempotency-Key with another body. `{case}` and `{demand}` stand for a case in
review and its demand; `as` is anonymous, officer, other-officer, reviewer, or session (a
reviewer's console session; `{csrf}` is its token); `advance` moves the clock first.

Every one must get a 4xx with a problem body (a page form: a 4xx) and leave stored state
unchanged (HostileInputTests, HostileRequestTests).

injection-payloads.txt: SQL, HTML and script payloads put into every text field of a valid demand;
those must be accepted, stored byte for byte, and shown escaped (HostileRequestTests, and the
browser suite checks that no script runs)."""
import base64
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PDF = base64.b64encode(b"%PDF-1.4 hostile").decode()


def changed(body, changes):
    """The valid body with each change applied (DROP removes the field), as JSON bytes."""
    for key, value in changes.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps(body).encode()


def demand(**changes):
    body = {
        "instrument": "us.search_warrant", "jurisdiction": "US",
        "issuingAuthority": {"name": "U.S. District Court", "role": "judge"},
        "caseReference": "HOSTILE-1", "receivedAt": "2026-05-04T09:00:00Z",
        "targets": [{"type": "email", "value": "alice@example.com"}],
        "categories": ["subscriber_info"], "emergency": False, "preservation": False,
        "documents": [{"filename": "w.pdf", "mediaType": "application/pdf", "base64": PDF}],
    }
    return changed(body, changes)


def notice(**changes):
    body = {
        "complainant": {"name": "Jane Roe", "email": "jane@roe.example", "address": "1 Main St"},
        "works": [{"description": "A photo", "infringingURLs": ["https://northwind.example/a.jpg"]}],
        "signature": "/s/ Jane Roe", "goodFaithStatement": True, "accuracyUnderPenaltyOfPerjury": True,
    }
    return changed(body, changes)


DROP = object()
cases = {}

# Malformed JSON, for both endpoints.
malformed = {
    "empty": b"", "whitespace": b"   \n\t ", "null": b"null", "array": b"[]", "string": b'"demand"', "number": b"42",
    "truncated": b'{"instrument": "us.search_warrant", "jurisdiction": ', "trailing-comma": b'{"instrument": "x",}',
    "single-quotes": b"{'instrument': 'x'}", "nan": b'{"offenceMaxYears": NaN}', "comment": b'{/* x */ "instrument": "x"}',
    "unquoted-key": b"{instrument: 1}", "two-objects": b"{}{}", "bom-then-garbage": b"\xef\xbb\xbf{]",
    "invalid-utf8": b'{"caseReference": "\xff\xfe\xfd"}', "overlong-utf8": b'{"caseReference": "\xc0\xaf"}',
    "lone-surrogate": b'{"caseReference": "\\ud800"}', "nul-byte": b'{"caseReference": "a\x00b"}',
    "deep-array": b"[" * 5000 + b"]" * 5000, "deep-object": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "huge-number": b'{"offenceMaxYears": 1' + b"0" * 5000 + b"}", "binary": bytes(range(256)),
}
for name, body in malformed.items():
    cases[f"demand-malformed-{name}"] = body
    cases[f"notice-malformed-{name}"] = body

# Demands: every field wrong in turn.
wrong = {
    "no-instrument": dict(instrument=DROP), "unknown-instrument": dict(instrument="us.magic_wand"),
    "instrument-number": dict(instrument=7), "instrument-sql": dict(instrument="us.subpoena' OR '1'='1"),
    "no-jurisdiction": dict(jurisdiction=DROP), "jurisdiction-long": dict(jurisdiction="U" * 300),
    "jurisdiction-script": dict(jurisdiction="<script>"), "authority-missing": dict(issuingAuthority=DROP),
    "authority-role-unknown": dict(issuingAuthority={"name": "X", "role": "king"}),
    "authority-string": dict(issuingAuthority="the court"), "reference-empty": dict(caseReference=""),
    "reference-huge": dict(caseReference="R" * 300000), "reference-array": dict(caseReference=["a"]),
    "received-bad": dict(receivedAt="yesterday"), "received-year-0": dict(receivedAt="0000-01-01T00:00:00Z"),
    "received-month-13": dict(receivedAt="2026-13-01T00:00:00Z"), "received-number": dict(receivedAt=1714800000),
    "no-targets": dict(targets=[]), "targets-null": dict(targets=None),
    "target-type-unknown": dict(targets=[{"type": "soul", "value": "x"}]),
    "target-value-empty": dict(targets=[{"type": "email", "value": ""}]),
    "target-value-huge": dict(targets=[{"type": "email", "value": "a" * 300000 + "@x.example"}]),
    "targets-many": dict(targets=[{"type": "email", "value": f"u{i}@x.example"} for i in range(5000)]),
    "no-categories": dict(categories=[]), "category-unknown": dict(categories=["thoughts"]),
    "categories-string": dict(categories="content"), "emergency-string": dict(emergency="yes"),
    "window-inverted": dict(window={"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}),
    "window-bad": dict(window={"from": "x", "to": "y"}), "offence-negative": dict(offenceMaxYears=-5),
    "offence-float": dict(offenceMaxYears=2.5), "no-documents": dict(documents=[]),
    "document-base64-bad": dict(documents=[{"filename": "w.pdf", "mediaType": "application/pdf", "base64": "!!!not base64!!!"}]),
    "document-empty": dict(documents=[{"filename": "w.pdf", "mediaType": "application/pdf", "base64": ""}]),
    "document-too-large": dict(documents=[{"filename": "w.pdf", "mediaType": "application/pdf", "base64": base64.b64encode(b"%PDF" + b"0" * 5000).decode()}]),
    "document-path-traversal": dict(documents=[{"filename": "../../etc/passwd", "mediaType": "application/pdf", "base64": PDF}]),
    "document-path-absolute": dict(documents=[{"filename": "/etc/shadow", "mediaType": "application/pdf", "base64": PDF}]),
    "document-backslash": dict(documents=[{"filename": "..\\\\..\\\\boot.ini", "mediaType": "application/pdf", "base64": PDF}]),
    "document-name-empty": dict(documents=[{"filename": "", "mediaType": "application/pdf", "base64": PDF}]),
    "document-name-nul": dict(documents=[{"filename": "a\u0000.pdf", "mediaType": "application/pdf", "base64": PDF}]),
    "document-name-bidi": dict(documents=[{"filename": "invoice\u202efdp.exe", "mediaType": "application/pdf", "base64": PDF}]),
    "document-name-zero-width": dict(documents=[{"filename": "w\u200b.pdf", "mediaType": "application/pdf", "base64": PDF}]),
    "document-name-dotdot": dict(documents=[{"filename": "..", "mediaType": "application/pdf", "base64": PDF}]),
    "document-png-claims-pdf": dict(documents=[{"filename": "w.pdf", "mediaType": "application/pdf", "base64": base64.b64encode(b"\x89PNG\r\n").decode()}]),
    "document-type-html": dict(documents=[{"filename": "x.html", "mediaType": "text/html", "base64": base64.b64encode(b"<script>alert(1)</script>").decode()}]),
    "document-type-exe": dict(documents=[{"filename": "x.exe", "mediaType": "application/x-msdownload", "base64": base64.b64encode(b"MZ").decode()}]),
    "document-not-pdf": dict(documents=[{"filename": "w.pdf", "mediaType": "application/pdf", "base64": base64.b64encode(b"<html>").decode()}]),
    "documents-many": dict(documents=[{"filename": f"w{i}.pdf", "mediaType": "application/pdf", "base64": PDF} for i in range(200)]),
    "unknown-field": dict(instrumnet="us.subpoena"), "misspelt-gag-order": dict(nonDisclosureOrdr={"basis": "18 U.S.C. § 2705(b)", "indefinite": True}),
    "unknown-nested-field": dict(issuingAuthority={"name": "Court", "role": "judge", "seal": "forged"}), "ndo-bad-date": dict(nonDisclosureOrder={"basis": "x", "until": "soon"}),
    "ndo-no-basis": dict(nonDisclosureOrder={"until": "2027-01-01"}),
}
for name, changes in wrong.items():
    cases[f"demand-{name}"] = demand(**changes)

# Copyright notices: the shape is checked before anything is stored (the § 512 elements after confirmation).
notice_wrong = {
    "no-complainant": dict(complainant=DROP), "email-missing": dict(complainant={"name": "J"}),
    "email-invalid": dict(complainant={"name": "J", "email": "jane at roe"}),
    "email-header-injection": dict(complainant={"name": "J", "email": "jane@roe.example\r\nBcc: all@example.com"}),
    "email-spaces": dict(complainant={"name": "J", "email": "jane @roe.example"}),
    "email-huge": dict(complainant={"name": "J", "email": "j" * 5000 + "@roe.example"}),
    "works-string": dict(works="a photo"), "works-null": dict(works=None), "works-missing": dict(works=DROP),
    "works-too-many": dict(works=[{"description": "w", "infringingURLs": ["https://a.example/x"]} for _ in range(51)]),
    "urls-too-many": dict(works=[{"description": "w", "infringingURLs": [f"https://a.example/{i}" for i in range(501)]}]),
    "description-huge": dict(works=[{"description": "d" * 5000, "infringingURLs": ["https://a.example/x"]}]),
    "url-huge": dict(works=[{"description": "d", "infringingURLs": ["https://a.example/" + "x" * 5000]}]),
    "signature-huge": dict(signature="s" * 5000), "signature-number": dict(signature=5),
    "statements-strings": dict(goodFaithStatement="yes"), "statements-missing": dict(accuracyUnderPenaltyOfPerjury=DROP),
    "name-huge": dict(complainant={"name": "n" * 5000, "email": "jane@roe.example"}),
    "unknown-field": dict(priority="urgent"),
}
for name, changes in notice_wrong.items():
    cases[f"notice-{name}"] = notice(**changes)

os.makedirs(os.path.join(HERE, "corpus"), exist_ok=True)
for old in os.listdir(os.path.join(HERE, "corpus")):
    os.remove(os.path.join(HERE, "corpus", old))
for name, body in cases.items():
    with open(os.path.join(HERE, "corpus", name + ".body"), "wb") as f:
        f.write(body)
# Whole requests -----------------------------------------------------------------------------------
requests = {}


def request(name, method, path, as_="reviewer", body=None, headers=None, expect=(400, 499), advance=None, first=None, problem=True):
    spec = {"method": method, "path": path, "as": as_, "expect": list(expect), "problem": problem}
    if body is not None:
        if isinstance(body, bytes):
            try:
                spec["body"] = body.decode("utf-8")
            except UnicodeDecodeError:
                spec["bodyBase64"] = base64.b64encode(body).decode()
        else:
            spec["body"] = body if isinstance(body, str) else json.dumps(body)
    spec["headers"] = headers if headers is not None else ({"Content-Type": "application/json"} if body is not None else {})
    if advance:
        spec["advance"] = advance
    if first:
        spec["first"] = first
    requests[name] = spec


EVENTS = "/api/v1/cases/{case}/events"
malformed_events = {
    "empty": "", "empty-object": {}, "type-number": {"type": 5}, "type-null": {"type": None}, "type-unknown": {"type": "teleport"},
    "type-capitals": {"type": "BEGIN_REVIEW"}, "type-trailing-space": {"type": "begin_review "}, "type-array": {"type": ["reject"]},
    "type-sql": {"type": "begin_review'; DROP TABLE cases; --"}, "type-script": {"type": "<script>alert(1)</script>"},
    "callback-without-phone": {"type": "record_callback", "confirmed": True}, "callback-phone-not-uuid": {"type": "record_callback", "phoneId": "555-0100", "confirmed": True},
    "callback-phone-unknown": {"type": "record_callback", "phoneId": "00000000-0000-0000-0000-000000000000", "confirmed": True, "spokeWith": "x"},
    "scope-unknown-category": {"type": "approve_scope", "categories": ["teleportation"]}, "scope-categories-string": {"type": "approve_scope", "categories": "all"},
    "scope-encryption-keys": {"type": "approve_scope", "categories": ["encryption_keys"]}, "preservation-bad-date": {"type": "begin_preservation", "until": "soon"},
    "follow-up-wrong-state": {"type": "record_follow_up", "received": True, "reference": "x"}, "reason-null": {"type": "reject", "reason": None},
    "unknown-field": {"type": "begin_review", "priority": 1}, "check-name-blank": {"type": "record_check", "check": "   ", "passed": True},
    "check-callback-without-number": {"type": "record_check", "check": "callback", "passed": True},
    "customer-answer-by-staff": {"type": "customer_answer", "answer": "consent"}, "withdraw-by-staff": {"type": "withdraw", "reason": "x"},
    "reassess-with-rules": {"type": "reassess", "ruleIds": [1, 2]}, "record-count-string": {"type": "collection_finished", "recordCount": "many"},
    "release-before-approval": {"type": "release"}, "deep": '{"type": "reject", "reason": ' + "[" * 3000 + "]" * 3000 + "}",
    "invalid-utf8": b'{"type": "reject", "reason": "\xff\xfe"}', "nul-in-type": '{"type": "reject\u0000"}',
}
for name, body in malformed_events.items():
    request(f"event-{name}", "POST", EVENTS, body=body.encode("utf-8", "surrogateescape") if isinstance(body, str) and "\\x" in body else body)
request("event-text-plain", "POST", EVENTS, body='{"type": "begin_review"}', headers={"Content-Type": "text/plain"})
request("event-form-encoded", "POST", EVENTS, body="type=reject&reason=x", headers={"Content-Type": "application/x-www-form-urlencoded"})
request("event-unknown-case", "POST", "/api/v1/cases/00000000-0000-0000-0000-000000000000/events", body={"type": "begin_review"})
request("event-case-not-uuid", "POST", "/api/v1/cases/1%20OR%201%3D1/events", body={"type": "begin_review"})

AGENCY_EVENTS = "/api/v1/demands/{demand}/events"
for name, body in {
    "empty-object": {}, "staff-event": {"type": "begin_review"}, "answer-unknown": {"type": "agency_answer", "answer": "maybe"},
    "answer-missing": {"type": "agency_answer"}, "replied-wrong-state": {"type": "agency_replied", "note": "x"},
    "reason-null": {"type": "withdraw", "reason": None}, "unknown-field": {"type": "withdraw", "reason": "x", "force": True},
    "array": [], "null": "null",
}.items():
    request(f"agency-event-{name}", "POST", AGENCY_EVENTS, as_="officer", body=body)
request("agency-event-other-agency", "POST", AGENCY_EVENTS, as_="other-officer", body={"type": "withdraw", "reason": "not mine"})
request("agency-event-staff-token", "POST", AGENCY_EVENTS, as_="reviewer", body={"type": "withdraw", "reason": "x"})

REVOKE = "/api/v1/cases/{case}/production/revoke"
for name, body in {
    "empty-object": {}, "reason-empty": {"reason": ""}, "reason-blank": {"reason": "   "}, "reason-number": {"reason": 5},
    "reason-null": {"reason": None}, "unknown-field": {"reason": "x", "extra": 1}, "nothing-released": {"reason": "leaked"},
}.items():
    request(f"revoke-{name}", "POST", REVOKE, body=body)

# Forged, altered and missing credentials: 401, never a page of data.
for name, value in {
    "bearer-empty": "Bearer", "bearer-space": "Bearer ", "bearer-prefix-only": "Bearer cst_", "bearer-made-up": "Bearer cst_" + "A" * 43,
    "basic": "Basic dXNlcjpwYXNzd29yZA==", "token-scheme": "Token abc", "bearer-huge": "Bearer " + "x" * 8000,
    "bearer-sql": "Bearer ' OR '1'='1", "bearer-nul": "Bearer cst_abc\u0000", "bearer-two-tokens": "Bearer cst_a, Bearer cst_b",
}.items():
    request(f"auth-{name}", "GET", "/api/v1/cases", as_="anonymous", headers={"Authorization": value}, expect=(401, 401))
request("auth-officer-token-altered", "GET", "/api/v1/cases", as_="anonymous", headers={"Authorization": "Bearer {officer_token}x"}, expect=(401, 401))
for name, cookie in {"session-forged": "custos_session=forged", "session-sql": "custos_session=' OR 1=1 --",
                     "session-huge": "custos_session=" + "s" * 4000, "session-altered": "custos_session={session}x"}.items():
    request(f"auth-{name}", "GET", "/api/v1/cases", as_="anonymous", headers={"Cookie": cookie}, expect=(401, 401))

# CSRF: a console session's writes need its token (header for the API, form field for pages).
request("csrf-api-missing", "POST", EVENTS, as_="session", body={"type": "record_check", "check": "document_signed", "passed": True}, expect=(403, 403))
request("csrf-api-forged", "POST", EVENTS, as_="session", body={"type": "record_check", "check": "document_signed", "passed": True},
        headers={"Content-Type": "application/json", "X-CSRF-Token": "forged"}, expect=(403, 403))
request("csrf-api-empty", "POST", EVENTS, as_="session", body={"type": "record_check", "check": "document_signed", "passed": True},
        headers={"Content-Type": "application/json", "X-CSRF-Token": ""}, expect=(403, 403))
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
request("csrf-form-forged", "POST", "/staff/cases/{case}/events", as_="session", body="_csrf=forged&type=record_check&check=document_signed&passed=true",
        headers=FORM, expect=(403, 403), problem=False)
request("csrf-form-missing", "POST", "/staff/cases/{case}/events", as_="session", body="type=record_check&check=document_signed&passed=true",
        headers=FORM, expect=(403, 403), problem=False)
request("csrf-form-other-session", "POST", "/staff/cases/{case}/events", as_="session", body="_csrf={other_csrf}&type=record_check&check=document_signed&passed=true",
        headers=FORM, expect=(403, 403), problem=False)
request("csrf-form-token-in-query", "POST", "/staff/cases/{case}/events?_csrf={csrf}", as_="session", body="type=record_check&check=document_signed&passed=true",
        headers=FORM, expect=(403, 403), problem=False)

# Expired: a session past CUSTOS_SESSION_MINUTES (the test sets 60) is refused.
request("expired-session-api", "GET", "/api/v1/cases", as_="session", advance=3 * 3600, expect=(401, 401))
request("expired-session-write", "POST", EVENTS, as_="session", advance=3 * 3600, body={"type": "record_check", "check": "document_signed", "passed": True},
        headers={"Content-Type": "application/json", "X-CSRF-Token": "{csrf}"}, expect=(401, 401))

# Oversize bodies (the test sets CUSTOS_MAX_REQUEST_BYTES to 65536) and bombs.
big = "R" * 70000
request("oversize-demand", "POST", "/api/v1/demands", as_="officer", body={"caseReference": big}, expect=(413, 413))
request("oversize-notice", "POST", "/api/v1/copyright/notices", as_="anonymous", body={"signature": big}, expect=(413, 413))
request("oversize-event", "POST", EVENTS, body={"type": "reject", "reason": big}, expect=(413, 413))
request("oversize-revoke", "POST", REVOKE, body={"reason": big}, expect=(413, 413))
boundary = "hostileboundary"
multipart_big = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"document\"; filename=\"w.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF"
                 + "A" * 70000 + f"\r\n--{boundary}--\r\n")
request("oversize-multipart", "POST", "/api/v1/demands", as_="officer", body=multipart_big,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}, expect=(413, 413))


def zip_bomb():
    # A ZIP holding 10 MiB of zeros compresses to about 10 KB: Custos must never inflate it.
    import io
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        # a fixed date keeps the file the same on every run of this script
        archive.writestr(zipfile.ZipInfo("zeros.bin", date_time=(2026, 1, 1, 0, 0, 0)), b"\0" * (10 * 1024 * 1024), zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def gzip_bomb():
    import gzip
    return gzip.compress(b"\0" * (10 * 1024 * 1024), mtime=0)


bomb = base64.b64encode(zip_bomb()).decode()
request("zip-bomb-as-zip", "POST", "/api/v1/demands", as_="officer",
        body=json.loads(demand(documents=[{"filename": "evidence.zip", "mediaType": "application/zip", "base64": bomb}])))
request("zip-bomb-as-pdf", "POST", "/api/v1/demands", as_="officer",
        body=json.loads(demand(documents=[{"filename": "warrant.pdf", "mediaType": "application/pdf", "base64": bomb}])))
request("gzip-bomb-body", "POST", "/api/v1/demands", as_="officer", body=gzip_bomb(),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
request("gzip-bomb-notice", "POST", "/api/v1/copyright/notices", as_="anonymous", body=gzip_bomb(),
        headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})

# URLs: traversal, NUL, injection in paths and queries.
for name, path in {
    "case-traversal": "/api/v1/cases/..%2F..%2F..%2Fetc%2Fpasswd", "case-nul": "/api/v1/cases/%00",
    "case-sql": "/api/v1/cases/1%27%20OR%20%271%27%3D%271", "case-script": "/api/v1/cases/%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "production-traversal": "/api/v1/cases/..%2F..%2Fcustos.sqlite/production", "tile-traversal": "/log/legal-process/tile/..%2F..%2F..%2Fetc%2Fpasswd",
    "tile-huge-index": "/log/legal-process/tile/0/x999/x999/x999/x999/x999/999", "state-sql": "/api/v1/cases?state=%27%20OR%201%3D1%20--",
    "country-sql": "/api/v1/cases?country=US%27--", "instrument-script": "/api/v1/cases?instrument=%3Cscript%3E",
    "lumen-bad-date": "/api/v1/copyright/lumen?from=2026-13-45", "lumen-sql-date": "/api/v1/copyright/lumen?from=%27%20or%201%3D1",
    "demand-is-a-case": "/api/v1/demands/{case}", "path-huge": "/api/v1/cases/" + "a" * 6000,
}.items():
    who = "officer" if name.startswith("demand-") else "reviewer"
    request(f"url-{name}", "GET", path, as_=who)
request("url-attachment-traversal", "GET", "/staff/attachments/..%2F..%2Fcustos.sqlite", as_="session", problem=False)

# A replayed Idempotency-Key with another body is refused; the first request stands.
replay_first = [{"method": "POST", "path": "/api/v1/demands", "as": "officer", "body": demand(caseReference="REPLAY-1").decode(),
                 "headers": {"Content-Type": "application/json", "Idempotency-Key": "replay-1"}, "expect": [201, 201], "problem": False}]
request("idempotency-replay-other-body", "POST", "/api/v1/demands", as_="officer", body=json.loads(demand(caseReference="REPLAY-2")),
        headers={"Content-Type": "application/json", "Idempotency-Key": "replay-1"}, first=replay_first, expect=(409, 422))
request("idempotency-key-huge", "POST", "/api/v1/demands", as_="officer", body=json.loads(demand(caseReference="KEY-1")),
        headers={"Content-Type": "application/json", "Idempotency-Key": "k" * 201})
request("idempotency-key-control", "POST", "/api/v1/demands", as_="officer", body=json.loads(demand(caseReference="KEY-2")),
        headers={"Content-Type": "application/json", "Idempotency-Key": "a\tb"})

os.makedirs(os.path.join(HERE, "requests"), exist_ok=True)
for old in os.listdir(os.path.join(HERE, "requests")):
    os.remove(os.path.join(HERE, "requests", old))
for name, spec in requests.items():
    with open(os.path.join(HERE, "requests", name + ".json"), "w") as f:
        json.dump(spec, f, indent=1, sort_keys=True)
        f.write("\n")

payloads = [
    "'; DROP TABLE demands; --", "\" OR \"1\"=\"1", "1); DELETE FROM audit_entries WHERE (1=1",
    "<script>window.__custosInjected=1</script>", "<img src=x onerror=\"window.__custosInjected=1\">",
    "\"><svg onload=window.__custosInjected=1>", "javascript:window.__custosInjected=1", "{{#x}}{{{y}}}{{/x}}",
    "</textarea><script>window.__custosInjected=1</script>", "' onmouseover='window.__custosInjected=1",
]
with open(os.path.join(HERE, "injection-payloads.txt"), "w") as f:
    f.write("\n".join(payloads) + "\n")
print(len(cases), "bodies,", len(requests), "requests,", len(payloads), "injection payloads")


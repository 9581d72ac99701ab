#!/usr/bin/env python3
"""Writes the hostile-input corpus (issue 10, item 4) as files: one request body per file, named
`<endpoint>-<case>.body`. `demand-*` go to POST /api/v1/demands with an agency token, `notice-*`
to POST /api/v1/copyright/notices without one. Every one must get a 4xx with a problem body and
leave stored state unchanged (AccessMatrix's sibling, HostileInputTests). Run it again after
changing it; the files are committed so the corpus is reviewed like code."""
import base64
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PDF = base64.b64encode(b"%PDF-1.4 hostile").decode()


def demand(**changes):
    body = {
        "instrument": "us.search_warrant", "jurisdiction": "US",
        "issuingAuthority": {"name": "U.S. District Court", "role": "judge"},
        "caseReference": "HOSTILE-1", "receivedAt": "2026-05-04T09:00:00Z",
        "targets": [{"type": "email", "value": "alice@example.com"}],
        "categories": ["subscriber_info"], "emergency": False, "preservation": False,
        "documents": [{"filename": "w.pdf", "mediaType": "application/pdf", "base64": PDF}],
    }
    for key, value in changes.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps(body).encode()


def notice(**changes):
    body = {
        "complainant": {"name": "Jane Roe", "email": "jane@roe.example", "address": "1 Main St"},
        "works": [{"description": "A photo", "infringingURLs": ["https://northwind.example/a.jpg"]}],
        "signature": "/s/ Jane Roe", "goodFaithStatement": True, "accuracyUnderPenaltyOfPerjury": True,
    }
    for key, value in changes.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps(body).encode()


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
print(len(cases), "cases")

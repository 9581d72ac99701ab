#!/usr/bin/env python3
"""API fuzzing (issue 10, item 2): schemathesis (from PyPI) against the server's own /openapi.yaml,
once as each kind of caller, with every check schemathesis has (no 5xx; status codes, content
types, bodies and headers as documented; schema-invalid requests refused; undocumented methods
answered 405; …) except the one Tests/stress/schemathesis.toml turns off for workflow events, and why.

    python3 Tests/stress/fuzz_api.py --bin .build/debug/custos --work DIR [--examples 25] [--minimum 5000]

Starts its own server on a fresh demo data set, issues an API token to each kind of user, runs
schemathesis as anonymous, two agencies, each staff role and a customer, and fails unless every run
passes and at least --minimum requests were generated in all. Afterwards the audit and
legal-process logs must still verify (`custos log verify`).
"""
import argparse
import base64
import os
import re
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))

CALLERS = [
    ("anonymous", None),
    ("agency", "officer@fbi-seattle.example"),
    ("other agency", "ermittler@lka-bw.example"),
    ("intake", "intake@provider.example"),
    ("reviewer", "reviewer@provider.example"),
    ("approver", "approver1@provider.example"),
    ("custodian", "custodian@provider.example"),
    ("auditor", "auditor@provider.example"),
    ("admin", "admin@provider.example"),
    ("customer", "legal@northwind.example"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--port", type=int, default=18410)
    parser.add_argument("--examples", type=int, default=25, help="schemathesis --max-examples per operation and caller")
    parser.add_argument("--minimum", type=int, default=5000, help="fewest generated requests in all")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    data = os.path.join(args.work, "data")
    os.makedirs(data, exist_ok=True)
    env = dict(os.environ, CUSTOS_DATA_DIR=data, CUSTOS_PORT=str(args.port), CUSTOS_LOG_LEVEL="warning",
               # the fuzzer files thousands of copyright notices; the per-address limit is tested elsewhere
               CUSTOS_PUBLIC_FORMS_PER_HOUR="1000000")
    if args.database_url:
        env["CUSTOS_DATABASE_URL"] = args.database_url
        env["CUSTOS_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()

    def cli(*arguments, stdin=None):
        done = subprocess.run([args.bin, *arguments], env=env, input=stdin, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            sys.exit(f"FUZZ FAILED: custos {' '.join(arguments)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    cli("demo", "load")  # the demo set has both agencies' officers, every staff role and the customers
    tokens = {name: cli("token", "add", "--email", email, "--label", "fuzz").strip().splitlines()[-1]
              for name, email in CALLERS if email}

    log = open(os.path.join(args.work, "server.log"), "ab")
    server = subprocess.Popen([args.bin, "serve"], env=env, stdout=log, stderr=log)
    try:
        base = f"http://127.0.0.1:{args.port}"
        for _ in range(240):
            try:
                urllib.request.urlopen(base + "/health", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None:
                    sys.exit("FUZZ FAILED: the server exited on start")
                time.sleep(0.5)
        total, failed = 0, []
        started = time.time()
        for name, email in CALLERS:
            command = ["schemathesis", "--config-file", os.path.join(HERE, "schemathesis.toml"), "--no-color", "run",
                       base + "/openapi.yaml", "--max-examples", str(args.examples), "--workers", "2"]
            if email:
                command += ["-H", f"Authorization: Bearer {tokens[name]}"]
            # run in the work folder: schemathesis keeps a cache (.schemathesis/) where it runs
            done = subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=args.work)
            found = re.search(r"(\d+) generated", done.stdout)
            generated = int(found.group(1)) if found else 0
            total += generated
            print(f"schemathesis as {name}: {generated} requests, exit {done.returncode}", flush=True)
            if done.returncode != 0:
                failed.append(name)
                print(done.stdout[-12000:], flush=True)
        if server.poll() is not None:
            sys.exit("FUZZ FAILED: the server died while being fuzzed; see " + os.path.join(args.work, "server.log"))
    finally:
        server.terminate()
        server.wait(timeout=30)
    verify = subprocess.run([args.bin, "log", "verify"], env=env, capture_output=True, text=True, timeout=300)
    if verify.returncode != 0:
        sys.exit(f"FUZZ FAILED: custos log verify after fuzzing:\n{verify.stdout}\n{verify.stderr}")
    if failed:
        sys.exit(f"FUZZ FAILED as {', '.join(failed)} (output above)")
    if total < args.minimum:
        sys.exit(f"FUZZ FAILED: only {total} requests generated, fewer than {args.minimum}")
    print(f"fuzzing passed: {total} generated requests as {len(CALLERS)} kinds of caller, no failure, "
          f"custos log verify passed, in {time.time() - started:.0f} s", flush=True)


if __name__ == "__main__":
    main()

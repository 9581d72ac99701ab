#!/usr/bin/env python3
"""Crash harness (issue 10, item 1): kill the real server with SIGKILL while it takes demands,
moves cases, delivers customer notices and builds production packages; restart it; check that
nothing acknowledged was lost, nothing was stored twice, every notice reached the receiver, every
package on disk verifies, and `custos log verify` holds.

Runs on the embedded SQLite default, or on PostgreSQL with --database-url. Standard library only.

    python3 Tests/stress/crash_harness.py --bin .build/debug/custos --rounds 10 [--database-url URL]

What is checked after every restart:
  * every demand the server acknowledged (201) is there, with its reference;
  * a demand whose answer was lost in the crash, sent again with the same Idempotency-Key, gets
    one answer and is stored once (no reference appears twice);
  * every case event the server acknowledged (200) is there: the case's version is at least the
    acknowledged one and its state never went back;
  * `custos log verify` passes (the Merkle audit log and the legal-process log).
At the end, with the server left running: every case that reached review delivers its customer
notice, under exactly one delivery id, and every case sent to collection ends with a built package;
then every package file passes `custos package verify` and `custos log verify` passes once more.
"""
import argparse
import base64
import hashlib
import hmac
import http.server
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

PDF = base64.b64encode(b"%PDF-1.4\n% crash harness warrant\n").decode()
STATE_ORDER = ["received", "verifying", "in_review", "scope_approved", "collecting", "ready_for_release"]


class Failure(Exception):
    pass


def demand_body(reference):
    return json.dumps({
        "instrument": "us.search_warrant", "jurisdiction": "US", "subdivision": "US-WA",
        "issuingAuthority": {"name": "U.S. District Court, W.D. Wash.", "role": "judge"},
        "caseReference": reference, "receivedAt": "2026-11-02T09:00:00Z",
        "targets": [{"type": "email", "value": "alice@example.com"}],
        "categories": ["subscriber_info"],
        "window": {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
        "offenceMaxYears": 5, "emergency": False, "preservation": False,
        "documents": [{"filename": "warrant.pdf", "mediaType": "application/pdf", "base64": PDF}],
    }).encode()


class Receiver:
    """The customer's webhook endpoint: checks each Standard Webhooks signature, keeps every delivery."""

    def __init__(self, secret):
        self.key = base64.b64decode(secret.split("_", 1)[1])
        self.lock = threading.Lock()
        self.deliveries = []  # (webhook-id, case number)
        self.bad_signatures = 0
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                wid, ts = self.headers.get("webhook-id", ""), self.headers.get("webhook-timestamp", "")
                mac = base64.b64encode(hmac.new(receiver.key, f"{wid}.{ts}.".encode() + body, hashlib.sha256).digest()).decode()
                if f"v1,{mac}" not in self.headers.get("webhook-signature", "").split(" "):
                    with receiver.lock:
                        receiver.bad_signatures += 1
                    self.send_response(401)
                    self.end_headers()
                    return
                number = json.loads(body).get("caseNumber")
                with receiver.lock:
                    receiver.deliveries.append((wid, number))
                self.send_response(204)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def ids_by_case(self):
        with self.lock:
            found = {}
            for wid, number in self.deliveries:
                found.setdefault(number, []).append(wid)
            return found


class Harness:
    def __init__(self, args):
        self.args = args
        self.base = f"http://127.0.0.1:{args.port}"
        self.data = os.path.join(args.work, "data")
        os.makedirs(self.data, exist_ok=True)
        secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        self.receiver = Receiver(secret)
        self.env = dict(os.environ, CUSTOS_DATA_DIR=self.data, CUSTOS_NOTICE_WEBHOOK_URL=self.receiver.url,
                        CUSTOS_NOTICE_WEBHOOK_SECRET=secret, CUSTOS_NOTICE_INTERVAL_SECONDS="1",
                        CUSTOS_AUDIT_CHECKPOINT_SECONDS="2", CUSTOS_LOG_LEVEL="notice")
        if args.database_url:
            self.env["CUSTOS_DATABASE_URL"] = args.database_url
            # Issue 28: on PostgreSQL the installation's keys are sealed with a master key given to it.
            self.env["CUSTOS_MASTER_KEY"] = base64.b64encode(os.urandom(32)).decode()
        self.server = None
        self.lock = threading.Lock()
        self.acked = {}        # reference -> demand id
        self.unknown = {}      # reference -> idempotency key whose answer was lost
        self.keys = {}         # reference -> idempotency key
        self.case_of = {}      # demand id -> case id
        self.events = {}       # case id -> (version, state) last acknowledged
        self.collecting = set()  # case ids whose start_collection was acknowledged
        self.counter = 0
        self.collect_every = 3  # every third case goes on to approval and a package build
        self.stats = {"demands_acked": 0, "demands_resent": 0, "events_acked": 0, "lost_answers": 0, "kills": 0}

    # -- processes -------------------------------------------------------------------------------
    def cli(self, *arguments, check=True):
        done = subprocess.run([self.args.bin, *arguments], env=self.env, capture_output=True, text=True, timeout=600)
        if check and done.returncode != 0:
            raise Failure(f"custos {' '.join(arguments)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done

    def start(self):
        log = open(os.path.join(self.args.work, "server.log"), "ab")
        self.server = subprocess.Popen([self.args.bin, "serve", "--port", str(self.args.port)], env=self.env, stdout=log, stderr=log)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.server.poll() is not None:
                raise Failure(f"the server exited with {self.server.returncode} on start; see {self.args.work}/server.log")
            try:
                urllib.request.urlopen(self.base + "/health", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise Failure("the server did not answer /health within 120 s")

    def kill(self):
        self.server.send_signal(signal.SIGKILL)
        self.server.wait()
        self.stats["kills"] += 1

    def stop(self):
        self.server.send_signal(signal.SIGTERM)
        try:
            self.server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.server.kill()
            raise Failure("the server did not stop within 30 s of SIGTERM")

    # -- HTTP --------------------------------------------------------------------------------------
    def call(self, method, path, token, body=None, headers=None, timeout=30):
        request = urllib.request.Request(self.base + path, data=body, method=method)
        request.add_header("Authorization", f"Bearer {token}")
        if body is not None:
            request.add_header("Content-Type", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(errors="replace")

    def all_demands(self, token):
        """Every demand of the token's agency: GET /api/v1/demands a page at a time, following each
        page's `Link: <…>; rel="next"` as any client does."""
        demands, path = [], "/api/v1/demands?limit=500"
        while path:
            request = urllib.request.Request(self.base + path)
            request.add_header("Authorization", f"Bearer {token}")
            with urllib.request.urlopen(request, timeout=30) as response:
                demands += json.loads(response.read())
                link = response.headers.get("Link") or ""
            path = link[1:link.index(">")] if link.startswith("<") and 'rel="next"' in link else None
        return demands

    # -- the workload ------------------------------------------------------------------------------
    def intake(self, stop):
        while not stop.is_set():
            with self.lock:
                self.counter += 1
                reference = f"CRASH-{self.counter:05d}"
                key = str(uuid.uuid4())
                self.keys[reference] = key
            try:
                status, body = self.call("POST", "/api/v1/demands", self.tokens["officer"], demand_body(reference), {"Idempotency-Key": key})
            except OSError:
                with self.lock:
                    self.unknown[reference] = key
                    self.stats["lost_answers"] += 1
                return
            if status != 201:
                raise Failure(f"intake of {reference} answered {status}: {body}")
            with self.lock:
                self.acked[reference] = body["id"]
                self.stats["demands_acked"] += 1

    def step(self, case_id, token, event):
        status, body = self.call("POST", f"/api/v1/cases/{case_id}/events", token, json.dumps(event).encode())
        if status != 200:
            raise Failure(f"{event['type']} on {case_id} answered {status}: {body}")
        with self.lock:
            self.events[case_id] = (body["version"], body["state"])
            self.stats["events_acked"] += 1
            if event["type"] == "start_collection":
                self.collecting.add(case_id)
        return body

    def advance(self, stop):
        """Moves the harness's cases on: review for all, approval and collection for every third."""
        while not stop.is_set():
            try:
                status, cases = self.call("GET", "/api/v1/cases", self.tokens["reviewer"])
                if status != 200:
                    raise Failure(f"GET /api/v1/cases answered {status}: {cases}")
                ours = {c["demandID"].lower(): c for c in cases}
                with self.lock:
                    mine = [(ref, did) for ref, did in self.acked.items()]
                moved = False
                for ref, did in mine:
                    case = ours.get(did.lower())
                    if case is None or stop.is_set():
                        continue
                    with self.lock:
                        self.case_of[did] = case["id"]
                    collect = self.collect_every > 0 and int(ref.split("-")[1]) % self.collect_every == 0
                    if case["state"] == "received":
                        self.step(case["id"], self.tokens["reviewer"], {"type": "begin_review"})
                        moved = True
                    elif case["state"] == "in_review" and collect:
                        # two different approvers must approve the same scope; one may already have
                        approved = {a.get("by", "").lower().split(":")[-1] for a in case.get("scopeApprovals", [])}
                        for who in ("approver1", "approver2"):
                            if f"{who}@provider.example" not in approved:
                                self.step(case["id"], self.tokens[who], {"type": "approve_scope", "categories": ["subscriber_info"]})
                        moved = True
                    elif case["state"] == "scope_approved" and collect:
                        self.step(case["id"], self.tokens["custodian"], {"type": "start_collection"})
                        moved = True
                if not moved:
                    time.sleep(0.2)
            except OSError:
                return

    def run_round(self, number):
        stop = threading.Event()
        errors = []

        def guarded(work):
            try:
                work(stop)
            except Failure as failure:
                errors.append(failure)

        workers = [threading.Thread(target=guarded, args=(w,)) for w in (self.intake, self.intake, self.advance)]
        for worker in workers:
            worker.start()
        time.sleep(random.uniform(1.0, self.args.max_seconds))
        self.kill()
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
        if errors:
            raise errors[0]
        print(f"round {number}: killed with SIGKILL after {self.stats['demands_acked']} acknowledged demands, "
              f"{self.stats['events_acked']} acknowledged events, {self.stats['lost_answers']} answers lost so far", flush=True)

    # -- the checks --------------------------------------------------------------------------------
    def check_after_restart(self):
        officer, reviewer = self.tokens["officer"], self.tokens["reviewer"]
        for reference, demand_id in list(self.acked.items()):
            status, body = self.call("GET", f"/api/v1/demands/{demand_id}", officer)
            if status != 200 or body.get("caseReference") != reference:
                raise Failure(f"acknowledged demand {reference} ({demand_id}) is gone after the restart: {status} {body}")
        for reference, key in list(self.unknown.items()):
            status, body = self.call("POST", "/api/v1/demands", officer, demand_body(reference), {"Idempotency-Key": key})
            if status not in (200, 201):
                raise Failure(f"re-sending {reference} with its Idempotency-Key answered {status}: {body}")
            self.acked[reference] = body["id"]
            del self.unknown[reference]
            self.stats["demands_resent"] += 1
        demands = self.all_demands(officer)
        references = [d["caseReference"] for d in demands if d["caseReference"].startswith("CRASH-")]
        twice = {r for r in references if references.count(r) > 1}
        if twice:
            raise Failure(f"stored twice: {sorted(twice)}")
        if set(references) != set(self.acked):
            raise Failure(f"demands stored without an acknowledgement or a resend: {sorted(set(references) - set(self.acked))}")
        status, cases = self.call("GET", "/api/v1/cases", reviewer)
        by_id = {c["id"]: c for c in cases}
        for case_id, (version, state) in list(self.events.items()):
            case = by_id.get(case_id)
            if case is None or case["version"] < version:
                raise Failure(f"case {case_id}: acknowledged version {version} ({state}) lost; now {case and (case['version'], case['state'])}")
            if state in STATE_ORDER and case["state"] in STATE_ORDER and STATE_ORDER.index(case["state"]) < STATE_ORDER.index(state):
                raise Failure(f"case {case_id} went back from {state} to {case['state']}")
        self.log_verify()

    def log_verify(self):
        done = self.cli("log", "verify", check=False)
        if done.returncode != 0:
            raise Failure(f"custos log verify failed:\n{done.stdout}\n{done.stderr}")

    def settle(self):
        """With no more kills: every reviewed case's notice arrives and every collection is built."""
        deadline = time.time() + self.args.settle_seconds
        while True:
            status, cases = self.call("GET", "/api/v1/cases", self.tokens["reviewer"])
            ours = [c for c in cases if c["id"] in set(self.case_of.values())]
            reviewed = [c for c in ours if c["state"] != "received"]
            delivered = self.receiver.ids_by_case()
            missing = [c["number"] for c in reviewed if c["number"] not in delivered]
            unbuilt = []
            # Issue 29: a built package on a case still collecting is a finish a kill cut in two.
            lagging = []
            state_of = {c["id"]: c["state"] for c in ours}
            for case_id in self.collecting:
                status, production = self.call("GET", f"/api/v1/cases/{case_id}/production", self.tokens["custodian"])
                packages = production.get("packages", []) if isinstance(production, dict) else []
                if not any(p.get("purpose") == "production" and p.get("status") == "built" for p in packages):
                    unbuilt.append((case_id, [p.get("status") for p in packages]))
                elif state_of.get(case_id) == "collecting":
                    lagging.append(case_id)
            if not missing and not unbuilt and not lagging:
                break
            if time.time() > deadline:
                raise Failure(f"after {self.args.settle_seconds} s: notices never delivered for {missing[:10]} "
                              f"({len(missing)} in all); packages not built: {unbuilt[:5]} ({len(unbuilt)} in all); "
                              f"built but the case still collecting: {lagging[:5]} ({len(lagging)} in all)")
            time.sleep(1)
        more_than_one = {n: ids for n, ids in delivered.items() if len(set(ids)) > 1}
        if more_than_one:
            raise Failure(f"a case's notice went out under more than one delivery id: {more_than_one}")
        if self.receiver.bad_signatures:
            raise Failure(f"{self.receiver.bad_signatures} deliveries carried a bad signature")
        redelivered = sum(len(ids) - 1 for ids in delivered.values())
        return len(reviewed), redelivered

    def verify_packages(self):
        """Every package built is stored whole and verifies: `package verify --case` reads it
        where the installation keeps it (the data folder on SQLite, the database on PostgreSQL)."""
        for case_id in self.collecting:
            done = self.cli("package", "verify", "--case", case_id, check=False)
            if done.returncode != 0:
                raise Failure(f"the package of case {case_id} does not verify or is missing:\n{done.stdout}\n{done.stderr}")
        folder = os.path.join(self.data, "packages")
        if not self.args.database_url:
            # On the embedded default the files are in the data folder.
            files = {f[:-len(".zip.sealed")] for f in os.listdir(folder) if f.endswith(".zip.sealed") and not f.startswith(".")}
            missing = [c for c in self.collecting if c.lower() not in files]
            if missing:
                raise Failure(f"built packages without a file: {missing}")
        return len(self.collecting)

    def run(self):
        self.cli("demo", "load")
        self.tokens = {}
        for who, email in [("officer", "officer@fbi-seattle.example"), ("reviewer", "reviewer@provider.example"),
                           ("approver1", "approver1@provider.example"), ("approver2", "approver2@provider.example"),
                           ("custodian", "custodian@provider.example")]:
            self.tokens[who] = self.cli("token", "add", "--email", email, "--label", "crash-harness").stdout.strip().splitlines()[-1]
        started = time.time()
        self.start()
        for number in range(1, self.args.rounds + 1):
            self.run_round(number)
            self.start()
            self.check_after_restart()
        reviewed, redelivered = self.settle()
        self.stop()
        packages = self.verify_packages()
        self.log_verify()
        print(f"crash harness passed on {'PostgreSQL' if self.args.database_url else 'SQLite'}: {self.stats['kills']} SIGKILLs, "
              f"{len(self.acked)} demands kept ({self.stats['demands_resent']} re-sent after a lost answer, none stored twice), "
              f"{self.stats['events_acked']} acknowledged case events kept, {reviewed} notices delivered "
              f"({redelivered} repeated under the same delivery id), {packages} packages verified, "
              f"custos log verify passed, in {time.time() - started:.0f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="the custos executable")
    parser.add_argument("--work", required=True, help="an empty folder for the data and the server log")
    parser.add_argument("--port", type=int, default=18400)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--max-seconds", type=float, default=4.0, help="longest run before a kill")
    parser.add_argument("--settle-seconds", type=float, default=240.0)
    parser.add_argument("--database-url", default=None, help="PostgreSQL instead of the embedded SQLite")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)
    print(f"crash harness: seed {seed}, {args.rounds} rounds", flush=True)
    harness = Harness(args)
    try:
        harness.run()
    except Failure as failure:
        print(f"CRASH HARNESS FAILED (seed {seed}): {failure}", file=sys.stderr, flush=True)
        if harness.server and harness.server.poll() is None:
            harness.server.kill()
        sys.exit(1)


if __name__ == "__main__":
    main()

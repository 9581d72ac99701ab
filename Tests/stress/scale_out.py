#!/usr/bin/env python3
"""Scale-out suite (issue 28, item 6): three `custos serve` instances, each with its own data folder,
on one PostgreSQL database behind a real haproxy, are one installation.

    python3 Tests/stress/scale_out.py --bin .build/debug/custos --work DIR --database-url URL [--port 18500]

What it does and checks:
  * the three instances start at the same moment on an empty database: all come up (the migrations
    run under an advisory lock; the first to store each key wins, the others use it);
  * they share one identity: every instance serves the same audit and legal-process keys and package
    key, equal to `custos keys export-public`;
  * demands and case events go through the balancer from three clients while one instance is killed
    with SIGKILL and later restarted: every acknowledged demand is stored once (a lost answer is sent
    again with its Idempotency-Key), no acknowledged case event is lost;
  * every customer notice reaches the webhook receiver under exactly one delivery id, signatures
    checked, whichever instance sent it;
  * `custos log verify` passes: every checkpoint, signed by whichever instance, verifies with the one key;
  * a sign-in started on one instance (password) finishes on another (code), and the session works on the third;
  * the sign-in limit per address is counted once across the instances, not once per instance;
  * with --oidc-issuer (scripts/test passes its oidc-provider-mock): a sign-in through the identity
    provider begun on a comes back to b and its session works on c;
  * every collection ends with a built package and no case closes for want of records;
  * packages are stored in the database (the shared blob store on PostgreSQL): each is downloaded
    through every instance, the three downloads are the same bytes, and each verifies as a
    recipient checks it (`custos package verify FILE --key` with the published key), whichever
    instance built it; nothing is left in any data folder;
  * `custos keys rotate` with the three running: each follows, the stored packages are resealed once,
    the old key is retired, and every package then verifies (`package verify --case`); `custos keys
    rotate --master`, then each instance restarted with the new master key in turn while the others
    serve; `custos log verify` still passes.
Every third case is approved and sent to collection: its package is built once, by whichever
instance leases the build, from the one demo record store in the database. Standard library and pyotp only.
"""
import argparse
import base64
import http.cookiejar
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from crash_harness import Failure, Harness, Receiver  # noqa: E402

import pyotp  # noqa: E402

DEMO_SECRET = "CUSTOSDEMOSECONDFACTORSHAREDBY22"
SIGN_IN_LIMIT = 12


class Instance:
    def __init__(self, name, port, env, work, binary):
        self.name, self.port, self.binary = name, port, binary
        self.data = os.path.join(work, f"data-{name}")
        os.makedirs(self.data, exist_ok=True)
        self.env = dict(env, CUSTOS_DATA_DIR=self.data, CUSTOS_INSTANCE=name)
        self.log = os.path.join(work, f"server-{name}.log")
        self.process = None

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        log = open(self.log, "ab")
        self.process = subprocess.Popen([self.binary, "serve", "--port", str(self.port)], env=self.env, stdout=log, stderr=log)

    def wait_ready(self, seconds=120):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise Failure(f"instance {self.name} exited with {self.process.returncode}; see {self.log}:\n{open(self.log).read()[-2000:]}")
            try:
                with urllib.request.urlopen(self.base + "/ready", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise Failure(f"instance {self.name} was not ready within {seconds} s")

    def get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=10) as response:
            return response.read().decode()


class ScaleOut(Harness):
    def __init__(self, args):
        super().__init__(args)
        self.collect_every = 3  # every third case is approved and its package built, by whichever instance leases it
        self.base = f"http://127.0.0.1:{args.port}"
        self.env["CUSTOS_PUBLIC_URL"] = self.base
        self.env["CUSTOS_HEARTBEAT_SECONDS"] = "1"
        self.env["CUSTOS_SIGN_IN_ATTEMPTS_PER_10_MINUTES"] = str(SIGN_IN_LIMIT)
        self.env["CUSTOS_TRUST_FORWARDED_FOR"] = "true"
        if args.oidc_issuer:
            roles = os.path.join(args.work, "oidc-roles.json")
            with open(roles, "w") as f:
                json.dump({"claim": "groups", "roles": {"legal-counsel": ["reviewer"]}}, f)
            self.env.update({"CUSTOS_OIDC_ISSUER": args.oidc_issuer, "CUSTOS_OIDC_CLIENT_ID": "custos-scale-out",
                             "CUSTOS_OIDC_CLIENT_SECRET": "scale-out secret", "CUSTOS_OIDC_ROLE_MAP": roles})
        self.instances = [Instance(name, args.port + 1 + i, self.env, args.work, args.bin) for i, name in enumerate("abc")]
        self.env = self.instances[0].env  # the CLI runs as instance a's operator would
        self.balancer = None

    # -- the balancer ------------------------------------------------------------------------------
    def start_balancer(self):
        config = os.path.join(self.args.work, "haproxy.cfg")
        servers = "\n".join(f"    server {i.name} 127.0.0.1:{i.port} check inter 500 fall 2 rise 2" for i in self.instances)
        with open(config, "w") as f:
            f.write(f"""global
    maxconn 512
defaults
    mode http
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 0
frontend custos
    bind 127.0.0.1:{self.args.port}
    option forwardfor
    default_backend instances
backend instances
    balance roundrobin
    option httpchk GET /ready
{servers}
""")
        log = open(os.path.join(self.args.work, "haproxy.log"), "ab")
        self.balancer = subprocess.Popen(["haproxy", "-db", "-f", config], stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.base + "/health", timeout=2).read()
                return
            except OSError:
                time.sleep(0.2)
        raise Failure("haproxy did not answer within 30 s")

    # -- Harness's process hooks, for the balanced installation -------------------------------------
    def kill(self):
        victim = self.instances[1]
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait()
        self.stats["kills"] += 1

    def stop_all(self):
        for instance in self.instances:
            if instance.process and instance.process.poll() is None:
                instance.process.send_signal(signal.SIGTERM)
        for instance in self.instances:
            if instance.process:
                try:
                    instance.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    instance.process.kill()
        if self.balancer and self.balancer.poll() is None:
            self.balancer.terminate()
            self.balancer.wait(timeout=10)

    def call(self, *arguments, **options):
        # The balancer's 502/503 while an instance dies is an answer lost, as a cut connection is.
        status, body = super().call(*arguments, **options)
        if status in (502, 503, 504):
            raise ConnectionError(f"the balancer answered {status}")
        return status, body

    # -- the checks -------------------------------------------------------------------------------
    def check_one_identity(self):
        exported = json.loads(self.cli("keys", "export-public", "--json").stdout)
        for instance in self.instances:
            served = {
                "auditLog": instance.get("/log/audit/key").strip(),
                "legalProcessLog": instance.get("/log/legal-process/key").strip(),
                "pem": instance.get("/.well-known/custos/signing-key.pem"),
            }
            expected = {"auditLog": exported["auditLog"], "legalProcessLog": exported["legalProcessLog"], "pem": exported["packageSigningKey"]["pem"]}
            if served != expected:
                raise Failure(f"instance {instance.name} serves other keys than the installation's: {served} vs {expected}")
        return exported["auditLog"]

    def sign_in_across(self):
        """Password on a, code on b, the session on c."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        a, b, c = self.instances

        def csrf(html):
            found = re.search(r'name="_csrf" value="([^"]+)"', html)
            if not found:
                raise Failure(f"no CSRF field in {html[:300]}")
            return found.group(1)

        with opener.open(a.base + "/staff/login", timeout=10) as response:
            token = csrf(response.read().decode())
        form = urllib.parse.urlencode({"_csrf": token, "email": "reviewer@provider.example", "password": "custos-demo-staff"}).encode()
        with opener.open(a.base + "/staff/login", data=form, timeout=10) as response:
            page, landed = response.read().decode(), response.geturl()
        if "/login/code" not in landed:
            raise Failure(f"the password step on a did not ask for the code: {landed}")
        with opener.open(b.base + "/staff/login/code", timeout=10) as response:
            token = csrf(response.read().decode())
        form = urllib.parse.urlencode({"_csrf": token, "code": pyotp.TOTP(DEMO_SECRET).now()}).encode()
        with opener.open(b.base + "/staff/login/code", data=form, timeout=10) as response:
            landed = response.geturl()
        if "/login" in landed:
            raise Failure(f"the code step on b did not sign in: {landed}")
        path = urllib.parse.urlparse(landed).path
        with opener.open(c.base + path, timeout=10) as response:
            if response.status != 200 or "/login" in response.geturl():
                raise Failure(f"the session made on a and b does not work on c: {response.status} {response.geturl()}")
        self.staff_opener = opener
        return path

    def provider_sign_in_across(self):
        """Sign-in through the identity provider begun on a, come back to b, the session on c: the
        sign-in's state is in the database, not in one instance's memory."""
        if not self.args.oidc_issuer:
            return "not checked (no --oidc-issuer)"

        class Stay(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *arguments, **options):
                return None

        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), Stay())
        a, b, c = self.instances
        sub = "scale-" + os.urandom(4).hex()
        request = urllib.request.Request(f"{self.args.oidc_issuer}/users/{sub}", method="PUT", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"email": f"{sub}@provider.example", "name": "Scale Out", "groups": ["legal-counsel"]}).encode())
        urllib.request.urlopen(request, timeout=10).read()

        def location(url, data=None):
            try:
                opener.open(url, data=data, timeout=10)
            except urllib.error.HTTPError as redirect:
                if redirect.code in (302, 303):
                    return redirect.headers["Location"]
                raise Failure(f"{url} answered {redirect.code}: {redirect.read()[:300]}")
            raise Failure(f"{url} did not redirect")

        authorize = location(a.base + "/staff/login/oidc")
        if not authorize.startswith(self.args.oidc_issuer + "/oauth2/authorize") or "code_challenge_method=S256" not in authorize:
            raise Failure(f"a did not send the browser to the provider with PKCE: {authorize}")
        back = urllib.parse.urlparse(location(authorize, data=b"sub=" + sub.encode()))
        if back.path != "/staff/login/oidc/callback":
            raise Failure(f"the provider sent the browser elsewhere: {back}")
        with opener.open(f"{b.base}{back.path}?{back.query}", timeout=20) as response:
            if response.status != 200 or "url=/staff/queue" not in response.read().decode():
                raise Failure(f"the callback on b did not sign in: {response.status}")
        with opener.open(c.base + "/staff/queue", timeout=10) as response:
            page = response.read().decode()
            if response.status != 200 or "Scale Out" not in page:
                raise Failure("the session made through the provider on a and b does not work on c")
        return "a → provider → b, session on c"

    def packages_across_instances(self, most=12):
        """Each built package downloaded through all three instances: the same bytes from each, and
        a ZIP that verifies with the published signing key, wherever it was built."""
        pem = os.path.join(self.args.work, "published-signing-key.pem")
        with open(pem, "w") as f:
            f.write(self.instances[0].get("/.well-known/custos/signing-key.pem"))
        checked = 0
        for case_id in sorted(self.collecting)[:most]:
            copies = []
            for instance in self.instances:
                with self.staff_opener.open(f"{instance.base}/staff/cases/{case_id}/package", timeout=60) as response:
                    if response.status != 200 or response.headers.get("Content-Type") != "application/zip":
                        raise Failure(f"{instance.name} did not serve the package of {case_id}: {response.status}")
                    copies.append(response.read())
            if len(set(copies)) != 1:
                raise Failure(f"the three instances served different bytes for the package of {case_id}")
            path = os.path.join(self.args.work, f"download-{case_id}.zip")
            with open(path, "wb") as f:
                f.write(copies[0])
            done = subprocess.run([self.args.bin, "package", "verify", path, "--key", pem], capture_output=True, text=True, timeout=60)
            if done.returncode != 0:
                raise Failure(f"the package of {case_id} downloaded through the balancer's instances does not verify:\n{done.stderr}")
            checked += 1
        for instance in self.instances:
            folder = os.path.join(instance.data, "packages")
            if os.path.isdir(folder) and os.listdir(folder):
                raise Failure(f"{instance.name} keeps package files in its data folder: {os.listdir(folder)[:3]}")
        return checked

    def sign_in_limit_counted_once(self):
        """SIGN_IN_LIMIT attempts in ten minutes per address across the installation, through the balancer."""
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        address = f"198.51.100.{random.randrange(1, 250)}"
        passed = limited = 0
        for attempt in range(SIGN_IN_LIMIT * 2):
            with opener.open(self.base + "/staff/login", timeout=10) as response:
                token = re.search(r'name="_csrf" value="([^"]+)"', response.read().decode()).group(1)
            form = urllib.parse.urlencode({"_csrf": token, "email": f"nobody{attempt}@provider.example", "password": "wrong"}).encode()
            request = urllib.request.Request(self.base + "/staff/login", data=form, headers={"X-Forwarded-For": address})
            try:
                with opener.open(request, timeout=10) as response:
                    passed += 1
            except urllib.error.HTTPError as error:
                if error.code == 429:
                    limited += 1
                else:
                    passed += 1
        if passed != SIGN_IN_LIMIT or limited != SIGN_IN_LIMIT:
            raise Failure(f"the sign-in limit of {SIGN_IN_LIMIT} let {passed} attempts through across three instances ({limited} refused)")
        return passed

    def rotate_with_servers_running(self):
        """`custos keys rotate` while all three serve: every server follows, the rotation reseals the
        stored packages, and afterwards every package verifies with the keyring's one remaining storage key."""
        before = json.loads(self.cli("keys", "export-public", "--json").stdout)["currentStorageKeyId"]
        rotated = self.cli("keys", "rotate", "--wait", "60")
        if "3 running server(s) followed" not in rotated.stdout or "1 old key(s) retired" not in rotated.stdout:
            raise Failure(f"the rotation did not wait for the three servers: {rotated.stdout}")
        after = json.loads(self.cli("keys", "export-public", "--json").stdout)["currentStorageKeyId"]
        if after == before:
            raise Failure("the storage key did not change")
        verified = 0
        for case_id in sorted(self.collecting):
            done = self.cli("package", "verify", "--case", case_id, check=False)
            if done.returncode != 0:
                raise Failure(f"after the rotation the package of {case_id} does not verify:\n{done.stdout}\n{done.stderr}")
            verified += 1
        return verified

    def rotate_master_key_rolling(self):
        """`custos keys rotate --master`, then each instance restarted with the new key in turn: the others
        serve meanwhile, and the installation's identity stays the same."""
        audit_key = json.loads(self.cli("keys", "export-public", "--json").stdout)["auditLog"]
        path = os.path.join(self.args.work, "master-next.key")
        with open(path, "w") as f:
            f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
        self.cli("keys", "rotate", "--master", "--new-master-key-file", path)
        # The instances stay in the balancer on the keys they hold, each showing it needs the new key.
        for instance in self.instances:
            if "custos_keyring_opens 0" not in instance.get("/metrics"):
                raise Failure(f"{instance.name}'s metrics do not show that its master key no longer opens the keyring")
            with urllib.request.urlopen(instance.base + "/ready", timeout=5) as response:
                if response.status != 200:
                    raise Failure(f"{instance.name} left the balancer after the master key rotation")
        for instance in self.instances:
            instance.env["CUSTOS_MASTER_KEY"] = open(path).read().strip()
            instance.process.send_signal(signal.SIGTERM)
            instance.process.wait(timeout=30)
            instance.start()
            instance.wait_ready()
            status, _ = self.call("GET", "/api/v1/cases", self.tokens["reviewer"])
            if status != 200:
                raise Failure(f"the installation did not serve while {instance.name} restarted with the new master key: {status}")
        if json.loads(self.cli("keys", "export-public", "--json").stdout)["auditLog"] != audit_key:
            raise Failure("the audit key changed with the master key")

    def run(self):
        started = time.time()
        # All three at the same moment on the empty database.
        for instance in self.instances:
            instance.start()
        for instance in self.instances:
            instance.wait_ready()
        self.start_balancer()
        self.cli("demo", "load")
        self.tokens = {}
        for who, email in [("officer", "officer@fbi-seattle.example"), ("reviewer", "reviewer@provider.example"),
                           ("approver1", "approver1@provider.example"), ("approver2", "approver2@provider.example"),
                           ("custodian", "custodian@provider.example")]:
            self.tokens[who] = self.cli("token", "add", "--email", email, "--label", "scale-out").stdout.strip().splitlines()[-1]
        key = self.check_one_identity()
        # The workload through the balancer; instance b is killed mid-run and restarted later.
        stop = threading.Event()
        errors = []

        def guarded(work):
            try:
                work(stop)
            except Failure as failure:
                errors.append(failure)

        def resilient_intake(stop):
            # A refused or cut connection while b dies is an answer lost: Harness.intake records it
            # and returns; start again until the run ends.
            while not stop.is_set():
                self.intake(stop)

        def resilient_advance(stop):
            while not stop.is_set():
                self.advance(stop)

        workers = [threading.Thread(target=guarded, args=(w,)) for w in (resilient_intake, resilient_intake, resilient_intake, resilient_advance)]
        for worker in workers:
            worker.start()
        time.sleep(self.args.seconds / 3)
        self.kill()
        time.sleep(self.args.seconds / 3)
        self.instances[1].start()
        self.instances[1].wait_ready()
        time.sleep(self.args.seconds / 3)
        stop.set()
        for worker in workers:
            worker.join(timeout=60)
        if errors:
            raise errors[0]
        self.check_after_restart()
        reviewed, redelivered = self.settle()
        status, cases = self.call("GET", "/api/v1/cases", self.tokens["reviewer"])
        empty = [c["number"] for c in cases if c["id"] in self.collecting and c["state"] == "closed"]
        if empty:
            raise Failure(f"collections closed without data (an instance read an empty record store): {empty}")
        self.log_verify()
        session = self.sign_in_across()
        attempts = self.sign_in_limit_counted_once()
        downloaded = self.packages_across_instances()
        provider = self.provider_sign_in_across()
        resealed = self.rotate_with_servers_running()
        self.rotate_master_key_rolling()
        self.log_verify()
        print(f"scale-out passed: 3 instances on one PostgreSQL behind haproxy, one killed with SIGKILL and restarted; "
              f"{len(self.acked)} demands kept ({self.stats['demands_resent']} re-sent after a lost answer, none stored twice), "
              f"{self.stats['events_acked']} acknowledged case events kept, {len(self.collecting)} packages built, {reviewed} notices delivered once each "
              f"({redelivered} repeated under the same delivery id), one audit key {key.split('+')[0]}+{key.split('+')[1]}, "
              f"custos log verify passed, a sign-in across a/b/c reached {session}, "
              f"the sign-in limit let {attempts} of {2 * attempts} attempts through; {downloaded} packages downloaded through all three "
              f"instances alike and verified with the published key; identity-provider sign-in {provider}; a storage key rotation with the servers running "
              f"left {resealed} packages verifying under the new key, a master key rotation restarted each instance in turn; in {time.time() - started:.0f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, default=18500, help="the balancer's port; the instances use the next three")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long the workload runs (the kill at a third)")
    parser.add_argument("--settle-seconds", type=float, default=120.0)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--max-seconds", type=float, default=4.0)
    parser.add_argument("--oidc-issuer", default=os.environ.get("CUSTOS_TEST_OIDC_ISSUER"),
                        help="an OpenID Connect provider (oidc-provider-mock): staff sign-in through it is checked across instances")
    args = parser.parse_args()
    suite = ScaleOut(args)
    try:
        suite.run()
    except Failure as failure:
        print(f"SCALE-OUT FAILED: {failure}", file=sys.stderr, flush=True)
        suite.stop_all()
        sys.exit(1)
    suite.stop_all()


if __name__ == "__main__":
    main()

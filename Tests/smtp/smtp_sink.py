#!/usr/bin/env python3
"""A real SMTP server for the Swift tests of the email channel (aiosmtpd).

It makes a throw-away self-signed certificate for localhost (openssl), listens on 127.0.0.1 on a
free port, offers STARTTLS and AUTH PLAIN (only after TLS), and writes every accepted message as
JSON next to its raw bytes: envelope, whether the session was encrypted, who logged in, the main
headers, the text and each attachment's name, type, size and SHA-256. It prints `READY <port>`
once listening and stops when its standard input closes, so it never outlives the test.

  smtp_sink.py --dir D [--user U --password P] [--no-starttls] [--reject SUBSTRING]
"""
import argparse, asyncio, email, email.policy, hashlib, json, os, socket, ssl, subprocess, sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(folder):
    cert, key = os.path.join(folder, "ca.pem"), os.path.join(folder, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", key, "-out", cert],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


class Sink:
    def __init__(self, folder, reject):
        self.folder, self.reject, self.count = folder, reject, 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.reject and self.reject in address:
            return "550 5.1.1 <%s>: mailbox unavailable" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or envelope.content
        name = os.path.join(self.folder, "message-%03d" % self.count)
        with open(name + ".eml", "wb") as f:
            f.write(raw)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        text, attachments = None, []
        for part in parsed.walk():
            if part.is_multipart():
                continue
            if part.get_content_disposition() == "attachment":
                payload = part.get_payload(decode=True)
                attachments.append({"filename": part.get_filename(), "contentType": part.get_content_type(),
                                    "size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()})
            elif part.get_content_type() == "text/plain" and text is None:
                text = part.get_content()
        summary = {
            "mailFrom": envelope.mail_from, "rcptTos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "login": session.auth_data.decode() if isinstance(session.auth_data, bytes) else None,
            "headers": {k: str(parsed[k]) for k in ("From", "To", "Subject", "Date", "Message-ID", "X-Custos-Delivery-Id", "X-Custos-Case", "Auto-Submitted") if parsed[k] is not None},
            "text": text, "attachments": attachments,
        }
        with open(name + ".json.tmp", "w") as f:
            json.dump(summary, f)
        os.rename(name + ".json.tmp", name + ".json")
        return "250 2.0.0 OK queued as custos-test-%d" % self.count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--no-starttls", action="store_true")
    parser.add_argument("--reject")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    port = free_port()
    options = {}
    if not args.no_starttls:
        cert, key = make_certificate(args.dir)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        options.update(tls_context=context, require_starttls=True)
    if args.user:
        def authenticate(server, session, envelope, mechanism, data):
            ok = (mechanism == "PLAIN" and isinstance(data, LoginPassword)
                  and data.login.decode() == args.user and data.password.decode() == args.password)
            return AuthResult(success=ok, handled=False, auth_data=data.login if ok else None)
        options.update(authenticator=authenticate, auth_require_tls=not args.no_starttls, auth_exclude_mechanism=["LOGIN"])
    controller = Controller(Sink(args.dir, args.reject), hostname="127.0.0.1", port=port, ready_timeout=10, **options)
    controller.start()
    print("READY %d" % port, flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin or ends
    finally:
        controller.stop()


if __name__ == "__main__":
    main()

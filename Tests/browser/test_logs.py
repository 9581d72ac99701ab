"""Issue 6, checked from outside: an independent implementation of RFC 6962/9162 and C2SP signed
notes (written here from the specifications, sharing no code with Custos; Ed25519 from the
`cryptography` package) accepts what `custos log key|checkpoint|prove` print, `custos log verify`
catches a flipped byte, and `custos witness serve` cosigns checkpoints of another installation."""
import base64
import hashlib
import os
import socket
import sqlite3
import subprocess
import tempfile
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from test_cli import BIN, custos

EM_DASH = "\u2014 "


def leaf_hash(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(index, size, leaf, proof):
    """RFC 9162 section 2.1.3.2, step by step."""
    assert index < size
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        assert sn != 0, "proof too long"
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    assert sn == 0, "proof too short"
    return r


def parse_vkey(vkey):
    name, key_id, key = vkey.split("+", 2)
    raw = base64.b64decode(key, validate=True)
    assert raw[0] == 1 and len(raw) == 33
    assert hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex() == key_id
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])


def open_note(text, name, key_id, key):
    """c2sp.org/signed-note: split at the last blank line, find our key's signature, verify it."""
    body, _, signatures = text.rpartition("\n\n")
    message = (body + "\n").encode()
    verified = False
    for line in signatures.rstrip("\n").split("\n"):
        assert line.startswith(EM_DASH)
        signer, signature = line[len(EM_DASH):].split(" ")
        raw = base64.b64decode(signature, validate=True)
        if signer == name and raw[:4] == key_id:
            key.verify(raw[4:], message)  # raises on a bad signature
            verified = True
    assert verified, "no signature by the log key"
    return body + "\n", signatures


def parse_checkpoint(body):
    origin, size, root = body.rstrip("\n").split("\n")[:3]
    return origin, int(size), base64.b64decode(root, validate=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def install():
    data = tempfile.mkdtemp(prefix="custos-logs-")
    assert custos(data, "demo", "load").returncode == 0
    published = custos(data, "log", "publish")
    assert published.returncode == 0, published.stderr
    return data


def test_an_independent_verifier_accepts_what_the_cli_prints(install):
    db = sqlite3.connect(os.path.join(install, "custos.sqlite"))
    for log in ("legal-process", "audit"):
        key = custos(install, "log", "key", "--log", log)
        assert key.returncode == 0, key.stderr
        name, key_id, public = parse_vkey(key.stdout.strip())
        assert name.endswith("/log/" + log)
        checkpoint = custos(install, "log", "checkpoint", "--log", log)
        assert checkpoint.returncode == 0, checkpoint.stderr
        body, _ = open_note(checkpoint.stdout, name, key_id, public)
        origin, size, root = parse_checkpoint(body)
        assert origin == name and size > 0
        if log == "legal-process":
            entries = [bytes(row[0]) for row in db.execute("SELECT data FROM log_entries WHERE log = 2 ORDER BY idx")]
            assert entries[0].startswith(b"lplog/v1 demand\nref ")
        else:
            entries = [
                b"custos-audit/v1 entry\nnonce " + nonce.encode() + b"\nrecord " + base64.b64encode(body_json.encode()) + b"\n"
                for nonce, body_json in db.execute("SELECT nonce, body FROM audit_entries ORDER BY sequence")
            ]
        assert len(entries) == size
        for index in sorted({0, 1, size // 2, size - 1}):
            proof = custos(install, "log", "prove", "--log", log, "--index", str(index))
            assert proof.returncode == 0, proof.stderr
            head, _, note = proof.stdout.partition("\n\n")
            lines = head.split("\n")
            assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[1] == f"index {index}"
            path = [base64.b64decode(line, validate=True) for line in lines[2:]]
            proof_body, _ = open_note(note, name, key_id, public)
            assert parse_checkpoint(proof_body)[1:] == (size, root)
            assert root_from_inclusion(index, size, leaf_hash(entries[index]), path) == root
            # and one flipped bit anywhere fails
            if path:
                path[0] = bytes([path[0][0] ^ 1]) + path[0][1:]
                assert root_from_inclusion(index, size, leaf_hash(entries[index]), path) != root
    db.close()
    out_of_range = custos(install, "log", "prove", "--log", "audit", "--index", "999999")
    assert out_of_range.returncode == 1 and "not covered" in out_of_range.stderr


def verify_tampered_copy(install, folder, statement):
    """`custos log verify` on a copy of the installation with one SQL statement applied to it."""
    subprocess.run(["cp", "-r", install, str(folder)], check=True)
    db = sqlite3.connect(os.path.join(folder, "custos.sqlite"))
    db.execute(statement)
    db.commit()
    db.close()
    return custos(str(folder), "log", "verify")


def test_log_verify_passes_then_names_the_first_bad_index(install, tmp_path):
    ok = custos(install, "log", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "audit: OK" in ok.stdout and "legal-process: OK" in ok.stdout
    bad = verify_tampered_copy(install, tmp_path / "copy", "UPDATE audit_entries SET body = body || ' ' WHERE sequence = 8")
    assert bad.returncode == 1
    assert "audit: FAILED, first bad index 7" in bad.stderr
    # A column kept beside the hashed body (issue 29): the hash still holds, the copy does not.
    changed = verify_tampered_copy(
        install, tmp_path / "moved", "UPDATE audit_entries SET subject = 'case:00000000-0000-0000-0000-000000000000' WHERE sequence = 5")
    assert changed.returncode == 1
    assert "audit: FAILED, first bad index 4" in changed.stderr
    assert "audit entry 5: the stored subject differs from the hashed entry" in changed.stderr


def test_a_witness_serve_process_cosigns_another_installations_checkpoints(tmp_path):
    install = str(tmp_path / "install")
    port = free_port()
    keys = [custos(install, "log", "key", "--log", log).stdout.strip() for log in ("audit", "legal-process")]
    witness_key = str(tmp_path / "witness.key")
    vkey = subprocess.run([BIN, "witness", "key", "--name", "witness.test/w1", "--key-file", witness_key],
                          capture_output=True, text=True, check=True).stdout.strip()
    args = [BIN, "witness", "serve", "--name", "witness.test/w1", "--key-file", witness_key, "--state", str(tmp_path / "state"), "--port", str(port)]
    for key in keys:
        args += ["--log", key]
    witness = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    policy = tmp_path / "policy"
    policy.write_text(f"witness w1 {vkey} http://127.0.0.1:{port}/\nquorum w1\n")
    os.environ["CUSTOS_WITNESS_POLICY"] = str(policy)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        assert custos(install, "demo", "load").returncode == 0
        first = custos(install, "log", "checkpoint", "--log", "audit")
        assert first.returncode == 0, first.stderr
        published = custos(install, "log", "publish")  # grows the audit log, then a consistent second checkpoint
        assert published.returncode == 0, published.stderr
        second = custos(install, "log", "checkpoint", "--log", "legal-process")
        assert second.returncode == 0 and "quorum" not in second.stderr, second.stderr
        assert custos(install, "log", "verify").returncode == 0
    finally:
        del os.environ["CUSTOS_WITNESS_POLICY"]
        witness.terminate()
        witness.wait(timeout=30)
    w_name, w_key_id_hex, w_key = vkey.split("+", 2)
    raw_key = base64.b64decode(w_key)
    assert raw_key[0] == 4
    for checkpoint in (first.stdout, second.stdout):
        body, signatures = checkpoint.split("\n\n", 1)
        cosignature = [line for line in signatures.split("\n") if line.startswith(EM_DASH + w_name + " ")]
        assert cosignature, checkpoint
        raw = base64.b64decode(cosignature[0].split(" ")[2])
        assert raw[:4].hex() == w_key_id_hex
        timestamp = int.from_bytes(raw[4:12], "big")
        assert abs(timestamp - time.time()) < 600
        message = f"cosignature/v1\ntime {timestamp}\n".encode() + (body + "\n").encode()
        Ed25519PublicKey.from_public_bytes(raw_key[1:]).verify(raw[12:], message)

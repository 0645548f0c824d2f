#!/usr/bin/env python3
"""SMTP sessions through a real Postfix whose recipient restrictions ask
spfgate-policyd (tests/postfix/run.sh sets it all up).

    smtp_e2e.py --port SMTP_PORT --mail-dir DIR

Each case presents a client IP and HELO with XCLIENT, sends MAIL FROM and
RCPT TO, and checks the RCPT reply (code, enhanced status, text). Accepted
mail is sent and must arrive in the mailbox under DIR carrying exactly one
Received-SPF header when SPF ran, none otherwise. Prints the transcript;
exits 1 on any unexpected reply.
"""

import argparse
import mailbox
import os
import smtplib
import sys
import time
import uuid

# name, client IP, HELO, MAIL FROM, recipients, expected RCPT reply
# (code, enhanced status, text fragment), Received-SPF result of the
# delivered mail (None: delivered without the header; "-": not delivered).
CASES = [
    ("whitelist: client in the list", "192.0.2.7", "mail.wl.e2e.test",
     "alice@wl.e2e.test", ["inbox"], (250, "2.1.5", ""), None),
    ("whitelist: IPv6 client in the list", "IPV6:2001:db8:1::7", "mail.wl.e2e.test",
     "alice@wl.e2e.test", ["inbox"], (250, "2.1.5", ""), None),
    ("whitelist: IPv6 client not in the list", "IPV6:2001:db8:2::7", "mail.wl.e2e.test",
     "alice@wl.e2e.test", ["inbox"],
     (550, "5.7.1", "Client 2001:db8:2::7 is not in the IP whitelist for sender <alice@wl.e2e.test>"), "-"),
    ("whitelist: client not in the list", "198.51.100.9", "mail.wl.e2e.test",
     "alice@wl.e2e.test", ["inbox"],
     (550, "5.7.1", "Client 198.51.100.9 is not in the IP whitelist for sender <alice@wl.e2e.test>"), "-"),
    ("checkbox with a whitelist: client in it", "198.51.100.9", "mail.box.e2e.test",
     "bob@box.e2e.test", ["inbox"], (250, "2.1.5", ""), None),
    ("checkbox with a whitelist: client not in it", "203.0.113.5", "mail.box.e2e.test",
     "bob@box.e2e.test", ["inbox"],
     (550, "5.7.1", "Client 203.0.113.5 is not in the IP whitelist for sender <bob@box.e2e.test>"), "-"),
    ("checkbox with an empty whitelist: SPF pass", "203.0.113.5", "mail.box-spf.e2e.test",
     "carol@box-spf.e2e.test", ["inbox"], (250, "2.1.5", ""), "pass"),
    ("SPF: pass through mx, two recipients, one decision", "198.51.100.25", "mx.spf.e2e.test",
     "dave@spf.e2e.test", ["inbox", "other"], (250, "2.1.5", ""), "pass"),
    ("SPF: fail with the domain's explanation", "192.0.2.99", "mail.example.net",
     "dave@spf.e2e.test", ["inbox"],
     (550, "5.7.23", "SPF fail: spf.e2e.test does not authorize 192.0.2.99 to send for "
      "<dave@spf.e2e.test>: 192.0.2.99 is not one of spf.e2e.test's designated mail servers"), "-"),
    ("SPF: softfail", "192.0.2.99", "mail.example.net", "frank@soft.e2e.test", ["inbox"],
     (550, "5.7.1", "SPF softfail: 192.0.2.99 is not authorized to send for <frank@soft.e2e.test>"), "-"),
    ("SPF: permerror", "192.0.2.99", "mail.example.net", "erin@broken.e2e.test", ["inbox"],
     (550, "5.7.24", "SPF permerror: the SPF record of broken.e2e.test cannot be used"), "-"),
    ("SPF: no record", "192.0.2.99", "mail.example.net", "info@nospf.e2e.test", ["inbox"],
     (550, "5.7.1", "nospf.e2e.test publishes no SPF record"), "-"),
    ("SPF: DNS timeout defers", "203.0.113.5", "mail.example.net", "gina@timeout.e2e.test", ["inbox"],
     (451, "4.7.24", "SPF temperror: DNS lookup of timeout.e2e.test TXT failed: DNS timeout"), "-"),
    ("SPF: slow DNS answer, still pass", "203.0.113.5", "mail.example.net",
     "hank@slow.e2e.test", ["inbox"], (250, "2.1.5", ""), "pass"),
    ("SPF: 1280-byte record, truncated over UDP, TCP retry", "203.0.113.5", "mail.example.net",
     "ivan@tcp.e2e.test", ["inbox"], (250, "2.1.5", ""), "pass"),
    ("open account", "198.18.0.1", "mail.example.net", "news@open.e2e.test", ["inbox"],
     (250, "2.1.5", ""), None),
    ("unknown sender", "203.0.113.5", "mail.example.net", "mallory@spf.e2e.test", ["inbox"],
     (550, "5.7.1", "Sender <mallory@spf.e2e.test> is not registered at this gateway"), "-"),
    ("null sender", "203.0.113.5", "mail.example.net", "", ["inbox"],
     (550, "5.7.1", "Null sender <> is not accepted"), "-"),
]


def say(line):
    print(line, flush=True)


def reply_text(code, msg):
    return f"{code} {msg.decode('utf-8', 'replace')}"


def session(port, case, failures):
    name, ip, helo, sender, rcpts, (want_code, want_enh, want_text), spf = case
    tag = uuid.uuid4().hex[:12]
    say(f"\n--- {name}")
    smtp = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=60)
    try:
        smtp.ehlo("client.test")
        code, msg = smtp.docmd("XCLIENT", f"ADDR={ip} NAME=[UNAVAILABLE] HELO={helo}")
        say(f"> XCLIENT ADDR={ip} HELO={helo}\n< {reply_text(code, msg)}")
        if code != 220:
            failures.append(f"{name}: XCLIENT got {code}")
            return None
        smtp.ehlo_resp = None
        smtp.ehlo(helo)
        code, msg = smtp.mail(sender)
        say(f"> MAIL FROM:<{sender}>\n< {reply_text(code, msg)}")
        if code != 250:
            failures.append(f"{name}: MAIL FROM got {reply_text(code, msg)}")
            return None
        accepted = []
        for local in rcpts:
            rcpt = f"{local}@gateway.test"
            code, msg = smtp.rcpt(rcpt)
            text = msg.decode("utf-8", "replace")
            say(f"> RCPT TO:<{rcpt}>\n< {code} {text}")
            ok = code == want_code and text.startswith(want_enh) and want_text in text
            if not ok:
                failures.append(f"{name}: RCPT got {code} {text}, want {want_code} {want_enh} ...{want_text}...")
            if code == 250:
                accepted.append(local)
        if accepted:
            body = (f"From: <{sender}>\r\nTo: <inbox@gateway.test>\r\nSubject: e2e {tag}\r\n"
                    f"Message-ID: <{tag}@client.test>\r\n\r\n{name}\r\n")
            code, msg = smtp.data(body)
            say(f"> DATA ...\n< {reply_text(code, msg)}")
            if code != 250:
                failures.append(f"{name}: DATA got {reply_text(code, msg)}")
                accepted = []
        smtp.quit()
        return (tag, accepted) if accepted else None
    finally:
        smtp.close()


def delivered(mail_dir, local, tag):
    path = os.path.join(mail_dir, local)
    if not os.path.exists(path):
        return None
    for message in mailbox.mbox(path):
        if message.get("Subject") == f"e2e {tag}":
            return message
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--mail-dir", required=True)
    args = parser.parse_args()
    failures = []
    sent = []
    for case in CASES:
        result = session(args.port, case, failures)
        if case[6] != "-" and result is None:
            failures.append(f"{case[0]}: nothing was accepted for delivery")
        if result is not None:
            sent.append((case, result))
    say("\n--- delivered mail")
    for case, (tag, locals_) in sent:
        for local in locals_:
            message = None
            for _ in range(150):
                message = delivered(args.mail_dir, local, tag)
                if message is not None:
                    break
                time.sleep(0.1)
            if message is None:
                failures.append(f"{case[0]}: no mail {tag} in mailbox {local}")
                continue
            headers = message.get_all("Received-SPF") or []
            say(f"[{case[0]}] mailbox {local}: {len(headers)} Received-SPF header(s)")
            for h in headers:
                say("  Received-SPF: " + " ".join(h.split()))
            want = case[6]
            if want is None and headers:
                failures.append(f"{case[0]}: Received-SPF without SPF: {headers}")
            if want is not None:
                if len(headers) != 1:
                    failures.append(f"{case[0]}: {len(headers)} Received-SPF headers, want 1")
                elif not headers[0].strip().startswith(want + " "):
                    failures.append(f"{case[0]}: Received-SPF {headers[0]!r}, want {want}")
    if failures:
        say("\nFAILED:")
        for f in failures:
            say("  " + f)
        sys.exit(1)
    say(f"\nall {len(CASES)} SMTP sessions gave the expected replies")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Straight to spfgate-policyd, without Postfix (tests/postfix/run.sh).

    policy_load.py load    --connect ADDR --connections N --requests M
    policy_load.py garbage --connect ADDR
    policy_load.py once    --connect ADDR --ip IP --sender ADDR

ADDR is HOST:PORT or a UNIX socket path.

load: N concurrent connections, each sending M requests one after another
(a mix of accounts, SPF and not, including a slow DNS answer); every reply
must be the expected one. Prints decisions/s and latency percentiles.

garbage: malformed, oversized, binary and half requests, random bytes and
abrupt disconnects; each broken request must get the documented
DEFER_IF_PERMIT reply, and a good request after it (same connection where
the protocol allows, else a new one) its normal answer.

once: one request; prints the reply.
"""

import argparse
import asyncio
import random
import sys
import time

BROKEN = "action=DEFER_IF_PERMIT 4.3.0 policy service: malformed request"

# client IP, sender, expected start of the reply, weight
MIX = [
    ("192.0.2.7", "alice@wl.e2e.test", "action=DUNNO", 20),
    ("198.51.100.9", "alice@wl.e2e.test", "action=550 5.7.1 Client 198.51.100.9 is not", 10),
    ("198.51.100.25", "dave@spf.e2e.test", "action=PREPEND Received-SPF: pass ", 20),
    ("192.0.2.99", "dave@spf.e2e.test", "action=550 5.7.23 SPF fail", 15),
    ("203.0.113.5", "carol@box-spf.e2e.test", "action=PREPEND Received-SPF: pass ", 15),
    ("203.0.113.5", "erin@broken.e2e.test", "action=550 5.7.24 SPF permerror", 5),
    ("203.0.113.5", "mallory@spf.e2e.test", "action=550 5.7.1 Sender <mallory@spf.e2e.test>", 10),
    ("203.0.113.5", "hank@slow.e2e.test", "action=PREPEND Received-SPF: pass ", 2),
    ("203.0.113.5", "ivan@tcp.e2e.test", "action=PREPEND Received-SPF: pass ", 3),
]


def request(ip, sender, instance, recipient="inbox@gateway.test", extra=""):
    return (
        "request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
        f"client_address={ip}\nclient_name=unknown\nreverse_client_name=unknown\n"
        f"helo_name=mail.example.net\nsender={sender}\nrecipient={recipient}\n"
        f"recipient_count=0\nqueue_id=\ninstance={instance}\nsize=0\n{extra}\n"
    ).encode()


async def connect(addr):
    if "/" in addr:
        return await asyncio.open_unix_connection(addr)
    host, port = addr.rsplit(":", 1)
    return await asyncio.open_connection(host, int(port))


async def read_reply(reader, timeout=30):
    data = await asyncio.wait_for(reader.readuntil(b"\n\n"), timeout)
    return data.decode("utf-8", "replace").strip()


async def ask(addr, ip, sender, instance):
    reader, writer = await connect(addr)
    try:
        writer.write(request(ip, sender, instance))
        await writer.drain()
        return await read_reply(reader)
    finally:
        writer.close()


async def load(args):
    weights = [m[3] for m in MIX]
    rng = random.Random(7)
    plans = [[rng.choices(MIX, weights)[0] for _ in range(args.requests)]
             for _ in range(args.connections)]
    latencies, errors = [], []

    async def client(index, plan):
        reader, writer = await connect(args.connect)
        try:
            for n, (ip, sender, want, _) in enumerate(plan):
                start = time.perf_counter()
                writer.write(request(ip, sender, f"load.{index}.{n}"))
                await writer.drain()
                try:
                    got = await read_reply(reader)
                except (asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
                    errors.append(f"{sender} from {ip}: no reply ({e!r})")
                    return
                latencies.append(time.perf_counter() - start)
                if not got.startswith(want):
                    errors.append(f"{sender} from {ip}: {got[:120]!r}, want {want!r}")
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(client(i, p) for i, p in enumerate(plans)))
    wall = time.perf_counter() - start
    latencies.sort()

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    total = args.connections * args.requests
    print(f"load: {args.connections} connections x {args.requests} requests = {total} decisions "
          f"in {wall:.2f} s: {len(latencies) / wall:.0f} decisions/s, "
          f"p50 {pct(50):.2f} ms, p90 {pct(90):.2f} ms, p99 {pct(99):.2f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms, errors {len(errors) + total - len(latencies)}")
    if errors or len(latencies) != total:
        for e in errors[:20]:
            print("  " + e)
        sys.exit(1)


async def garbage(args):
    failures = []
    good = ("198.51.100.25", "dave@spf.e2e.test", "action=PREPEND Received-SPF: pass ")

    async def expect(reader, want, what):
        try:
            got = await read_reply(reader)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            failures.append(f"{what}: no reply ({e!r})")
            return
        if not got.startswith(want):
            failures.append(f"{what}: {got[:120]!r}, want {want!r}")
        else:
            print(f"garbage: {what}: {got[:80]}")

    async def then_good(reader, writer, what):
        writer.write(request(good[0], good[1], f"good-after-{what}"))
        await writer.drain()
        await expect(reader, good[2], f"good request after {what}")

    # Broken requests answered in-line; the connection stays usable.
    inline = {
        "a line without =": b"this is not an attribute\n\n",
        "an empty request": b"\n",
        "a 100 KB line": b"sender=" + b"x" * 100_000 + b"\n\n",
        "a 60 KB request in 4 KB lines": b"".join(
            b"ccert_subject=" + b"y" * 4000 + b"\n" for _ in range(15)) + b"\n",
        "300 attributes": b"request=smtpd_access_policy\n" + b"".join(
            b"x%d=1\n" % i for i in range(300)) + b"\n",
        "binary bytes": b"request=smtpd_access_policy\nsender=\x00\xff\xfe\x01\x7f\n\n",
        "invalid UTF-8": b"request=smtpd_access_policy\nsender=caf\xc3\x28@x.test\n\n",
        "another request type": request("192.0.2.7", "alice@wl.e2e.test", "rt").replace(
            b"smtpd_access_policy", b"something_else"),
        "no request attribute": request("192.0.2.7", "alice@wl.e2e.test", "nr").replace(
            b"request=smtpd_access_policy\n", b""),
        "a bad client_address": request("not-an-ip", "alice@wl.e2e.test", "ip"),
        "no sender attribute": request("192.0.2.7", "", "ns").replace(b"sender=\n", b""),
        "CRLF line ends": request("192.0.2.7", "alice@wl.e2e.test", "crlf").replace(
            b"\n", b"\r\n"),
    }
    for what, data in inline.items():
        reader, writer = await connect(args.connect)
        writer.write(data)
        await writer.drain()
        want = "action=DUNNO" if what == "CRLF line ends" else BROKEN
        await expect(reader, want, what)
        await then_good(reader, writer, what)
        writer.close()

    # A request without end: after 1 MiB the daemon answers and closes. The
    # close may reset the connection before the reply is read (our unread
    # bytes are still in its buffer); either way it must end.
    reader, writer = await connect(args.connect)
    try:
        writer.write(b"sender=" + b"z" * (2 * 1024 * 1024))
        await writer.drain()
        got = await read_reply(reader)
        if not got.startswith(BROKEN):
            failures.append(f"2 MB without a newline: {got[:120]!r}")
        rest = await asyncio.wait_for(reader.read(), 10)
        if rest:
            failures.append(f"2 MB without a newline: more after the reply: {rest[:60]!r}")
        print(f"garbage: 2 MB without a newline: {got}, then closed")
    except (ConnectionError, asyncio.IncompleteReadError):
        print("garbage: 2 MB without a newline: connection closed by the daemon")
    except asyncio.TimeoutError:
        failures.append("2 MB without a newline: the connection stayed open")
    writer.close()

    # Half requests and abrupt disconnects, many at once.
    # Only the daemon's survival counts here, not how each client fared.
    async def half(n):
        try:
            reader, writer = await connect(args.connect)
            writer.write(request("192.0.2.7", "alice@wl.e2e.test", f"half{n}")[: n % 150])
            await writer.drain()
            writer.close()
        except ConnectionError:
            pass

    await asyncio.gather(*(half(n) for n in range(200)))

    # Random bytes, with and without newlines.
    rng = random.Random(15)

    async def noise(n):
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000)))
        if n % 2:
            blob = blob.replace(b"\n", b"") + b"\n\n"
        try:
            reader, writer = await connect(args.connect)
            writer.write(blob)
            await writer.drain()
            if n % 2:
                await expect(reader, BROKEN, f"random bytes #{n}")
            writer.close()
        except ConnectionError:
            pass

    await asyncio.gather(*(noise(n) for n in range(100)))

    # The daemon still answers.
    reader, writer = await connect(args.connect)
    await then_good(reader, writer, "half requests, disconnects and random bytes")
    writer.close()
    if failures:
        print("FAILED:")
        for f in failures:
            print("  " + f)
        sys.exit(1)
    print("garbage: every broken request got the DEFER_IF_PERMIT reply; the daemon answers on")


async def once(args):
    print(await ask(args.connect, args.ip, args.sender, f"once.{time.time()}"))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["load", "garbage", "once"])
    parser.add_argument("--connect", required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--ip")
    parser.add_argument("--sender")
    args = parser.parse_args()
    asyncio.run({"load": load, "garbage": garbage, "once": once}[args.mode](args))


if __name__ == "__main__":
    main()

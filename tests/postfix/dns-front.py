#!/usr/bin/env python3
"""A DNS front on 127.0.0.1 for the policy daemon's tests: passes queries
through to an upstream server (NSD) over UDP and TCP, except that it never
answers names under the --drop suffixes (a server that times out) and holds
answers for names under the --delay suffixes (a slow server).

    dns-front.py --port PORT --upstream PORT [--drop SUFFIX]... [--delay SUFFIX:MS]...

Prints "ready" once both sockets listen. Counts what it dropped and delayed
and prints the counts on SIGTERM.
"""

import argparse
import asyncio
import signal
import struct
import sys


def qname(msg: bytes) -> str:
    """The question name of a DNS message, lower case, or '' if unreadable."""
    labels, pos = [], 12
    try:
        while msg[pos] != 0:
            n = msg[pos]
            if n & 0xC0:
                return ""
            labels.append(msg[pos + 1 : pos + 1 + n].decode("ascii", "replace"))
            pos += 1 + n
    except IndexError:
        return ""
    return ".".join(labels).lower()


def under(name: str, suffix: str) -> bool:
    return name == suffix or name.endswith("." + suffix)


class Front:
    def __init__(self, args):
        self.upstream = ("127.0.0.1", args.upstream)
        self.drop = [s.lower().strip(".") for s in args.drop]
        self.delay = []
        for spec in args.delay:
            suffix, ms = spec.rsplit(":", 1)
            self.delay.append((suffix.lower().strip("."), int(ms) / 1000.0))
        self.counts = {"queries": 0, "dropped": 0, "delayed": 0, "tcp": 0}
        self.pending = {}  # upstream id -> (client addr, client id)
        self.next_id = 0

    def verdict(self, msg: bytes):
        """(drop?, delay seconds) for a query."""
        name = qname(msg)
        if any(under(name, s) for s in self.drop):
            return True, 0.0
        for suffix, seconds in self.delay:
            if under(name, suffix):
                return False, seconds
        return False, 0.0


class ClientSide(asyncio.DatagramProtocol):
    def __init__(self, front):
        self.front = front

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        front = self.front
        if len(data) < 12:
            return
        front.counts["queries"] += 1
        drop, delay = front.verdict(data)
        if drop:
            front.counts["dropped"] += 1
            return
        if delay:
            front.counts["delayed"] += 1
        # A fresh upstream id, so queries of different clients never collide.
        front.next_id = (front.next_id + 1) & 0xFFFF
        uid = front.next_id
        front.pending[uid] = (addr, data[:2], delay)
        front.up.sendto(struct.pack("!H", uid) + data[2:])


class UpstreamSide(asyncio.DatagramProtocol):
    def __init__(self, front):
        self.front = front

    def connection_made(self, transport):
        self.front.up = transport

    def datagram_received(self, data, addr):
        front = self.front
        if len(data) < 12:
            return
        entry = front.pending.pop(struct.unpack("!H", data[:2])[0], None)
        if entry is None:
            return
        client, cid, delay = entry
        reply = cid + data[2:]
        if delay:
            asyncio.get_running_loop().call_later(delay, front.client.sendto, reply, client)
        else:
            front.client.sendto(reply, client)


async def tcp_client(front, reader, writer):
    try:
        while True:
            head = await reader.readexactly(2)
            query = await reader.readexactly(struct.unpack("!H", head)[0])
            front.counts["tcp"] += 1
            drop, delay = front.verdict(query)
            if drop:
                front.counts["dropped"] += 1
                continue
            up_r, up_w = await asyncio.open_connection(*front.upstream)
            up_w.write(head + query)
            await up_w.drain()
            rhead = await up_r.readexactly(2)
            reply = await up_r.readexactly(struct.unpack("!H", rhead)[0])
            up_w.close()
            if delay:
                await asyncio.sleep(delay)
            writer.write(rhead + reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", type=int, required=True)
    parser.add_argument("--drop", action="append", default=[])
    parser.add_argument("--delay", action="append", default=[])
    args = parser.parse_args()
    front = Front(args)
    loop = asyncio.get_running_loop()
    client, _ = await loop.create_datagram_endpoint(
        lambda: ClientSide(front), local_addr=("127.0.0.1", args.port)
    )
    front.client = client
    await loop.create_datagram_endpoint(lambda: UpstreamSide(front), remote_addr=front.upstream)
    server = await asyncio.start_server(
        lambda r, w: tcp_client(front, r, w), "127.0.0.1", args.port
    )
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    print("dns-front: " + ", ".join(f"{k} {v}" for k, v in front.counts.items()), file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())

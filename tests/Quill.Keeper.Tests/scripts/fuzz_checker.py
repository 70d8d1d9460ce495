"""The fuzz test's well-behaved client: kazoo, kept running between rounds, told what to do on stdin.

Usage: fuzz_checker.py HOSTS. Prints "ready" once connected; then for each line "round N" on stdin it reads back
every znode it wrote in earlier rounds (each must still be there with its data, and the counter must hold the last
value set), writes a few more, and prints "ok N <znodes>" or "lost ..."/"error ..."; "quit" ends it.
Its znodes live under /fuzz-checked with an ACL only its own digest identity satisfies, so that fuzzed requests
(which know nothing of that identity) cannot legitimately change them: anything missing was lost by the server.
"""
import sys
import traceback

from kazoo.client import KazooClient
from kazoo.exceptions import NoNodeError, NodeExistsError
from kazoo.retry import KazooRetry
from kazoo.security import make_digest_acl

ROOT = "/fuzz-checked"
COUNTER = ROOT + "/counter"
PER_ROUND = 3


def main():
    retry = KazooRetry(max_tries=20, delay=0.2, max_delay=2, ignore_expire=False)
    zk = KazooClient(hosts=sys.argv[1], timeout=30, connection_retry=dict(max_tries=-1, delay=0.2, max_delay=2),
                     command_retry=dict(max_tries=20, delay=0.2, max_delay=2), auth_data=[("digest", "checker:secret")])
    zk.start(timeout=30)
    acl = [make_digest_acl("checker", "secret", all=True)]
    written = {}
    counter = 0

    def create(path, data):
        # A create whose answer was lost to a reconnect is retried: then the node must hold what we wrote.
        try:
            retry(zk.create, path, data, acl=acl)
        except NodeExistsError:
            got, _ = retry(zk.get, path)
            if got != data:
                raise RuntimeError(f"{path} holds {got!r} after our create of {data!r}")

    create(ROOT, b"checker")
    create(COUNTER, b"0")
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        round_no = int(words[1])
        try:
            lost = []
            for path, data in written.items():
                try:
                    value, _ = retry(zk.get, path)
                except NoNodeError:
                    lost.append(f"{path} is gone")
                    continue
                if value != data:
                    lost.append(f"{path} holds {value!r}, not {data!r}")
            value, _ = retry(zk.get, COUNTER)
            if value != str(counter).encode():
                lost.append(f"{COUNTER} holds {value!r}, not {counter}")
            if lost:
                print("lost " + "; ".join(lost[:10]), flush=True)
                continue
            for i in range(PER_ROUND):
                path = f"{ROOT}/r{round_no}-{i}"
                data = f"round {round_no} node {i} ".encode() * (1 + i * 10)
                create(path, data)
                written[path] = data
            counter += 1
            retry(zk.set, COUNTER, str(counter).encode())
            print(f"ok {round_no} {len(written)}", flush=True)
        except Exception:
            print("error " + traceback.format_exc().replace("\n", " | "), flush=True)
    zk.stop()
    zk.close()


main()

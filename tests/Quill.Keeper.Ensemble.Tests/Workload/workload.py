"""Random ZooKeeper operations through kazoo, recorded as a history for the linearizability checker.

  workload.py run   --hosts h1,h2,h3 --workers W --duration S --out history.jsonl [--seed N] ...
  workload.py final --hosts h1,h2,h3 --out history.jsonl

`run` resets the root (default /jepsen: keys k0..k4, seq/, eph/), then W worker threads, worker i pinned to
hosts[i % len(hosts)], do random operations until the duration is over. `final` appends, for every host, a synced
read of each key and the children of seq/ and eph/. Every operation is two JSON lines (one object each):

  {"process": P, "type": "invoke", "f": F, "key": K, "value": V, "version": N, "time_ns": T}
  {"process": P, "type": "ok" | "fail" | "info", ...}

time_ns is CLOCK_MONOTONIC (shared by every process on the machine). "fail" means the operation certainly had no
effect, "info" that its outcome is unknown (connection loss, timeout): the worker then takes a new process number,
as a process may have only one operation open. Operations (f):

  read        sync then get; ok carries value and version
  write       set without a version; ok carries the version it produced
  cas         set with the version of a fresh read (sync then get, not recorded): invoke carries the expected
              version, ok the version produced; a BadVersion answer is "fail"
  create-seq  create a sequential node under seq/; ok carries the node's name
  ephemeral   a new session creates an ephemeral node under eph/ and closes; ok only when the server acknowledged
              the close (the node must then be gone); key is the node's path
  eph-exists  sync then exists, through the worker's own session, of the node its last ephemeral op created; ok
              value is "true" or "false"
  list        (final) the children of key, value is the sorted list of names
"""

import argparse
import json
import logging
import os
import random
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NoNodeError
from kazoo.retry import KazooRetry

KEYS = 5
BLATHER = 5  # kazoo's most verbose log level; its "Read close response" line is the close acknowledgement


class History:
    def __init__(self, path):
        self._file = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def record(self, process, type_, f, key=None, value=None, version=None):
        line = {"process": process, "type": type_, "f": f, "key": key, "value": value, "version": version,
                "time_ns": time.monotonic_ns()}
        with self._lock:
            self._file.write(json.dumps(line) + "\n")
            self._file.flush()

    def close(self):
        with self._lock:
            self._file.close()


def new_client(host, args, logger=None):
    # Pinned to one server: kazoo retries that host forever, quickly, when the connection drops.
    retry = KazooRetry(max_tries=-1, delay=0.1, max_delay=1.0)
    client = KazooClient(hosts=host, timeout=args.session_timeout, connection_retry=retry, logger=logger)
    client.start(timeout=args.connect_timeout)
    return client


def stop_quietly(client):
    try:
        client.stop()
        client.close()
    except Exception:
        pass


class CloseAcknowledged(logging.Handler):
    """Set when this client's connection read the server's answer to closeSession."""

    def __init__(self):
        super().__init__(level=BLATHER)
        self.event = threading.Event()

    def emit(self, record):
        if record.getMessage() == "Read close response":
            self.event.set()


class Worker(threading.Thread):
    def __init__(self, index, host, args, history, stop_at):
        super().__init__(daemon=True, name=f"worker-{index}")
        self.index = index
        self.process = index
        self.host = host
        self.args = args
        self.history = history
        self.stop_at = stop_at
        self.random = random.Random(args.seed * 1000 + index)
        self.counter = 0
        self.client = None
        self.last_ephemeral = None
        self.error = None

    def run(self):
        try:
            self.client = new_client(self.host, self.args)
            while time.monotonic() < self.stop_at:
                self.one_op()
        except Exception as e:  # a crash of the workload itself, reported by main
            self.error = repr(e)
        finally:
            if self.client is not None:
                stop_quietly(self.client)

    def wait(self, async_result):
        return async_result.get(timeout=self.args.op_timeout)

    def next_value(self):
        self.counter += 1
        return f"{self.index}-{self.counter}"

    def crashed(self):
        """After an 'info' the process may still have that op open: continue as a new process."""
        self.process += self.args.workers

    def one_op(self):
        r = self.random.random()
        key = f"{self.args.root}/k{self.random.randrange(KEYS)}"
        if self.last_ephemeral is not None and r < 0.05:
            self.eph_exists()
        elif r < 0.40:
            self.read(key)
        elif r < 0.65:
            self.write(key)
        elif r < 0.85:
            self.cas(key)
        elif r < 0.95:
            self.create_seq()
        else:
            self.ephemeral()

    def read(self, key):
        p = self.process
        self.history.record(p, "invoke", "read", key)
        try:
            self.wait(self.client.sync_async(key))
            data, stat = self.wait(self.client.get_async(key))
        except Exception:
            # A read changes nothing, so an unknown outcome is simply no observation.
            self.history.record(p, "fail", "read", key)
            return
        self.history.record(p, "ok", "read", key, data.decode(), stat.version)

    def write(self, key):
        p, value = self.process, self.next_value()
        self.history.record(p, "invoke", "write", key, value)
        try:
            stat = self.wait(self.client.set_async(key, value.encode(), -1))
        except NoNodeError:
            self.history.record(p, "fail", "write", key, value)
            return
        except Exception:
            self.history.record(p, "info", "write", key, value)
            self.crashed()
            return
        self.history.record(p, "ok", "write", key, value, stat.version)

    def cas(self, key):
        try:
            self.wait(self.client.sync_async(key))
            _, stat = self.wait(self.client.get_async(key))
        except Exception:
            return
        p, value, expected = self.process, self.next_value(), stat.version
        self.history.record(p, "invoke", "cas", key, value, expected)
        try:
            new_stat = self.wait(self.client.set_async(key, value.encode(), expected))
        except (BadVersionError, NoNodeError):
            self.history.record(p, "fail", "cas", key, value, expected)
            return
        except Exception:
            self.history.record(p, "info", "cas", key, value, expected)
            self.crashed()
            return
        self.history.record(p, "ok", "cas", key, value, new_stat.version)

    def create_seq(self):
        p, parent = self.process, f"{self.args.root}/seq"
        self.history.record(p, "invoke", "create-seq", parent)
        try:
            path = self.wait(self.client.create_async(parent + "/n-", b"", sequence=True))
        except Exception:
            self.history.record(p, "info", "create-seq", parent)
            self.crashed()
            return
        self.history.record(p, "ok", "create-seq", parent, path.rsplit("/", 1)[1])

    def ephemeral(self):
        p = self.process
        path = f"{self.args.root}/eph/e-{self.next_value()}"
        self.history.record(p, "invoke", "ephemeral", path)
        acknowledged = CloseAcknowledged()
        logger = logging.getLogger(f"ephemeral.{path}")
        logger.setLevel(BLATHER)
        logger.propagate = False
        logger.addHandler(acknowledged)
        session = KazooClient(hosts=self.host, timeout=self.args.session_timeout, logger=logger,
                              connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=1.0))
        try:
            session.start(timeout=self.args.op_timeout)
        except Exception:
            stop_quietly(session)
            self.history.record(p, "fail", "ephemeral", path)  # never connected, so nothing was sent
            return
        try:
            self.wait(session.create_async(path, b"", ephemeral=True))
        except Exception:
            pass  # created or not, the node must be gone once the close is acknowledged
        stop_quietly(session)
        if acknowledged.event.wait(timeout=1.0):
            self.history.record(p, "ok", "ephemeral", path)
            self.last_ephemeral = path
        else:
            self.history.record(p, "info", "ephemeral", path)
            self.crashed()

    def eph_exists(self):
        p, path = self.process, self.last_ephemeral
        self.history.record(p, "invoke", "eph-exists", path)
        try:
            self.wait(self.client.sync_async(path))
            stat = self.wait(self.client.exists_async(path))
        except Exception:
            self.history.record(p, "fail", "eph-exists", path)
            return
        self.history.record(p, "ok", "eph-exists", path, "true" if stat is not None else "false")


def reset(args, hosts):
    client = new_client(",".join(hosts), args)
    try:
        client.delete(args.root, recursive=True)
    except NoNodeError:
        pass
    client.create(args.root, b"")
    for k in range(KEYS):
        client.create(f"{args.root}/k{k}", b"")
    client.create(f"{args.root}/seq", b"")
    client.create(f"{args.root}/eph", b"")
    client.stop()
    client.close()


def run(args, hosts):
    reset(args, hosts)
    history = History(args.out)
    stop_at = time.monotonic() + args.duration
    workers = [Worker(i, hosts[i % len(hosts)], args, history, stop_at) for i in range(args.workers)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=max(0.0, stop_at - time.monotonic()) + args.op_timeout * 3 + args.connect_timeout + 15)
    history.close()
    errors = [f"{w.name}: {w.error}" for w in workers if w.error]
    stuck = [w.name for w in workers if w.is_alive()]
    for line in errors + [f"{name}: still running at the end" for name in stuck]:
        print(line, file=sys.stderr)
    sys.stdout.flush()
    # Daemon threads still inside kazoo must not hold the exit.
    os._exit(1 if errors else 0)


def final(args, hosts):
    history = History(args.out)
    for i, host in enumerate(hosts):
        p = 1_000_000 + i
        client = new_client(host, args)
        for k in range(KEYS):
            key = f"{args.root}/k{k}"
            history.record(p, "invoke", "read", key)
            client.sync(key)
            data, stat = client.get(key)
            history.record(p, "ok", "read", key, data.decode(), stat.version)
        for parent in (f"{args.root}/seq", f"{args.root}/eph"):
            history.record(p, "invoke", "list", parent)
            client.sync(parent)
            history.record(p, "ok", "list", parent, sorted(client.get_children(parent)))
        client.stop()
        client.close()
    history.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["run", "final"])
    parser.add_argument("--hosts", required=True, help="comma-separated host:port, one per server")
    parser.add_argument("--out", required=True)
    parser.add_argument("--workers", type=int, default=6)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--root", default="/jepsen")
    parser.add_argument("--op-timeout", type=float, default=5.0)
    parser.add_argument("--session-timeout", type=float, default=10.0)
    parser.add_argument("--connect-timeout", type=float, default=30.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    hosts = args.hosts.split(",")
    if args.mode == "run":
        run(args, hosts)
    else:
        final(args, hosts)


if __name__ == "__main__":
    main()

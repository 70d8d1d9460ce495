"""Dynamic reconfiguration through kazoo, one command per run; prints one result line.

  reconfig HOSTS [--auth user:pw] [--join SPEC] [--leave IDS] [--members SPEC] [--from VERSION] [--watch]
      -> "ok <config with ; for newlines>" (and "event <type>" when --watch saw /zookeeper/config change)
      or "error <ExceptionClass> <code>"
  config HOSTS        -> "config <config with ; for newlines> dataVersion=<n>"
  setconfig HOSTS     -> tries setData on /zookeeper/config: "ok" or "error <ExceptionClass> <code>"
  restrict HOSTS PATH -> creates PATH (data "hidden") whose ACL gives world:anyone CREATE only: "ok" or "error ..."
  read HOSTS PATH     -> getData without auth: "read <data>" or "error <ExceptionClass> <code>"
"""
import argparse
import sys
import threading

from kazoo.client import KazooClient
from kazoo.security import ACL, ANYONE_ID_UNSAFE, Permissions


def one_line(data):
    return data.decode().strip().replace("\n", ";")


def connect(hosts, auth=None):
    client = KazooClient(hosts=hosts, timeout=30, auth_data=[("digest", auth)] if auth else None)
    client.start(timeout=60)
    return client


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command")
    p.add_argument("hosts")
    p.add_argument("path", nargs="?")
    p.add_argument("--auth")
    p.add_argument("--join")
    p.add_argument("--leave")
    p.add_argument("--members")
    p.add_argument("--from", dest="from_config", type=lambda s: int(s, 0), default=-1)
    p.add_argument("--watch", action="store_true")
    a = p.parse_args()
    client = connect(a.hosts, a.auth)
    try:
        if a.command == "config":
            data, stat = client.get("/zookeeper/config")
            print("config %s dataVersion=%d" % (one_line(data), stat.version))
        elif a.command == "setconfig":
            try:
                client.set("/zookeeper/config", b"server.1=x")
                print("ok")
            except Exception as e:  # noqa: BLE001 - the error is the result
                print("error %s %s" % (type(e).__name__, getattr(e, "code", "")))
        elif a.command == "restrict":
            try:
                client.create(a.path, b"hidden", acl=[ACL(Permissions.CREATE, ANYONE_ID_UNSAFE)])
                print("ok")
            except Exception as e:  # noqa: BLE001 - the error is the result
                print("error %s %s" % (type(e).__name__, getattr(e, "code", "")))
        elif a.command == "read":
            try:
                data, _ = client.get(a.path)
                print("read %s" % data.decode())
            except Exception as e:  # noqa: BLE001 - the error is the result
                print("error %s %s" % (type(e).__name__, getattr(e, "code", "")))
        elif a.command == "reconfig":
            fired = threading.Event()
            events = []
            if a.watch:
                def watcher(event):
                    events.append(event.type)
                    fired.set()
                client.get("/zookeeper/config", watch=watcher)
            try:
                data, _ = client.reconfig(joining=a.join, leaving=a.leave, new_members=a.members, from_config=a.from_config)
                print("ok %s" % one_line(data))
            except Exception as e:  # noqa: BLE001 - the error is the result
                print("error %s %s" % (type(e).__name__, getattr(e, "code", "")))
            if a.watch:
                fired.wait(30)
                print("event %s" % (events[0] if events else "none"))
        else:
            print("unknown command " + a.command)
            return 2
    finally:
        try:
            client.stop()
            client.close()
        except Exception:  # noqa: BLE001 - the server may be stepping down
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())

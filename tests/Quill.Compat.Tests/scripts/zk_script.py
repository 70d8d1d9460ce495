#!/usr/bin/python3
"""A fixed script of ZooKeeper operations for differential testing.

Run it against Apache ZooKeeper and against Keeper: the two outputs must be equal line by line.
Each step prints one normalized line: `label | outcome`. Outcomes never contain zxids, times or
session ids; stats are reduced to their deterministic fields.

Usage: zk_script.py HOST:PORT [BASE_PATH]
Everything happens under BASE_PATH (default /compat), which is removed first and at the end, so
the script can run twice against one server with the same output.

Watch events are recorded as they come off the wire (before kazoo's own watcher bookkeeping,
which would hide spurious or duplicate events) and printed after a sync on the watching client:
the server sends a session's notifications before the sync reply, so the order is deterministic.
"""
import socket
import struct
import sys

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException, NoAuthError, ZookeeperError
from kazoo.protocol.serialization import Connect, Watch, int_struct, read_buffer, read_string, stat_struct, write_string
from kazoo.protocol.states import ZnodeStat
from kazoo.security import ACL, Id, Permissions, make_acl, make_digest_acl

HOSTS = sys.argv[1]
BASE = sys.argv[2] if len(sys.argv) > 2 else "/compat"

# A node the script creates (and removes) under the reserved /zookeeper node.
SYSTEM_CHILD = "/zookeeper/" + BASE.strip("/").replace("/", "-") + "-probe"

EVENT_NAMES = {1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged", 4: "NodeChildrenChanged",
               5: "DataWatchRemoved", 6: "ChildWatchRemoved", 7: "PersistentWatchRemoved"}


def out(label, outcome):
    print(f"{label} | {outcome}", flush=True)


def rel(path):
    """Paths are printed relative to BASE so that two bases give the same output."""
    if isinstance(path, str) and path.startswith(BASE):
        return "~" + path[len(BASE):]
    return path


def fmt_stat(stat, owner="bool"):
    if owner == "bool":
        eph = f"eph={stat.ephemeralOwner != 0}"
    else:
        eph = f"owner=0x{stat.ephemeralOwner & 0xFFFFFFFFFFFFFFFF:016x}"
    return (f"version={stat.version} cversion={stat.cversion} aversion={stat.aversion} "
            f"dataLength={stat.dataLength} numChildren={stat.numChildren} {eph}")


def fmt_acl(acls):
    return "[" + ", ".join(f"{a.perms}:{a.id.scheme}:{a.id.id}" for a in acls) + "]"


def fmt(result):
    if result is None:
        return "None"
    if isinstance(result, ZnodeStat):
        return fmt_stat(result)
    if isinstance(result, str):
        return rel(result)
    if isinstance(result, (bytes, bytearray)):
        return repr(bytes(result))
    if isinstance(result, bool):
        return str(result)
    if isinstance(result, Exception):
        return "error " + type(result).__name__
    if isinstance(result, tuple):
        return " ".join(fmt(r) for r in result)
    if isinstance(result, list):
        return "[" + ", ".join(fmt(r) for r in result) + "]"
    return repr(result)


def step(label, fn, show=fmt):
    """Run one operation and print its outcome; returns the result or None on error."""
    try:
        result = fn()
    except (ZookeeperError, KazooException) as e:
        out(label, "error " + type(e).__name__)
        return None
    except (ValueError, TypeError) as e:
        out(label, "client-rejected " + type(e).__name__)
        return None
    out(label, "ok " + show(result))
    return result


class WireEvents:
    """Records every watch notification a client receives, in wire order."""

    def __init__(self, client):
        self.client = client
        self.events = []
        conn = client._connection
        original = conn._read_watch_event

        def recording(buffer, offset):
            watch, _ = Watch.deserialize(buffer, offset)
            self.events.append(f"{EVENT_NAMES.get(watch.type, watch.type)} {rel(watch.path)}")
            return original(buffer, offset)

        conn._read_watch_event = recording

    def print(self, label):
        self.client.sync("/")
        events, self.events = self.events, []
        out(label, "events [" + ", ".join(events) + "]")


class Raw:
    """A request kazoo has no method for, sent through kazoo's connection."""

    def __init__(self, type_, payload, parse):
        self.type = type_
        self.payload = payload
        self.parse = parse

    def serialize(self):
        return self.payload

    def deserialize(self, buffer, offset):
        return self.parse(buffer, offset)

    def __repr__(self):
        return f"Raw(type={self.type})"


def call_raw(client, request):
    result = client.handler.async_result()
    client._call(request, result)
    return result.get(timeout=10)


def acl_bytes(acls):
    b = bytearray(int_struct.pack(len(acls)))
    for a in acls:
        b += int_struct.pack(a.perms) + write_string(a.id.scheme) + write_string(a.id.id)
    return bytes(b)


def buffer_bytes(data):
    return int_struct.pack(len(data)) + data


def parse_create2(buffer, offset):
    path, offset = read_string(buffer, offset)
    stat = ZnodeStat._make(stat_struct.unpack_from(buffer, offset))
    return f"{rel(path)} {fmt_stat(stat, owner='hex')}"


def parse_int(buffer, offset):
    return str(int_struct.unpack_from(buffer, offset)[0])


def parse_strings(buffer, offset):
    count = int_struct.unpack_from(buffer, offset)[0]
    offset += 4
    items = []
    for _ in range(count):
        s, offset = read_string(buffer, offset)
        items.append(rel(s))
    return "[" + ", ".join(sorted(items)) + "]"


def raw_string(text):
    """A jute string with exactly these bytes (kazoo's own writer sends "" as null)."""
    data = text.encode("utf-8")
    return int_struct.pack(len(data)) + data


def raw_create(path, flags):
    open_acl = [make_acl("world", "anyone", all=True)]
    payload = raw_string(path) + buffer_bytes(b"") + acl_bytes(open_acl) + int_struct.pack(flags)
    return Raw(1, payload, lambda buffer, offset: rel(read_string(buffer, offset)[0]))


def raw_get(path):
    def parse(buffer, offset):
        data, offset = read_buffer(buffer, offset)
        return f"{data!r} {fmt_stat(ZnodeStat._make(stat_struct.unpack_from(buffer, offset)))}"
    return Raw(4, raw_string(path) + b"\x00", parse)


def raw_exists(path):
    # Raw.type 3 is what kazoo checks to turn NoNode into a None result, as for its own exists().
    return Raw(3, raw_string(path) + b"\x00",
               lambda buffer, offset: fmt_stat(ZnodeStat._make(stat_struct.unpack_from(buffer, offset))))


def parse_empty(buffer, offset):
    return "empty"


def four_letter(word):
    host, port = HOSTS.split(",")[0].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(word.encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.decode().strip()


def connect(timeout=10.0):
    client = KazooClient(hosts=HOSTS, timeout=timeout)
    conn = client._connection
    original = conn._invoke

    def recording(timeout, request, xid=None):
        result = original(timeout, request, xid=xid)
        if isinstance(request, Connect):
            client.negotiated_timeout_ms = result[0].time_out
        return result

    conn._invoke = recording
    client.start(timeout=15)
    return client


def delete_tree(client, path):
    """Like kazoo's recursive delete, but a node we may not list (NoAuth) is taken as a leaf."""
    try:
        children = client.get_children(path)
    except NoAuthError:
        children = []
    for child in children:
        delete_tree(client, f"{path}/{child}")
    client.delete(path)


def cleanup():
    """Removes BASE with a session that holds the script's digest identities."""
    client = connect()
    client.add_auth("digest", "alice:secret")
    if client.exists(BASE):
        delete_tree(client, BASE)
    if client.exists(SYSTEM_CHILD):
        client.delete(SYSTEM_CHILD)
    client.stop()
    client.close()


def main():
    zk = connect()
    cleanup()
    ev = WireEvents(zk)
    B = BASE

    # --- Four-letter words and session negotiation
    out("4lw ruok", four_letter("ruok"))
    out("4lw isro", four_letter("isro"))
    out("session timeout 10000 negotiated", str(zk.negotiated_timeout_ms))
    for requested in (1.0, 100.0):
        c = connect(timeout=requested)
        out(f"session timeout {int(requested * 1000)} negotiated", str(c.negotiated_timeout_ms))
        c.stop()
        c.close()

    # --- The built-in tree
    step("exists /", lambda: zk.exists("/") is not None)
    step("children / has zookeeper", lambda: "zookeeper" in zk.get_children("/"))
    step("children /zookeeper", lambda: sorted(zk.get_children("/zookeeper")))
    step("get /zookeeper/config data", lambda: zk.get("/zookeeper/config")[0])
    step("getAcl /", lambda: zk.get_acls("/")[0], show=fmt_acl)

    # --- Create: persistent, data forms, errors
    parent = B.rsplit("/", 1)[0]
    if parent:
        zk.ensure_path(parent)
    step("create base", lambda: zk.create(B, b"base"))
    step("create persistent", lambda: zk.create(f"{B}/p", b"hello"))
    step("create duplicate", lambda: zk.create(f"{B}/p", b"again"))
    step("create missing parent", lambda: zk.create(f"{B}/missing/child", b""))
    step("create makepath", lambda: zk.create(f"{B}/deep/er/node", b"x", makepath=True))
    step("create include_data", lambda: zk.create(f"{B}/c2", b"abc", include_data=True))
    step("create null data", lambda: zk.create(f"{B}/nulldata", None))
    step("get null data", lambda: zk.get(f"{B}/nulldata"))
    step("create empty data", lambda: zk.create(f"{B}/emptydata", b""))
    step("get empty data", lambda: zk.get(f"{B}/emptydata"))
    step("create binary data", lambda: zk.create(f"{B}/bin", bytes(range(256))))
    step("get binary data length", lambda: len(zk.get(f"{B}/bin")[0]))
    step("create / itself", lambda: zk.create("/", b""))
    step("create under /zookeeper", lambda: zk.create(SYSTEM_CHILD, b"") == SYSTEM_CHILD)
    step("delete under /zookeeper", lambda: zk.delete(SYSTEM_CHILD))

    # --- Stat relations that do not depend on absolute zxids
    st = zk.exists(f"{B}/p")
    out("stat new node czxid==mzxid", str(st.czxid == st.mzxid))
    out("stat new node pzxid==czxid", str(st.pzxid == st.czxid))
    out("stat new node ctime==mtime", str(st.ctime == st.mtime))
    step("set persistent", lambda: zk.set(f"{B}/p", b"world!"))
    st = zk.exists(f"{B}/p")
    out("stat after set czxid<mzxid", str(st.czxid < st.mzxid))
    parent_before = zk.exists(B)
    zk.create(f"{B}/p/kid", b"")
    parent_after = zk.exists(B)
    p_after = zk.exists(f"{B}/p")
    out("stat after child create pzxid moved", str(p_after.pzxid > p_after.czxid))
    out("stat grandparent pzxid unchanged", str(parent_before.pzxid == parent_after.pzxid))
    zk.delete(f"{B}/p/kid")
    p_after_delete = zk.exists(f"{B}/p")
    out("stat after child delete pzxid moved", str(p_after_delete.pzxid > p_after.pzxid))
    out("stat after child delete mzxid unchanged", str(p_after_delete.mzxid == p_after.mzxid))
    step("exists after child churn", lambda: zk.exists(f"{B}/p"))

    # --- Get / set with versions
    step("get", lambda: zk.get(f"{B}/p"))
    step("set version 1", lambda: zk.set(f"{B}/p", b"v2", version=1))
    step("set stale version 1", lambda: zk.set(f"{B}/p", b"v3", version=1))
    step("set version -1", lambda: zk.set(f"{B}/p", b"v3", version=-1))
    step("set missing", lambda: zk.set(f"{B}/nope", b"x"))
    step("get missing", lambda: zk.get(f"{B}/nope"))
    step("exists missing", lambda: zk.exists(f"{B}/nope"))
    step("get after sets", lambda: zk.get(f"{B}/p"))

    # --- Delete
    step("delete non-empty", lambda: zk.delete(f"{B}/deep"))
    step("delete bad version", lambda: zk.delete(f"{B}/deep/er/node", version=7))
    step("delete good version", lambda: zk.delete(f"{B}/deep/er/node", version=0))
    step("delete missing", lambda: zk.delete(f"{B}/deep/er/node"))
    step("delete recursive", lambda: zk.delete(f"{B}/deep", recursive=True))
    step("delete /zookeeper", lambda: zk.delete("/zookeeper"))
    step("delete /", lambda: zk.delete("/"))

    # --- Children
    for name in ("zeta", "alpha", "mid", "Beta", "a1", "a10", "a2"):
        zk.create(f"{B}/kids/{name}", b"", makepath=True)
    step("get_children sorted", lambda: sorted(zk.get_children(f"{B}/kids")))
    step("get_children include_data stat", lambda: zk.get_children(f"{B}/kids", include_data=True)[1])
    step("get_children missing", lambda: zk.get_children(f"{B}/nope"))
    step("get_children leaf", lambda: zk.get_children(f"{B}/kids/zeta"))

    # --- Sequential nodes: the suffix comes from the parent's cversion
    zk.create(f"{B}/seq", b"")
    step("create sequential 1", lambda: zk.create(f"{B}/seq/n-", b"", sequence=True))
    step("create sequential 2", lambda: zk.create(f"{B}/seq/n-", b"", sequence=True))
    step("create plain child", lambda: zk.create(f"{B}/seq/plain", b""))
    step("delete plain child", lambda: zk.delete(f"{B}/seq/plain"))
    step("create sequential after churn", lambda: zk.create(f"{B}/seq/n-", b"", sequence=True))
    step("create sequential no prefix", lambda: zk.create(f"{B}/seq/", b"", sequence=True))
    step("create ephemeral sequential", lambda: zk.create(f"{B}/seq/e-", b"", ephemeral=True, sequence=True))
    step("seq parent stat", lambda: zk.exists(f"{B}/seq"))
    step("seq children", lambda: sorted(zk.get_children(f"{B}/seq")))

    # --- Ephemerals
    step("create ephemeral", lambda: zk.create(f"{B}/eph", b"e", ephemeral=True))
    step("ephemeral stat", lambda: zk.exists(f"{B}/eph"))
    step("child under ephemeral", lambda: zk.create(f"{B}/eph/child", b""))
    step("sequential child under ephemeral", lambda: zk.create(f"{B}/eph/c-", b"", sequence=True))
    other = connect()
    step("other: create ephemeral", lambda: other.create(f"{B}/other-eph", b"", ephemeral=True))
    step("watch other's ephemeral", lambda: zk.exists(f"{B}/other-eph", watch=lambda e: None) is not None)
    other.stop()
    other.close()
    ev.print("events after other session closed")
    step("other's ephemeral after close", lambda: zk.exists(f"{B}/other-eph"))

    # --- Container and TTL nodes (opcodes kazoo has no method for)
    open_acl = [make_acl("world", "anyone", all=True)]
    create_payload = lambda path, flags: (write_string(path) + buffer_bytes(b"c") + acl_bytes(open_acl)
                                          + int_struct.pack(flags))
    step("create container", lambda: call_raw(zk, Raw(19, create_payload(f"{B}/container", 4), parse_create2)))
    step("create container wrong flags", lambda: call_raw(zk, Raw(19, create_payload(f"{B}/container2", 0),
                                                                    parse_create2)))
    step("child of container", lambda: zk.create(f"{B}/container/child", b""))
    ttl_payload = lambda path, flags, ttl: create_payload(path, flags) + struct.pack("!q", ttl)
    step("create ttl", lambda: call_raw(zk, Raw(21, ttl_payload(f"{B}/ttl", 5, 60000), parse_create2)))
    step("create ttl sequential", lambda: call_raw(zk, Raw(21, ttl_payload(f"{B}/ttl-", 6, 60000),
                                                             parse_create2)))
    step("create ttl zero", lambda: call_raw(zk, Raw(21, ttl_payload(f"{B}/ttl0", 5, 0), parse_create2)))
    step("create ttl with ephemeral flags", lambda: call_raw(zk, Raw(21, ttl_payload(f"{B}/ttle", 1, 60000),
                                                                       parse_create2)))
    step("getAllChildrenNumber base", lambda: call_raw(zk, Raw(104, write_string(B), parse_int)))
    step("getAllChildrenNumber missing", lambda: call_raw(zk, Raw(104, write_string(f"{B}/nope"), parse_int)))
    step("getEphemerals base", lambda: call_raw(zk, Raw(103, write_string(B), parse_strings)))

    # --- ACLs
    step("getAcl default", lambda: zk.get_acls(f"{B}/p"), show=lambda r: f"{fmt_acl(r[0])} {fmt_stat(r[1])}")
    read_only = [make_acl("world", "anyone", read=True)]
    step("setAcl stale version", lambda: zk.set_acls(f"{B}/p", open_acl, version=3))
    step("setAcl read-only", lambda: zk.set_acls(f"{B}/p", read_only, version=0))
    step("getAcl after set", lambda: zk.get_acls(f"{B}/p"), show=lambda r: f"{fmt_acl(r[0])} {fmt_stat(r[1])}")
    step("set on read-only", lambda: zk.set(f"{B}/p", b"nope"))
    step("get on read-only", lambda: zk.get(f"{B}/p"))
    step("create child of read-only", lambda: zk.create(f"{B}/p/c", b""))
    step("setAcl on read-only", lambda: zk.set_acls(f"{B}/p", open_acl))
    step("setAcl missing", lambda: zk.set_acls(f"{B}/nope", open_acl))
    step("getAcl missing", lambda: zk.get_acls(f"{B}/nope"))
    step("create empty acl", lambda: zk.create(f"{B}/noacl", b"", acl=[]))
    step("getAcl empty acl node", lambda: zk.get_acls(f"{B}/noacl")[0], show=fmt_acl)
    step("set empty acl node", lambda: zk.set(f"{B}/noacl", b"x"))
    step("setAcl to empty", lambda: zk.set_acls(f"{B}/c2", []))
    step("create bogus scheme acl", lambda: zk.create(f"{B}/bogus", b"", acl=[ACL(Permissions.ALL, Id("bogus", "x"))]))
    step("create auth acl unauthenticated", lambda: zk.create(f"{B}/authacl", b"", acl=[make_acl("auth", "", all=True)]))
    step("create ip acl", lambda: zk.create(f"{B}/ipacl", b"ip", acl=[make_acl("ip", "127.0.0.1", all=True)]))
    step("get ip acl node", lambda: zk.get(f"{B}/ipacl"))
    step("create ip acl other host", lambda: zk.create(f"{B}/ipacl2", b"ip", acl=[make_acl("ip", "10.9.9.9", all=True)]))
    step("get ip acl other host", lambda: zk.get(f"{B}/ipacl2"))
    step("create bad ip acl", lambda: zk.create(f"{B}/ipacl3", b"", acl=[make_acl("ip", "not-an-ip", all=True)]))

    digest = make_digest_acl("alice", "secret", all=True)
    out("digest id", digest.id.id)
    step("create digest node", lambda: zk.create(f"{B}/secret", b"s3", acl=[digest]))
    step("get digest node unauthenticated", lambda: zk.get(f"{B}/secret"))
    step("exists digest node unauthenticated", lambda: zk.exists(f"{B}/secret") is not None)
    step("getAcl digest node unauthenticated", lambda: zk.get_acls(f"{B}/secret")[0], show=fmt_acl)
    step("children digest node unauthenticated", lambda: zk.get_children(f"{B}/secret"))
    step("create sibling of digest node", lambda: zk.create(f"{B}/secret-sib", b""))
    alice = connect()
    step("alice: add_auth", lambda: alice.add_auth("digest", "alice:secret"))
    step("alice: get digest node", lambda: alice.get(f"{B}/secret"))
    step("alice: set digest node", lambda: alice.set(f"{B}/secret", b"s4"))
    step("alice: create auth acl", lambda: alice.create(f"{B}/authacl", b"", acl=[make_acl("auth", "", all=True)]))
    step("alice: getAcl auth acl node", lambda: alice.get_acls(f"{B}/authacl")[0], show=fmt_acl)
    step("alice: add second identity", lambda: alice.add_auth("digest", "bob:builder"))
    step("alice: create auth acl two ids", lambda: alice.create(f"{B}/authacl2", b"",
                                                                acl=[make_acl("auth", "", read=True)]))
    step("alice: getAcl two ids", lambda: sorted(f"{a.perms}:{a.id.scheme}:{a.id.id}" for a in
                                                  alice.get_acls(f"{B}/authacl2")[0]))
    step("alice: wrong password session", lambda: zk.add_auth("digest", "alice:wrong"))
    step("get digest node wrong password", lambda: zk.get(f"{B}/secret"))
    alice.stop()
    alice.close()
    bad = connect()
    step("bad: add_auth unknown scheme", lambda: bad.add_auth("nosuchscheme", "x"))
    try:
        bad.stop()
        bad.close()
    except Exception:
        pass

    # --- Transactions
    zk.create(f"{B}/tx", b"")
    zk.create(f"{B}/tx/existing", b"e")

    def txn(*ops):
        t = zk.transaction()
        for op in ops:
            getattr(t, op[0])(*op[1:])
        return t.commit()

    step("txn success", lambda: txn(("create", f"{B}/tx/a", b"1"), ("set_data", f"{B}/tx/a", b"2"),
                                    ("check", f"{B}/tx/a", 1), ("delete", f"{B}/tx/existing"),
                                    ("create", f"{B}/tx/s-", b"", None, False, True)))
    step("txn success children", lambda: sorted(zk.get_children(f"{B}/tx")))
    step("txn fail in middle", lambda: txn(("create", f"{B}/tx/b", b""), ("check", f"{B}/tx/a", 99),
                                           ("create", f"{B}/tx/c", b"")))
    step("txn fail first", lambda: txn(("delete", f"{B}/tx/nope"), ("create", f"{B}/tx/d", b"")))
    step("txn fail last", lambda: txn(("create", f"{B}/tx/e", b""), ("create", f"{B}/tx/a", b"")))
    step("txn children after failures", lambda: sorted(zk.get_children(f"{B}/tx")))
    step("txn stat after failures", lambda: zk.exists(f"{B}/tx"))
    step("txn empty", lambda: txn())
    step("txn create then child", lambda: txn(("create", f"{B}/tx/p", b""), ("create", f"{B}/tx/p/q", b"")))
    step("txn delete non-empty", lambda: txn(("delete", f"{B}/tx/p"),))
    step("txn ephemeral then child", lambda: txn(("create", f"{B}/tx/eph", b"", None, True),
                                                 ("create", f"{B}/tx/eph/c", b"")))
    step("txn bad version set", lambda: txn(("set_data", f"{B}/tx/a", b"x", 5),))
    step("txn no auth", lambda: txn(("set_data", f"{B}/secret", b"x"),))

    # --- Watches (events printed in wire order after a sync)
    zk.create(f"{B}/w", b"0")
    zk.get(f"{B}/w", watch=lambda e: None)
    zk.set(f"{B}/w", b"1")
    zk.set(f"{B}/w", b"2")
    ev.print("data watch fires once on set")
    zk.get(f"{B}/w", watch=lambda e: None)
    zk.exists(f"{B}/w", watch=lambda e: None)
    zk.set(f"{B}/w", b"3")
    ev.print("get and exists watch on same path")
    zk.exists(f"{B}/w/new", watch=lambda e: None)
    zk.create(f"{B}/w/new", b"")
    ev.print("exists watch fires on create")
    zk.get_children(f"{B}/w", watch=lambda e: None)
    zk.get(f"{B}/w", watch=lambda e: None)
    zk.create(f"{B}/w/second", b"")
    ev.print("child watch on create, data watch untouched")
    zk.set(f"{B}/w", b"4")
    ev.print("pending data watch still fires")
    zk.get_children(f"{B}/w", watch=lambda e: None)
    zk.get(f"{B}/w/second", watch=lambda e: None)
    zk.delete(f"{B}/w/second")
    ev.print("delete fires child and data watch")
    zk.get_children(f"{B}/w/new", watch=lambda e: None)
    zk.get(f"{B}/w/new", watch=lambda e: None)
    zk.delete(f"{B}/w/new")
    ev.print("delete fires data and child watch of node")
    zk.get_children(f"{B}/w", watch=lambda e: None)
    txn(("create", f"{B}/w/t1", b""), ("create", f"{B}/w/t2", b""))
    ev.print("child watch fires once for txn")
    zk.get(f"{B}/w/t1", watch=lambda e: None)
    zk.get(f"{B}/w/t2", watch=lambda e: None)
    txn(("set_data", f"{B}/w/t2", b"x"), ("delete", f"{B}/w/t1"))
    ev.print("txn events in op order")
    zk.get(f"{B}/w/t2", watch=lambda e: None)
    txn(("set_data", f"{B}/w/t2", b"y"), ("check", f"{B}/w/t2", 99))
    ev.print("failed txn fires nothing")
    zk.exists(f"{B}/w/missing", watch=lambda e: None)
    zk.set(f"{B}/w/t2", b"z")
    ev.print("exists watch on missing ignores other nodes")
    zk.create(f"{B}/w/missing", b"")
    ev.print("exists watch on missing fires later")
    zk.get(f"{B}/w/t2", watch=lambda e: None)
    zk.set_acls(f"{B}/w/t2", open_acl)
    ev.print("setAcl fires no data watch")
    zk.set(f"{B}/w/t2", b"after-acl")
    ev.print("data watch still armed after setAcl")
    watcher = connect()
    wev = WireEvents(watcher)
    watcher.get(f"{B}/w", watch=lambda e: None)
    watcher.get_children(f"{B}/w", watch=lambda e: None)
    zk.set(f"{B}/w", b"5")
    zk.create(f"{B}/w/from-other", b"")
    wev.print("other session sees events")
    watcher.get(f"{B}/w/t2", watch=lambda e: None)
    step("set with stale version", lambda: zk.set(f"{B}/w/t2", b"v", version=0))
    wev.print("failed set fires nothing")
    zk.set(f"{B}/w/t2", b"u", version=-1)
    wev.print("data watch still armed after failed set")
    watcher.stop()
    watcher.close()

    # --- Sync
    step("sync base", lambda: zk.sync(B))
    step("sync missing", lambda: zk.sync(f"{B}/nope"))

    # --- Invalid paths, sent byte-exact (kazoo normalizes and rejects some paths client-side)
    for label, path in (("no leading slash", "compat-bad"), ("trailing slash", f"{B}/bad/"),
                        ("double slash", f"{B}//bad"), ("dot segment", f"{B}/./bad"),
                        ("dotdot segment", f"{B}/../bad"), ("ends in dot", f"{B}/."),
                        ("ends in dotdot", f"{B}/.."), ("nul char", f"{B}/ba\u0000d"),
                        ("control char", f"{B}/ba\u0001d"), ("DEL char", f"{B}/ba\u007fd"),
                        ("C1 control char", f"{B}/ba\u0085d"), ("private use char", f"{B}/ba\ue000d"),
                        ("noncharacter", f"{B}/ba\ufff0d"), ("unicode", f"{B}/caf\u00e9"),
                        ("dot name", f"{B}/.hidden"), ("dots name", f"{B}/...x")):
        step(f"raw create invalid {label}", lambda: call_raw(zk, raw_create(path, 0)))
        step(f"raw get invalid {label}", lambda: call_raw(zk, raw_get(path)))
        step(f"raw exists invalid {label}", lambda: call_raw(zk, raw_exists(path)))
    step("raw create invalid empty path", lambda: call_raw(zk, raw_create("", 0)))
    step("raw create root", lambda: call_raw(zk, raw_create("/", 0)))
    root_get = call_raw(zk, raw_get("/"))
    root_exists = call_raw(zk, raw_exists("/"))
    step("raw get empty path is root", lambda: call_raw(zk, raw_get("")) == root_get)
    step("raw exists empty path is root", lambda: call_raw(zk, raw_exists("")) == root_exists)
    step("raw create sequential trailing slash", lambda: call_raw(zk, raw_create(f"{B}/kids/", 2)))
    step("raw create sequential double slash", lambda: call_raw(zk, raw_create(f"{B}/kids//", 2)))
    step("kazoo rejects dot segment", lambda: zk.create(f"{B}/./x", b""))
    step("children after invalid paths", lambda: sorted(zk.get_children(B)))

    ev.print("no stray events")

    # --- An opcode the server does not know (ZooKeeper answers, then drops the connection)
    odd = connect()
    step("unknown opcode 999", lambda: call_raw(odd, Raw(999, b"", parse_empty)))
    try:
        odd.stop()
        odd.close()
    except Exception:
        pass
    step("cleanup", lambda: cleanup())
    step("base gone", lambda: zk.exists(B))
    zk.stop()
    zk.close()
    out("done", "ok")


if __name__ == "__main__":
    main()

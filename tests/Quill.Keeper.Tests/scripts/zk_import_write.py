"""Writes a varied tree for the ZooKeeper import tests: nested nodes, binary data, digest and world ACLs, sequential
nodes, deletes, setData versions, multis (one failing), a container, a TTL node, and many small writes so that a
server with a small snapCount takes several snapshots. Ends with a session left open that owns an ephemeral.
Usage: zk_import_write.py HOST:PORT"""
import os
import struct
import sys
from collections import namedtuple

from kazoo.client import KazooClient
from kazoo.protocol.serialization import Create, read_string
from kazoo.security import OPEN_ACL_UNSAFE, make_acl, make_digest_acl


class CreateContainer(Create):
    type = 19  # ZooDefs.OpCode.createContainer; kazoo has no call for it


class CreateTtl(namedtuple("CreateTtl", "path data acl flags ttl")):
    type = 21  # ZooDefs.OpCode.createTTL

    def serialize(self):
        b = Create(self.path, self.data, self.acl, self.flags).serialize()
        b.extend(struct.pack("!q", self.ttl))
        return b

    @classmethod
    def deserialize(cls, data, offset):
        return read_string(data, offset)[0]


def call(request):
    result = zk.handler.async_result()
    zk._call(request, result)
    return result.get(timeout=30)


zk = KazooClient(hosts=sys.argv[1], timeout=30)
zk.start(timeout=30)
zk.add_auth("digest", "alice:secret")

zk.create("/app", b"app")
zk.create("/app/config", bytes(range(256)))
zk.create("/app/a/b/c/d", b"deep", makepath=True)
zk.create("/app/empty")
zk.create("/secret", b"for alice", acl=[make_digest_acl("alice", "secret", all=True), make_acl("world", "anyone", read=True)])
zk.create("/private", b"alice only", acl=[make_digest_acl("alice", "secret", all=True)])
zk.create("/app/queue")
for i in range(6):
    zk.create("/app/queue/item-", str(i).encode(), sequence=True)
zk.delete("/app/queue/item-0000000001")
zk.delete("/app/queue/item-0000000004")
for i in range(3):
    zk.set("/app/config", bytes([i]) * 300)
zk.set_acls("/app/empty", [make_acl("world", "anyone", read=True, write=True, admin=True)])
zk.set_acls("/app/empty", OPEN_ACL_UNSAFE)

tx = zk.transaction()
tx.create("/app/tx1", b"made in a multi")
tx.set_data("/app", b"app v2")
tx.delete("/app/queue/item-0000000000")
tx.check("/app/config", 3)
print("multi:", tx.commit())
failing = zk.transaction()
failing.check("/app/config", 99)
failing.create("/app/never", b"x")
print("failing multi:", failing.commit())

call(CreateContainer("/app/container", b"c", OPEN_ACL_UNSAFE, 4))
zk.create("/app/container/child", b"keeps it")
call(CreateTtl("/app/ttl", b"t", OPEN_ACL_UNSAFE, 5, 3600000))

zk.create("/gone/child", b"x", makepath=True)
zk.delete("/gone", recursive=True)
zk.create("/app/counter", b"0")
for i in range(60):
    zk.set("/app/counter", str(i).encode())
    if i % 10 == 0:
        zk.create("/app/queue/item-", b"late", sequence=True)
zk.stop()
zk.close()

# A session that stays open: ZooKeeper is killed while it still owns its ephemeral.
owner = KazooClient(hosts=sys.argv[1], timeout=40)
owner.start(timeout=30)
owner.create("/app/ephemeral", b"mine", ephemeral=True)
print("ephemeral owner 0x%x" % owner.client_id[0])
sys.stdout.flush()
os._exit(0)

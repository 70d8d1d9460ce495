"""Prints every znode (path, data, stat, ACL) as one JSON object per line, sorted by path, authenticated as the
digest user the import tests use. Usage: zk_dump.py HOST:PORT"""
import json
import sys

from kazoo.client import KazooClient

zk = KazooClient(hosts=sys.argv[1], timeout=30)
zk.start(timeout=30)
zk.add_auth("digest", "alice:secret")
lines = []


def walk(path):
    data, stat = zk.get(path)
    acls, _ = zk.get_acls(path)
    lines.append(json.dumps({
        "path": path, "data": data.hex() if data is not None else None,
        "czxid": stat.czxid, "mzxid": stat.mzxid, "pzxid": stat.pzxid, "ctime": stat.ctime, "mtime": stat.mtime,
        "version": stat.version, "cversion": stat.cversion, "aversion": stat.aversion,
        "ephemeralOwner": stat.ephemeralOwner, "dataLength": stat.dataLength, "numChildren": stat.numChildren,
        "acl": sorted([a.perms, a.id.scheme, a.id.id] for a in acls),
    }, sort_keys=True))
    for child in sorted(zk.get_children(path)):
        walk(path.rstrip("/") + "/" + child)


walk("/")
print("\n".join(sorted(lines)))
zk.stop()
zk.close()

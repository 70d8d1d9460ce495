using System.Net;
using System.Security.Cryptography;
using System.Text;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Auth;

/// <summary>ACL checks and the digest, ip, world and auth schemes, as ZooKeeper defines them.</summary>
public static class Acls
{
    /// <summary>"user:password" -> "user:base64(sha1(user:password))", DigestAuthenticationProvider's form.</summary>
    public static string Digest(string userAndPassword)
    {
        int colon = userAndPassword.IndexOf(':');
        string user = colon < 0 ? userAndPassword : userAndPassword[..colon];
        return user + ":" + Convert.ToBase64String(SHA1.HashData(Encoding.UTF8.GetBytes(userAndPassword)));
    }

    /// <summary>Whether someone holding <paramref name="authIds"/> has any of <paramref name="perm"/>'s bits.</summary>
    public static bool Allows(IReadOnlyList<Acl> acl, IReadOnlyList<Id> authIds, Perms perm)
    {
        if (acl.Count == 0) return true;
        foreach (var id in authIds) if (id.Scheme == "super") return true;
        foreach (var a in acl)
        {
            if ((a.Perms & perm) == 0) continue;
            if (a.Id.Scheme == "world" && a.Id.Ident == "anyone") return true;
            foreach (var id in authIds)
                if (id.Scheme == a.Id.Scheme && Matches(a.Id.Scheme, id.Ident, a.Id.Ident)) return true;
        }
        return false;
    }

    private static bool Matches(string scheme, string authId, string aclId) =>
        scheme == "ip" ? IpMatches(authId, aclId) : authId == aclId;

    /// <summary>ip ACLs: an address, or an address with /bits.</summary>
    private static bool IpMatches(string clientIp, string aclId)
    {
        var parts = aclId.Split('/');
        if (!IPAddress.TryParse(parts[0], out var network) || !IPAddress.TryParse(clientIp, out var client)) return false;
        var n = network.GetAddressBytes();
        var c = client.GetAddressBytes();
        if (n.Length != c.Length) return false;
        int bits = n.Length * 8;
        if (parts.Length == 2 && (!int.TryParse(parts[1], out bits) || bits < 0 || bits > n.Length * 8)) return false;
        for (int i = 0; i < n.Length && bits > 0; i++, bits -= 8)
        {
            int mask = bits >= 8 ? 0xFF : (0xFF << (8 - bits)) & 0xFF;
            if ((n[i] & mask) != (c[i] & mask)) return false;
        }
        return true;
    }

    /// <summary>
    /// ZooKeeper's fixupACL: checks each entry, replaces the "auth" scheme with the caller's authenticated ids,
    /// drops duplicates. Null means InvalidACL. The usual world:anyone list comes back as one shared instance per
    /// permission set, so the thousands of nodes that carry it do not each hold a copy.
    /// </summary>
    public static IReadOnlyList<Acl>? Fixup(IReadOnlyList<Acl> acl, IReadOnlyList<Id> authIds)
    {
        if (acl.Count == 0) return null;
        var result = new List<Acl>(acl.Count);
        foreach (var a in acl)
        {
            switch (a.Id.Scheme)
            {
                case "world" when a.Id.Ident == "anyone":
                    Add(result, a);
                    break;
                case "auth":
                    bool any = false;
                    foreach (var id in authIds)
                        if (id.Scheme == "digest") { Add(result, new Acl(a.Perms, id)); any = true; }
                    if (!any) return null;
                    break;
                case "digest" when a.Id.Ident.Split(':').Length == 2:
                    Add(result, a);
                    break;
                case "ip" when IsValidIp(a.Id.Ident):
                    Add(result, a);
                    break;
                default:
                    return null;
            }
        }
        if (result is [{ Id.Scheme: "world", Id.Ident: "anyone" } only] && (int)only.Perms is >= 0 and < 32)
            return s_worldLists[(int)only.Perms] ??= [new Acl(only.Perms, Id.Anyone)];
        return result;
    }

    // Indexed by permission bits, filled on first use; a race between servers in one process only builds a list twice.
    private static readonly IReadOnlyList<Acl>?[] s_worldLists = new IReadOnlyList<Acl>?[32];

    private static void Add(List<Acl> list, Acl a)
    {
        if (!list.Contains(a)) list.Add(a);
    }

    private static bool IsValidIp(string id)
    {
        var parts = id.Split('/');
        if (parts.Length > 2 || !IPAddress.TryParse(parts[0], out var ip)) return false;
        return parts.Length == 1 || (int.TryParse(parts[1], out int bits) && bits >= 0 && bits <= ip.GetAddressBytes().Length * 8);
    }
}

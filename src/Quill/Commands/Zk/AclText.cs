using System.Text;
using Quill.Keeper.Protocol;

namespace Quill.Commands.Zk;

/// <summary>ACLs as zkCli reads them ("world:anyone:cdrwa,ip:10.0.0.1:r") and prints them.</summary>
public static class AclText
{
    /// <summary>
    /// Parses "scheme:id:perms[,...]" the way zkCli does: the id is everything between the first and the last colon,
    /// an entry without two colons is skipped with a warning, and an unknown permission letter is ignored with a
    /// warning. Warnings go to <paramref name="warn"/>.
    /// </summary>
    public static List<Acl> Parse(string text, Action<string> warn)
    {
        var acl = new List<Acl>();
        foreach (string entry in text.Split(','))
        {
            int first = entry.IndexOf(':'), last = entry.LastIndexOf(':');
            if (first < 0 || first == last)
            {
                warn($"{entry} does not have the form scheme:id:perm");
                continue;
            }
            acl.Add(new Acl(ParsePerms(entry[(last + 1)..], warn), new Id(entry[..first], entry[(first + 1)..last])));
        }
        return acl;
    }

    private static Perms ParsePerms(string letters, Action<string> warn)
    {
        var perms = Perms.None;
        foreach (char c in letters)
        {
            switch (c)
            {
                case 'r': perms |= Perms.Read; break;
                case 'w': perms |= Perms.Write; break;
                case 'c': perms |= Perms.Create; break;
                case 'd': perms |= Perms.Delete; break;
                case 'a': perms |= Perms.Admin; break;
                default: warn($"Unknown perm type: {c}"); break;
            }
        }
        return perms;
    }

    /// <summary>
    /// The two lines zkCli's getAcl prints per entry: the Id in jute's CSV form ("'world,'anyone") and ": cdrwa".
    /// </summary>
    public static IEnumerable<string> Lines(Acl acl)
    {
        yield return $"{Csv(acl.Id.Scheme)},{Csv(acl.Id.Ident)}";
        yield return ": " + PermString(acl.Perms);
    }

    /// <summary>Permission letters in zkCli's order: c, d, r, w, a.</summary>
    public static string PermString(Perms perms)
    {
        var letters = new StringBuilder(5);
        if (perms.HasFlag(Perms.Create)) letters.Append('c');
        if (perms.HasFlag(Perms.Delete)) letters.Append('d');
        if (perms.HasFlag(Perms.Read)) letters.Append('r');
        if (perms.HasFlag(Perms.Write)) letters.Append('w');
        if (perms.HasFlag(Perms.Admin)) letters.Append('a');
        return letters.ToString();
    }

    /// <summary>A string in jute's CSV encoding: a leading quote, and the separators percent-escaped.</summary>
    private static string Csv(string value)
    {
        var csv = new StringBuilder(value.Length + 1).Append('\'');
        foreach (char c in value)
        {
            csv.Append(c switch
            {
                '\0' => "%00",
                '\n' => "%0A",
                '\r' => "%0D",
                ',' => "%2C",
                '}' => "%7D",
                '%' => "%25",
                _ => c.ToString(),
            });
        }
        return csv.ToString();
    }
}

namespace Quill.Keeper.Client.Connection;

/// <summary>Maps the paths a caller sees to the server's paths and back, for a client rooted at a chroot.</summary>
internal sealed class Chroot(string root)
{
    /// <summary>The chroot itself ("/app"), or "" when the client sees the whole tree.</summary>
    public string Root { get; } = root;

    public string ToServer(string clientPath) =>
        Root.Length == 0 ? clientPath : clientPath == "/" ? Root : Root + clientPath;

    /// <summary>Strips the chroot; a path outside it (which a server should never send) is returned unchanged.</summary>
    public string ToClient(string serverPath)
    {
        if (Root.Length == 0) return serverPath;
        if (serverPath == Root) return "/";
        if (serverPath.Length > Root.Length && serverPath[Root.Length] == '/' && serverPath.StartsWith(Root, StringComparison.Ordinal))
            return serverPath[Root.Length..];
        return serverPath;
    }

    /// <summary>True when a server path lies inside the chroot (always, without one).</summary>
    public bool Contains(string serverPath) =>
        Root.Length == 0 || serverPath == Root ||
        serverPath.Length > Root.Length && serverPath[Root.Length] == '/' && serverPath.StartsWith(Root, StringComparison.Ordinal);
}

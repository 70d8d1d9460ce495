namespace Quill.Keeper.Protocol;

/// <summary>ZooKeeper's path rules (PathUtils.validatePath), shared by the server and the client.</summary>
public static class PathUtils
{
    /// <summary>Returns null when the path is valid, else the reason it is not.</summary>
    public static string? Validate(string? path, bool isSequential = false)
    {
        if (path is null) return "Path cannot be null";
        if (path.Length == 0) return "Path length must be > 0";
        if (path[0] != '/') return "Path must start with / character";
        if (path.Length == 1) return null;
        if (path[^1] == '/' && !isSequential) return "Path must not end with / character";
        for (int i = 1; i < path.Length; i++)
        {
            char c = path[i], last = path[i - 1];
            if (c == '\0') return $"null character not allowed @{i}";
            if (c == '/' && last == '/') return $"empty node name specified @{i}";
            if (c == '.' && last == '.' && path[i - 2] == '/' && (i + 1 == path.Length || path[i + 1] == '/'))
                return $"relative paths not allowed @{i}";
            if (c == '.' && last == '/' && (i + 1 == path.Length || path[i + 1] == '/'))
                return $"relative paths not allowed @{i}";
            if (c is > '\u0000' and <= '\u001f' or >= '\u007f' and <= '\u009F' or >= '\ud800' and <= '\uf8ff' or >= '\ufff0' and <= '\uffff')
                return $"invalid character @{i}";
        }
        return null;
    }

    public static string Parent(string path)
    {
        int slash = path.LastIndexOf('/');
        return slash <= 0 ? "/" : path[..slash];
    }

    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    public static string Join(string parent, string child) => parent == "/" ? "/" + child : parent + "/" + child;
}

using System.Runtime.InteropServices;

namespace Quill.Broker.Log;

/// <summary>
/// fsync of a directory, so that newly created or renamed files (a rolled segment, a replaced checkpoint) are
/// themselves durable, not only their contents. .NET has no API for it; on Unix this opens the directory
/// read-only and fsyncs the descriptor. Elsewhere (Windows) it does nothing: NTFS journals the metadata.
/// </summary>
internal static partial class DirectorySync
{
    public static void Flush(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        int fd = Open(dir, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"cannot open directory {dir} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"fsync of directory {dir} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}

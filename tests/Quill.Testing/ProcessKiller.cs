using System.Diagnostics;

namespace Quill.Testing;

/// <summary>How the test servers die: SIGKILL (no clean shutdown, no flush), then wait until the process is gone.</summary>
public static class ProcessKiller
{
    /// <summary>Kills <paramref name="process"/> (and its children when asked), waits for it, disposes it, clears the field.</summary>
    public static void KillAndWait(ref Process? process, bool entireProcessTree = true)
    {
        var p = process;
        if (p is null) return;
        try
        {
            if (!p.HasExited) p.Kill(entireProcessTree);
            p.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        p.Dispose();
        process = null;
    }
}

using System.Diagnostics;

namespace Quill.Keeper.Ensemble.Tests.Harness;

/// <summary>
/// Every server process the harness started and has not killed yet. Disposing an ensemble kills its own; this list
/// also kills them when the test host exits without disposing (a crash, a hang killed by the runner's timeout).
/// </summary>
internal static class ChildProcesses
{
    private static readonly HashSet<Process> Live = [];

    static ChildProcesses() => AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();

    public static void Add(Process process)
    {
        lock (Live) Live.Add(process);
    }

    public static void Remove(Process process)
    {
        lock (Live) Live.Remove(process);
    }

    private static void KillAll()
    {
        lock (Live)
        {
            foreach (var process in Live)
            {
                try
                {
                    process.Kill();
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
            }
            Live.Clear();
        }
    }
}

using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Quill.Keeper.Ensemble.Tests.Harness;

/// <summary>
/// Every server process the harness started and has not killed yet. Disposing an ensemble kills its own; this list
/// also kills them when the process exits or is interrupted without disposing (Ctrl-C, SIGTERM, a hang ended by
/// the runner's timeout).
/// </summary>
internal static class ChildProcesses
{
    private static readonly HashSet<Process> Live = [];

    private static readonly List<PosixSignalRegistration> Signals = [];

    static ChildProcesses()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        // Ctrl-C or a kill of the long form: the servers go first, then the process ends as it would have.
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
            Signals.Add(PosixSignalRegistration.Create(signal, _ => KillAll()));
    }

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

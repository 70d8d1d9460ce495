using System.Runtime.InteropServices;

namespace Quill.Keeper.Ensemble.Tests.Harness;

/// <summary>SIGSTOP and SIGCONT, which .NET's Process does not send: a paused server keeps its sockets open and
/// answers nothing, as a long GC pause or a stalled VM would.</summary>
internal static partial class Signals
{
    private const int SigCont = 18;
    private const int SigStop = 19;

    public static void Stop(int pid) => Send(pid, SigStop);
    public static void Continue(int pid) => Send(pid, SigCont);

    private static void Send(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int sig);
}

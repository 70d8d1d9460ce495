using Quill.Keeper.Client;
using Quill.Keeper.Protocol;

namespace Quill.Streams.HighAvailability;

/// <summary>
/// Keeper steps that are safe to repeat are tried again after a connection loss (the client reconnects with the same
/// session and sends what waits once it is back), for up to half a minute; expiry and closing still fail at once.
/// </summary>
internal static class KeeperRetry
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    public static async Task<T> IdempotentAsync<T>(Func<Task<T>> step)
    {
        var until = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                return await step();
            }
            catch (KeeperException e) when (e.Code == ErrorCode.ConnectionLoss && DateTime.UtcNow < until)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>The same, waited for (from a task's or the coordinator's thread, never Keeper's event thread).</summary>
    public static T Idempotent<T>(Func<Task<T>> step) =>
        Task.Run(() => IdempotentAsync(step)).WaitAsync(Deadline + TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
}

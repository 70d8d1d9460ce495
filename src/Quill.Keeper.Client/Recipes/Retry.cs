using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client.Recipes;

/// <summary>
/// Recipes ride out connection loss: an idempotent step that failed with ConnectionLoss is tried again once the
/// session is connected again. Expiry and closing end the wait with an exception.
/// </summary>
internal static class Retry
{
    public static async Task<T> OnConnectionLossAsync<T>(KeeperClient client, Func<Task<T>> step, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await step();
            }
            catch (KeeperException e) when (e.Code == ErrorCode.ConnectionLoss)
            {
                await client.WaitForStateAsync(SessionState.Connected, cancellationToken);
            }
        }
    }

    public static Task OnConnectionLossAsync(KeeperClient client, Func<Task> step, CancellationToken cancellationToken) =>
        OnConnectionLossAsync(client, async () =>
        {
            await step();
            return true;
        }, cancellationToken);

    /// <summary>The exception for a watch that ended because the session did (a None event).</summary>
    public static Exception SessionEnded(WatchedEvent e, string? path) => e.State == KeeperState.Expired
        ? new KeeperException(ErrorCode.SessionExpired, path)
        : new ObjectDisposedException(nameof(KeeperClient), "the client was closed");
}

using Quill.Streams.Api;

namespace Quill.Streams.Tests;

/// <summary>A job running in the background of a test; disposing it stops it cleanly and surfaces its failure.</summary>
public sealed class RunningJob : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();

    public RunningJob(StreamJob job) => Run = Task.Run(() => job.RunAsync(_stop.Token));

    public Task Run { get; }

    /// <summary>Stops the job (its sources stop, the rest drains) and waits until it has ended.</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        await Run.WaitAsync(Kafka.Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        if (!Run.IsCompleted) await StopAsync();
        _stop.Dispose();
    }
}

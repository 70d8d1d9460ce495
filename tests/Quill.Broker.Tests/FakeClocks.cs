using Microsoft.Extensions.Time.Testing;

namespace Quill.Broker.Tests;

/// <summary>The broker tests' clock: a <see cref="FakeTimeProvider"/> at a fixed start, read and moved in Unix milliseconds.</summary>
public static class FakeClocks
{
    public const long StartMs = 1_700_000_000_000;

    public static FakeTimeProvider New() => new(DateTimeOffset.FromUnixTimeMilliseconds(StartMs));

    extension(FakeTimeProvider clock)
    {
        public long NowMs => clock.GetUtcNow().ToUnixTimeMilliseconds();

        /// <summary>Moves the clock; timers due by then fire (FakeTimeProvider fires them with the clock already moved).</summary>
        public void Advance(long ms) => clock.Advance(TimeSpan.FromMilliseconds(ms));
    }
}

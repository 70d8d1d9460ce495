using System.Globalization;
using Quill.Streams.Api;
using Quill.Streams.Connectors.Kafka;
using Quill.Streams.Serialization;
using Quill.Streams.State;
using Quill.Streams.Time;

namespace Quill.Streams.Examples.FraudDetector;

/// <summary>
/// Reads card transactions (key: the account, value: the amount as decimal text; event time: the Kafka timestamp)
/// and raises an alert when an account makes a tiny transaction (under <see cref="SmallAmount"/>, the way a stolen card
/// is often tested) followed within <c>window</c> of event time by a large one (over <see cref="LargeAmount"/>). Keyed
/// state remembers the account's last tiny transaction; an event-time timer forgets it once the window has passed.
/// Alerts: key the account, value JSON <c>{"Account":..., "Small":..., "SmallAt":..., "Large":..., "LargeAt":...}</c>.
/// </summary>
public static class FraudDetectorJob
{
    public const decimal SmallAmount = 1.00m;
    public const decimal LargeAmount = 500.00m;

    public static void Define(StreamJob job, string input, string output, TimeSpan window)
    {
        var watermarks = WatermarkStrategy<KafkaRecord<string?, string?>>.ForBoundedOutOfOrderness(TimeSpan.FromSeconds(5))
            .WithIdleness(TimeSpan.FromSeconds(30));
        job.FromKafka([input], StartFrom.Earliest, Serdes.String, Serdes.String, watermarks).Uid("transactions")
            .Filter(t => t.Key is not null && decimal.TryParse(t.Value, NumberStyles.Number, CultureInfo.InvariantCulture, out _))
            .Map(t => new Transaction(t.Key!, decimal.Parse(t.Value!, NumberStyles.Number, CultureInfo.InvariantCulture), t.Timestamp))
            .KeyBy(t => t.Account)
            .Process(() => new SmallThenLarge((long)window.TotalMilliseconds)).Uid("detector")
            .ToKafka(output, a => a.Account, Serdes.String, Serdes.Json<Alert>());
    }

    /// <summary>The rule, per account: a tiny transaction, then a large one within the window.</summary>
    private sealed class SmallThenLarge(long windowMs) : KeyedProcessFunction<string, Transaction, Alert>
    {
        private IValueState<Transaction> _lastSmall = null!;

        public override void Open(IKeyedStateProvider state) => _lastSmall = state.GetValueState<Transaction>("last-small");

        public override void ProcessElement(Transaction transaction, KeyedContext<string, Alert> context)
        {
            if (_lastSmall.HasValue && _lastSmall.Value is { } small && transaction.Amount > LargeAmount
                && transaction.Timestamp - small.Timestamp <= windowMs && transaction.Timestamp >= small.Timestamp)
            {
                context.Emit(new Alert(transaction.Account, small.Amount, small.Timestamp, transaction.Amount, transaction.Timestamp));
                Forget(context);
            }
            if (transaction.Amount < SmallAmount)
            {
                Forget(context);
                _lastSmall.Value = transaction;
                context.Timers.RegisterEventTimeTimer(transaction.Timestamp + windowMs);
            }
        }

        /// <summary>The window of the remembered tiny transaction has passed: forget it.</summary>
        public override void OnTimer(long time, KeyedContext<string, Alert> context)
        {
            if (_lastSmall.Value is { } small && small.Timestamp + windowMs == time) _lastSmall.Clear();
        }

        private void Forget(KeyedContext<string, Alert> context)
        {
            if (_lastSmall.Value is { } small) context.Timers.DeleteEventTimeTimer(small.Timestamp + windowMs);
            _lastSmall.Clear();
        }
    }
}

/// <summary>One card transaction.</summary>
public sealed record Transaction(string Account, decimal Amount, long Timestamp);

/// <summary>A tiny transaction followed by a large one on the same account.</summary>
public sealed record Alert(string Account, decimal Small, long SmallAt, decimal Large, long LargeAt);

using System.Diagnostics;
using Quill.Kafka.Messages;
using Quill.Kafka.Protocol.Messages;
using Quill.Kafka.Protocol.Primitives;
using Quill.Kafka.Protocol.Schema;

// Generated classes against the interpreting codec on two hot messages: a Fetch response (the broker builds and
// writes one per fetch) and a Produce request (the broker reads one per produce). Prints time and allocation per
// operation; asserts nothing. Run: dotnet run -c Release --project tools/Quill.Kafka.Messages.Bench [iterations]
int iterations = args.Length > 0 ? int.Parse(args[0]) : 200_000;
const int Topics = 2, Partitions = 4;
var records = new byte[1024];
new Random(1).NextBytes(records);

Console.WriteLine($"{Topics} topics x {Partitions} partitions, {records.Length} bytes of records each; {iterations} iterations; .NET {Environment.Version}");
Console.WriteLine($"{"",-46}{"ns/op",10}{"B/op",10}");

using var writer = new KafkaWriter(64 * 1024);

// ---- Fetch response v16 (flexible; tagged NodeEndpoints empty) and v11 ----
foreach (short version in new short[] { 11, 16 })
{
    StructValue BuildFetchCodec()
    {
        var body = FetchApi.Response.New();
        body.SetInt("ThrottleTimeMs", 0).SetInt("ErrorCode", 0).SetInt("SessionId", 0);
        for (int t = 0; t < Topics; t++)
        {
            var topic = body.AddElement("Responses").SetString("Topic", "topic-" + t);
            for (int p = 0; p < Partitions; p++)
            {
                topic.AddElement("Partitions").SetInt("PartitionIndex", p).SetInt("ErrorCode", 0)
                    .SetInt("HighWatermark", 1000).SetInt("LastStableOffset", 1000).SetInt("LogStartOffset", 0)
                    .SetArray("AbortedTransactions", null).SetBytes("Records", records);
            }
        }
        return body;
    }

    FetchResponseData BuildFetchTyped()
    {
        var body = new FetchResponseData();
        for (int t = 0; t < Topics; t++)
        {
            var topic = new FetchResponseData.ResponsesItem { Topic = "topic-" + t };
            for (int p = 0; p < Partitions; p++)
                topic.Partitions.Add(new() { PartitionIndex = p, HighWatermark = 1000, LastStableOffset = 1000, LogStartOffset = 0, AbortedTransactions = null, Records = records });
            body.Responses.Add(topic);
        }
        return body;
    }

    MeasureAction($"Fetch response v{version} build+write   codec", () => { writer.Reset(); MessageCodec.Encode(FetchApi.Response, version, BuildFetchCodec(), writer); });
    MeasureAction($"Fetch response v{version} build+write   typed", () => { writer.Reset(); BuildFetchTyped().Write(writer, version); });
    writer.Reset();
    BuildFetchTyped().Write(writer, version);
    var fetchBytes = writer.ToArray();
    Measure($"Fetch response v{version} read          codec", () => MessageCodec.Decode(FetchApi.Response, version, fetchBytes));
    Measure($"Fetch response v{version} read          typed", () => FetchResponseData.Read(fetchBytes, version));
}

// ---- Produce request v9 (flexible) and v8 ----
foreach (short version in new short[] { 8, 9 })
{
    var typed = new ProduceRequestData { Acks = -1, TimeoutMs = 30000 };
    for (int t = 0; t < Topics; t++)
    {
        var topic = new ProduceRequestData.TopicDataItem { Name = "topic-" + t };
        for (int p = 0; p < Partitions; p++) topic.PartitionData.Add(new() { Index = p, Records = records });
        typed.TopicData.Add(topic);
    }
    writer.Reset();
    typed.Write(writer, version);
    var produceBytes = writer.ToArray();
    var codecValue = MessageCodec.Decode(ProduceApi.Request, version, produceBytes);

    Measure($"Produce request v{version} read          codec", () => MessageCodec.Decode(ProduceApi.Request, version, produceBytes));
    Measure($"Produce request v{version} read          typed", () => ProduceRequestData.Read(produceBytes, version));
    // What a handler does next: walk topics and partitions to the records.
    Measure($"Produce request v{version} read+walk     codec", () =>
    {
        var body = MessageCodec.Decode(ProduceApi.Request, version, produceBytes);
        long sum = 0;
        foreach (var topic in body.GetArray("TopicData")!)
            foreach (var partition in topic.GetArray("PartitionData")!)
                sum += partition.GetInt32("Index") + partition.GetBytes("Records")!.Value.Length;
        return sum;
    });
    Measure($"Produce request v{version} read+walk     typed", () =>
    {
        var body = ProduceRequestData.Read(produceBytes, version);
        long sum = 0;
        foreach (var topic in body.TopicData)
            foreach (var partition in topic.PartitionData)
                sum += partition.Index + partition.Records!.Value.Length;
        return sum;
    });
    MeasureAction($"Produce request v{version} write         codec", () => { writer.Reset(); MessageCodec.Encode(ProduceApi.Request, version, codecValue, writer); });
    MeasureAction($"Produce request v{version} write         typed", () => { writer.Reset(); typed.Write(writer, version); });
}
return 0;

void Measure(string name, Func<object?> operation)
{
    object? sink = null;
    for (int i = 0; i < Math.Max(1000, iterations / 10); i++) sink = operation(); // warm up (tiered JIT, PGO)
    GC.Collect();
    long allocated = GC.GetAllocatedBytesForCurrentThread();
    var clock = Stopwatch.StartNew();
    for (int i = 0; i < iterations; i++) sink = operation();
    clock.Stop();
    allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
    GC.KeepAlive(sink);
    Console.WriteLine($"{name,-46}{clock.Elapsed.TotalNanoseconds / iterations,10:F0}{(double)allocated / iterations,10:F0}");
}

void MeasureAction(string name, Action operation) => Measure(name, () => { operation(); return null; });

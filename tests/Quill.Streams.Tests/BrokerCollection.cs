using Quill.Broker.Compat.Tests;

namespace Quill.Streams.Tests;

/// <summary>The test classes that need a broker share one (each test uses its own topics): starting one is the slow part.</summary>
[CollectionDefinition(Name)]
public sealed class BrokerCollection : ICollectionFixture<BrokerFixture>
{
    public const string Name = "broker";
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace Quill.Broker.Config;

/// <summary>One named listener, as listeners= or advertised.listeners= gives it: NAME://host:port (host "" for every address).</summary>
public sealed record ListenerEndpoint(string Name, string Host, int Port)
{
    /// <summary>NAME://host:port, IPv6 hosts bracketed (as Kafka writes endpoints into /brokers/ids).</summary>
    public override string ToString() =>
        $"{Name}://{(Host.Contains(':') ? $"[{Host}]" : Host)}:{Port.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>
/// Kafka's listener settings: <c>listeners</c>, <c>advertised.listeners</c>, <c>listener.security.protocol.map</c>,
/// <c>inter.broker.listener.name</c> / <c>security.inter.broker.protocol</c> and <c>control.plane.listener.name</c>,
/// parsed and checked with the rules (and, after the key, the words) of Kafka's KafkaConfig. Listener names are
/// upper-cased, as Kafka normalises them. Only the PLAINTEXT security protocol is served.
/// </summary>
public static partial class ListenerConfig
{
    public const string Plaintext = "PLAINTEXT";

    /// <summary>Kafka's security protocols; only PLAINTEXT is served here.</summary>
    private static readonly string[] SecurityProtocols = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];

    /// <summary>Kafka's default listener.security.protocol.map: each protocol is a listener name of its own.</summary>
    public static Dictionary<string, string> DefaultProtocolMap() =>
        SecurityProtocols.ToDictionary(p => p, p => p, StringComparer.Ordinal);

    [GeneratedRegex(@"^(.*)://\[?([0-9a-zA-Z\-%._:]*)\]?:(-?[0-9]+)$")]
    private static partial Regex EndpointPattern();

    /// <summary>A comma-separated list of NAME://host:port.</summary>
    public static List<ListenerEndpoint> ParseList(string key, string value)
    {
        var list = new List<ListenerEndpoint>();
        foreach (string entry in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var match = EndpointPattern().Match(entry);
            if (!match.Success || !int.TryParse(match.Groups[3].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int port))
                throw new BrokerConfigException($"{key}: Unable to parse {entry} to a broker endpoint (NAME://host:port)");
            if (port is < 0 or > 65535) throw new BrokerConfigException($"{key}: '{entry}' has no valid port");
            list.Add(new ListenerEndpoint(match.Groups[1].Value.ToUpperInvariant(), match.Groups[2].Value, port));
        }
        return list;
    }

    /// <summary>listener.security.protocol.map: NAME:PROTOCOL pairs, comma-separated.</summary>
    public static Dictionary<string, string> ParseProtocolMap(string key, string value)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string entry in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = entry.IndexOf(':');
            if (colon <= 0 || colon == entry.Length - 1)
                throw new BrokerConfigException($"{key}: Map entry '{entry}' is not of the form NAME:PROTOCOL");
            string protocol = entry[(colon + 1)..].Trim().ToUpperInvariant();
            if (!SecurityProtocols.Contains(protocol))
                throw new BrokerConfigException($"{key}: Invalid security protocol `{entry[(colon + 1)..].Trim()}` defined in {key}");
            map[entry[..colon].Trim().ToUpperInvariant()] = protocol;
        }
        return map;
    }

    /// <summary>A security protocol's name as security.inter.broker.protocol gives it.</summary>
    public static string ParseProtocol(string key, string value)
    {
        string protocol = value.Trim().ToUpperInvariant();
        return SecurityProtocols.Contains(protocol) ? protocol
            : throw new BrokerConfigException($"{key}: Invalid value {value} for configuration {key}: String must be one of: {string.Join(", ", SecurityProtocols)}");
    }

    /// <summary>
    /// Checks the listener settings as Kafka's KafkaConfig does, and first that every listener is PLAINTEXT. Throws
    /// <see cref="BrokerConfigException"/> naming the key at fault.
    /// </summary>
    public static void Validate(IReadOnlyList<ListenerEndpoint> listeners, IReadOnlyList<ListenerEndpoint> advertised,
        IReadOnlyDictionary<string, string> protocolMap, string interBrokerListener, string? controlPlaneListener)
    {
        foreach (var (key, list) in new[] { ("listeners", listeners), ("advertised.listeners", advertised) })
        {
            foreach (var endpoint in list)
                if (!protocolMap.ContainsKey(endpoint.Name))
                    throw new BrokerConfigException($"{key}: No security protocol defined for listener {endpoint.Name} (listener.security.protocol.map)");
            var duplicate = list.GroupBy(e => e.Name).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new BrokerConfigException($"{key}: Each listener must have a different name, listeners: {string.Join(",", list)} ({duplicate.Key} is given twice)");
        }
        if (listeners.Count == 0) throw new BrokerConfigException("listeners: no listener given");
        foreach (var endpoint in listeners)
            if (protocolMap[endpoint.Name] is var protocol && protocol != Plaintext)
                throw new BrokerConfigException($"listeners: listener {endpoint.Name} uses security protocol {protocol} (listener.security.protocol.map); " +
                    "Quill serves PLAINTEXT only");
        var port = listeners.Where(e => e.Port != 0).GroupBy(e => e.Port).FirstOrDefault(g => g.Count() > 1);
        if (port is not null)
            throw new BrokerConfigException($"listeners: Each listener must have a different port, listeners: {string.Join(",", listeners)}, port: {port.Key}");

        var names = listeners.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var unknown = advertised.Where(e => !names.Contains(e.Name)).Select(e => e.Name).ToList();
        if (unknown.Count > 0)
            throw new BrokerConfigException("advertised.listeners: advertised.listeners listener names must be equal to or a subset of the ones defined in listeners. " +
                $"Found {string.Join(",", advertised.Select(e => e.Name))}. The valid options based on currently configured listeners are {string.Join(",", names)}");
        if (advertised.FirstOrDefault(e => e.Host == "0.0.0.0") is not null)
            throw new BrokerConfigException("advertised.listeners: advertised.listeners cannot use the nonroutable meta-address 0.0.0.0. Use a routable IP address.");

        var advertisedNames = advertised.Select(e => e.Name).ToList();
        if (!advertisedNames.Contains(interBrokerListener))
            throw new BrokerConfigException("inter.broker.listener.name: inter.broker.listener.name must be a listener name defined in advertised.listeners. " +
                $"The valid options based on currently configured listeners are {string.Join(",", advertisedNames)}");
        if (controlPlaneListener is not null)
        {
            if (!advertisedNames.Contains(controlPlaneListener))
                throw new BrokerConfigException("control.plane.listener.name: control.plane.listener.name must be a listener name defined in advertised.listeners. " +
                    $"The valid options based on currently configured listeners are {string.Join(",", advertisedNames)}");
            if (controlPlaneListener == interBrokerListener)
                throw new BrokerConfigException("control.plane.listener.name: control.plane.listener.name, when defined, should have a different value from the inter broker listener name. " +
                    $"Currently they both have the value {controlPlaneListener}");
        }

    }
}

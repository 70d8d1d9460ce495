using System.CommandLine;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Quill.Commands.Kafka;

/// <summary>`quill configs`: kafka-configs.sh for topics and brokers: --describe [--all], --alter --add-config / --delete-config.</summary>
public static class ConfigsCommand
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static Command Create()
    {
        var cluster = new KafkaToolOptions();
        var entityType = new Option<string>("--entity-type") { Description = "topics or brokers.", Required = true };
        entityType.AcceptOnlyFromAmong("topics", "brokers");
        var entityName = new Option<string?>("--entity-name") { Description = "The topic name or broker id." };
        var entityDefault = new Option<bool>("--entity-default") { Description = "With --entity-type brokers: the cluster-wide broker defaults." };
        var describe = new Option<bool>("--describe") { Description = "Show the configs set on the entity (all of them with --all)." };
        var all = new Option<bool>("--all") { Description = "With --describe: every config, defaults included." };
        var alter = new Option<bool>("--alter") { Description = "Change configs (--add-config, --delete-config)." };
        var addConfig = new Option<string[]>("--add-config") { Description = "k1=v1,k2=[v1,v2]: configs to set.", AllowMultipleArgumentsPerToken = false };
        var deleteConfig = new Option<string[]>("--delete-config") { Description = "k1,k2: configs to remove (back to the default).", AllowMultipleArgumentsPerToken = false };
        var command = new Command("configs", "Describe and change topic and broker configs (as kafka-configs.sh).")
        {
            entityType, entityName, entityDefault, describe, all, alter, addConfig, deleteConfig,
        };
        cluster.AddTo(command);
        command.SetAction((parse, ct) => KafkaTool.RunAsync("configs", async () =>
        {
            if (parse.GetValue(describe) == parse.GetValue(alter)) throw new ToolException("give --describe or --alter");
            bool isTopic = parse.GetValue(entityType) == "topics";
            string? name = parse.GetValue(entityName);
            if (parse.GetValue(entityDefault))
            {
                if (isTopic) throw new ToolException("--entity-default applies to brokers only");
                name = "";
            }
            if (name is null) throw new ToolException("--entity-name is required");
            var resource = new ConfigResource { Type = isTopic ? ResourceType.Topic : ResourceType.Broker, Name = name };
            string label = isTopic ? $"topic {name}" : name.Length == 0 ? "the default broker" : $"broker {name}";
            var clientConfig = await cluster.ClientConfigAsync(parse, ct);
            if (name.Length == 0) return await BrokerDefaultsAsync(parse, clientConfig.BootstrapServers, label, ct);
            using var admin = new AdminClientBuilder(clientConfig).Build();

            if (parse.GetValue(describe))
            {
                var result = (await admin.DescribeConfigsAsync([resource], new DescribeConfigsOptions { RequestTimeout = Timeout }))[0];
                bool showAll = parse.GetValue(all);
                Console.WriteLine($"{(showAll ? "All" : "Dynamic")} configs for {label} are:");
                foreach (var e in result.Entries.Values.Where(e => showAll || IsDynamic(e.Source)).OrderBy(e => e.Name, StringComparer.Ordinal))
                {
                    string synonyms = string.Join(", ", (e.Synonyms ?? []).Select(s => $"{SourceName(s.Source)}:{s.Name}={Show(s.Value, e.IsSensitive)}"));
                    Console.WriteLine($"  {e.Name}={Show(e.Value, e.IsSensitive)} sensitive={(e.IsSensitive ? "true" : "false")} synonyms={{{synonyms}}}");
                }
                return ExitCodes.Ok;
            }

            var changes = Changes(parse).Select(c => c.Value is null
                    ? new ConfigEntry { Name = c.Name, IncrementalOperation = AlterConfigOpType.Delete }
                    : new ConfigEntry { Name = c.Name, Value = c.Value, IncrementalOperation = AlterConfigOpType.Set })
                .ToList();
            await admin.IncrementalAlterConfigsAsync(new Dictionary<ConfigResource, List<ConfigEntry>> { [resource] = changes },
                new IncrementalAlterConfigsOptions { RequestTimeout = Timeout });
            Console.WriteLine($"Completed updating config for {label}.");
            return ExitCodes.Ok;
        }));
        return command;

        // --add-config k=v (value) and --delete-config k (null), in that order.
        List<(string Name, string? Value)> Changes(ParseResult parse)
        {
            var changes = KeyValues.ParseConfigList(parse.GetValue(addConfig)).Select(kv => (kv.Key, (string?)kv.Value))
                .Concat((parse.GetValue(deleteConfig) ?? []).SelectMany(d => d.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    .Select(k => (k, (string?)null)))
                .ToList();
            if (changes.Count == 0) throw new ToolException("--alter needs --add-config or --delete-config");
            return changes;
        }

        // The cluster-wide broker defaults cannot be named through the .NET client (it refuses the empty name).
        async Task<int> BrokerDefaultsAsync(ParseResult parse, string bootstrap, string label, CancellationToken ct)
        {
            if (parse.GetValue(describe))
            {
                Console.WriteLine($"Dynamic configs for {label} are:");
                foreach (var (key, value) in (await BrokerDefaultConfigs.DescribeAsync(bootstrap, ct)).OrderBy(c => c.Name, StringComparer.Ordinal))
                    Console.WriteLine($"  {key}={value ?? "null"} sensitive=false synonyms={{DYNAMIC_DEFAULT_BROKER_CONFIG:{key}={value ?? "null"}}}");
                return ExitCodes.Ok;
            }
            await BrokerDefaultConfigs.AlterAsync(bootstrap, Changes(parse), ct);
            Console.WriteLine($"Completed updating default config for brokers in the cluster.");
            return ExitCodes.Ok;
        }
    }

    private static bool IsDynamic(ConfigSource source) =>
        source is ConfigSource.DynamicTopicConfig or ConfigSource.DynamicBrokerConfig or ConfigSource.DynamicDefaultBrokerConfig;

    private static string Show(string? value, bool sensitive) => sensitive ? "null" : value ?? "null";

    /// <summary>Kafka's names for config sources, as kafka-configs.sh prints them in synonyms.</summary>
    private static string SourceName(ConfigSource source) => source switch
    {
        ConfigSource.DynamicTopicConfig => "DYNAMIC_TOPIC_CONFIG",
        ConfigSource.DynamicBrokerConfig => "DYNAMIC_BROKER_CONFIG",
        ConfigSource.DynamicDefaultBrokerConfig => "DYNAMIC_DEFAULT_BROKER_CONFIG",
        ConfigSource.StaticBrokerConfig => "STATIC_BROKER_CONFIG",
        ConfigSource.DefaultConfig => "DEFAULT_CONFIG",
        _ => "UNKNOWN",
    };
}

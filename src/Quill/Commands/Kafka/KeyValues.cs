namespace Quill.Commands.Kafka;

/// <summary>The k=v forms Kafka's tools accept: repeated --property k=v, properties files, and --add-config lists.</summary>
public static class KeyValues
{
    /// <summary>"k=v" pairs, each split at its first '='.</summary>
    public static List<KeyValuePair<string, string>> Parse(IEnumerable<string>? pairs, string optionName)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var pair in pairs ?? [])
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0) throw new ToolException($"{optionName} expects key=value, got '{pair}'");
            result.Add(new(pair[..eq].Trim(), pair[(eq + 1)..]));
        }
        return result;
    }

    /// <summary>Java properties files as Kafka's tools read them: key=value (or key:value) lines, # and ! comments.</summary>
    public static List<KeyValuePair<string, string>> ParsePropertiesFile(IEnumerable<string> lines)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var raw in lines)
        {
            string line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or '!') continue;
            int sep = line.IndexOfAny(['=', ':']);
            if (sep <= 0) throw new ToolException($"properties file: cannot read line '{raw}'");
            result.Add(new(line[..sep].Trim(), line[(sep + 1)..].Trim()));
        }
        return result;
    }

    /// <summary>
    /// kafka-configs' --add-config value: "k1=v1,k2=[a,b],k3=v3" (brackets group a list value that holds commas).
    /// Repeated options are joined.
    /// </summary>
    public static List<KeyValuePair<string, string>> ParseConfigList(IEnumerable<string>? values)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var value in values ?? [])
        {
            int depth = 0, start = 0;
            for (int i = 0; i <= value.Length; i++)
            {
                if (i < value.Length)
                {
                    if (value[i] == '[') depth++;
                    else if (value[i] == ']') depth--;
                    if (value[i] != ',' || depth > 0) continue;
                }
                string item = value[start..i];
                start = i + 1;
                if (item.Length == 0) continue;
                var pair = Parse([item], "--add-config")[0];
                string v = pair.Value.StartsWith('[') && pair.Value.EndsWith(']') ? pair.Value[1..^1] : pair.Value;
                result.Add(new(pair.Key, v));
            }
        }
        return result;
    }
}

using System.Text;

namespace Quill.Broker.Partitions;

/// <summary>
/// Kafka's <c>partition.metadata</c> file in each partition directory: the topic id the log belongs to, so a log left
/// over from an older topic of the same name is recognised and not served as the new topic's data.
/// </summary>
public static class PartitionMetadataFile
{
    public const string FileName = "partition.metadata";

    public static void Write(string partitionDir, Guid topicId)
    {
        string path = Path.Combine(partitionDir, FileName);
        string tmp = path + ".tmp";
        File.WriteAllText(tmp, $"version: 0\ntopic_id: {Metadata.ZkData.TopicIdText(topicId)}\n", Encoding.UTF8);
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>The topic id recorded in the directory, or null if there is no (readable) file.</summary>
    public static Guid? Read(string partitionDir)
    {
        string path = Path.Combine(partitionDir, FileName);
        if (!File.Exists(path)) return null;
        foreach (string line in File.ReadAllLines(path))
        {
            if (!line.StartsWith("topic_id:", StringComparison.Ordinal)) continue;
            try
            {
                return Metadata.ZkData.ParseTopicId(line["topic_id:".Length..].Trim());
            }
            catch (Exception e) when (e is FormatException or InvalidDataException)
            {
                return null;
            }
        }
        return null;
    }
}

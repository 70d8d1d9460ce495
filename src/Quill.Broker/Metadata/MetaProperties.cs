using System.Globalization;
using Quill.Broker.Config;

namespace Quill.Broker.Metadata;

/// <summary>
/// Kafka's <c>meta.properties</c> in every log dir: which broker and which cluster the data belongs to. A log dir
/// of another cluster or another broker id is refused at start, as Kafka does, rather than served by mistake.
/// </summary>
public static class MetaProperties
{
    public const string FileName = "meta.properties";

    /// <summary>Checks each log dir against the broker id and cluster id, writing the file where there is none.</summary>
    public static void CheckOrWrite(IEnumerable<string> logDirs, int brokerId, string clusterId, TimeProvider time)
    {
        foreach (string dir in logDirs)
        {
            Directory.CreateDirectory(dir);
            string path = Path.Combine(dir, FileName);
            if (File.Exists(path))
            {
                var props = PropertiesFile.Parse(File.ReadAllText(path));
                if (props.TryGetValue("cluster.id", out var cluster) && cluster != clusterId)
                    throw new InvalidOperationException(
                        $"The cluster id {clusterId} in Keeper does not match the stored cluster id {cluster} in {path}: " +
                        "the broker is trying to join the wrong cluster (or Keeper's data was lost).");
                if (props.TryGetValue("broker.id", out var id) && id != brokerId.ToString(CultureInfo.InvariantCulture))
                    throw new InvalidOperationException(
                        $"Configured broker.id {brokerId} doesn't match stored broker.id {id} in {path}.");
                continue;
            }
            string tmp = path + ".tmp";
            File.WriteAllText(tmp, $"#\n#{time.GetUtcNow():R}\nversion=0\nbroker.id={brokerId}\ncluster.id={clusterId}\n");
            File.Move(tmp, path, overwrite: true);
        }
    }
}

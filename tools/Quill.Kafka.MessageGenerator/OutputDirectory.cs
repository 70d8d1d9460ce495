using System.Text;

namespace Quill.Kafka.MessageGenerator;

internal static class OutputDirectory
{
    /// <summary>
    /// Makes the directory hold exactly these *.g.cs files. Unchanged files are not rewritten, so their timestamps
    /// stay and nothing downstream rebuilds for them; files of descriptions that are gone are removed.
    /// </summary>
    public static (int Written, int Deleted) Sync(string directory, IReadOnlyDictionary<string, string> files)
    {
        Directory.CreateDirectory(directory);
        int written = 0, deleted = 0;
        foreach (var (name, text) in files)
        {
            string path = Path.Combine(directory, name);
            if (File.Exists(path) && File.ReadAllText(path) == text) continue;
            // Write beside and move, so a build killed mid-write never leaves half a file that looks current.
            string temporary = path + ".tmp";
            File.WriteAllText(temporary, text, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            File.Move(temporary, path, overwrite: true);
            written++;
        }
        foreach (string path in Directory.GetFiles(directory, "*.g.cs"))
        {
            if (files.ContainsKey(Path.GetFileName(path))) continue;
            File.Delete(path);
            deleted++;
        }
        return (written, deleted);
    }
}

using Quill.Kafka.MessageGenerator;

// Writes one C# file per message description (see README.md), plus the catalog, into the directory given.
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Quill.Kafka.MessageGenerator <output directory>");
    return 2;
}

var messages = MessageCatalog.All();
var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
foreach (var message in messages)
    files[message.ClassName + ".g.cs"] = new MessageEmitter(message).Emit();
files["KafkaMessages.g.cs"] = CatalogEmitter.Emit(messages);

var (written, deleted) = OutputDirectory.Sync(args[0], files);
Console.WriteLine($"Quill.Kafka.MessageGenerator: {files.Count} files in {args[0]} ({written} written, {deleted} removed)");
return 0;

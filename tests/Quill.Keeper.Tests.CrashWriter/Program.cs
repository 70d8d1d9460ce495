// Child process for the txn log kill -9 test (Quill.Keeper.Tests/Storage/TxnLogCrashTests.cs).
// Usage: Quill.Keeper.Tests.CrashWriter <dataLogDir>
// Recovers the log, then appends and commits batches of txns, printing a batch's last zxid only after its
// Commit returned: each printed zxid is a promise that it survives a kill -9. Rolls to a new file every 40
// batches so the kill can land in any file. The test kills it; it gives up by itself after two minutes in
// case nobody does.
using Microsoft.Extensions.Logging.Abstractions;
using Quill.Keeper.Storage;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Quill.Keeper.Tests.CrashWriter <dataLogDir>");
    return 2;
}

using var log = new TxnLog(args[0], new TxnLogOptions { ForceSync = true, PreallocSize = 64 * 1024 }, NullLogger.Instance);
log.Recover(0, _ => { });
long zxid = log.LastZxid;
var stdout = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = true };
var random = new Random();
var deadline = DateTime.UtcNow.AddMinutes(2);
for (long batch = 1; DateTime.UtcNow < deadline; batch++)
{
    int count = random.Next(1, 8);
    for (int i = 0; i < count; i++)
    {
        zxid++;
        log.Append(new TxnEntry(zxid, SessionId: 0x5eed, Cxid: (int)zxid, Time: zxid * 1000, Type: 1, Body: BodyOf(zxid)));
    }
    log.Commit();
    stdout.WriteLine(zxid);
    if (batch % 40 == 0) log.RollLog();
}
return 3;

// Same formula as TxnLogCrashTests.BodyOf: the test checks every recovered body against it.
static byte[] BodyOf(long zxid)
{
    var body = new byte[(int)(zxid * 37 % 700)];
    for (int i = 0; i < body.Length; i++) body[i] = (byte)(zxid + i);
    return body;
}

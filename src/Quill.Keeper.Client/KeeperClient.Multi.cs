using Quill.Keeper.Client.Connection;
using Quill.Keeper.Protocol;

namespace Quill.Keeper.Client;

// multi (an atomic transaction of writes and checks) and multiRead (a batch of reads in one round trip).
public sealed partial class KeeperClient
{
    private static readonly ReplyDecoder<List<OpResult>> ReadMultiResponse = static (ref JuteReader r) => ReadResults(ref r);

    /// <summary>
    /// Applies create/delete/setData/check ops atomically: all or none. Returns one result per op; when any op fails
    /// throws <see cref="KeeperMultiException"/>, whose code is the failing op's error and whose Results hold every op's.
    /// </summary>
    public async Task<IReadOnlyList<OpResult>> MultiAsync(IEnumerable<Op> ops, CancellationToken cancellationToken = default)
    {
        var list = ops.ToList();
        foreach (var op in list)
        {
            if (op is GetDataOp or GetChildrenOp) throw new ArgumentException("read ops belong in MultiReadAsync", nameof(ops));
            if (op is CreateOp create) ValidateTtl(create.Mode, create.Ttl);
        }
        var results = await SendAsync(OpCode.Multi, new MultiRequest(list, this), ReadMultiResponse, null, cancellationToken);
        for (int i = 0; i < results.Count; i++)
        {
            if (results[i] is CreateResult created) results[i] = created with { Path = _chroot.ToClient(created.Path) };
        }
        for (int i = 0; i < results.Count; i++)
        {
            if (results[i] is ErrorResult { Error: not ErrorCode.Ok } failed)
                throw new KeeperMultiException(failed.Error, i < list.Count ? list[i].Path : null, results, i);
        }
        return results;
    }

    /// <summary>
    /// Runs getData/getChildren ops in one round trip. Each op succeeds or fails on its own: a missing node gives an
    /// <see cref="ErrorResult"/> in its place, not an exception.
    /// </summary>
    public async Task<IReadOnlyList<OpResult>> MultiReadAsync(IEnumerable<Op> ops, CancellationToken cancellationToken = default)
    {
        var list = ops.ToList();
        if (list.Any(op => op is not (GetDataOp or GetChildrenOp)))
            throw new ArgumentException("MultiReadAsync takes only GetData and GetChildren ops", nameof(ops));
        return await SendAsync(OpCode.MultiRead, new MultiRequest(list, this), ReadMultiResponse, null, cancellationToken);
    }

    private static List<OpResult> ReadResults(ref JuteReader r)
    {
        var results = new List<OpResult>();
        while (true)
        {
            var header = MultiHeader.Read(ref r);
            if (header.Done) return results;
            results.Add(header.Type switch
            {
                OpCode.Create => new CreateResult(r.ReadString() ?? "", null),
                OpCode.Create2 or OpCode.CreateTtl or OpCode.CreateContainer => ReadCreate2(ref r),
                OpCode.Delete or OpCode.DeleteContainer => new DeleteResult(),
                OpCode.SetData => new SetDataResult(Stat.Read(ref r)),
                OpCode.Check => new CheckResult(),
                OpCode.GetData => ReadGetData(ref r),
                OpCode.GetChildren => new GetChildrenResult(r.ReadStringVector()),
                OpCode.Error => new ErrorResult((ErrorCode)r.ReadInt()),
                _ => throw new JuteException($"unexpected op type {header.Type} in a multi response"),
            });
        }

        static CreateResult ReadCreate2(ref JuteReader r)
        {
            var response = Create2Response.Read(ref r);
            return new CreateResult(response.Path, response.Stat);
        }

        static GetDataResult ReadGetData(ref JuteReader r)
        {
            var response = GetDataResponse.Read(ref r);
            return new GetDataResult(response.Data ?? [], response.Stat);
        }
    }

    /// <summary>
    /// The multi request body: each op behind a MultiHeader (type, done=false, err=-1), then the end marker.
    /// Paths are mapped into the chroot as the body is written; the create results are mapped back on the way out.
    /// </summary>
    private sealed class MultiRequest(IReadOnlyList<Op> ops, KeeperClient client) : IJuteRecord
    {
        private readonly IJuteRecord[] _bodies = ops.Select(op => op.ToRequest(client.ServerPath(op.Path, op.IsSequential))).ToArray();

        public void Write(JuteWriter writer)
        {
            for (int i = 0; i < ops.Count; i++)
            {
                new MultiHeader(ops[i].Code, false, (ErrorCode)(-1)).Write(writer);
                _bodies[i].Write(writer);
            }
            MultiHeader.End.Write(writer);
        }
    }
}

using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;
using Quill.Keeper.Sessions;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Pipeline;

/// <summary>
/// The last stage (ZooKeeper's FinalRequestProcessor): takes each committed request in zxid order, applies its txn
/// to the tree (which fires its watches, so events are queued before the answer), and builds the answer in the
/// shared writer; the processor then sends it in the session's order. Rejected writes and syncs get their answers
/// here too, in turn. Runs on the processor's owner thread, the only one that changes the tree and the sessions.
/// </summary>
public sealed class FinalStage(DataTree tree, SessionTracker sessions, PendingChanges pending, JuteWriter writer, ILogger log)
{
    private readonly JuteWriter _writer = writer;

    /// <summary>Txns applied since the counter was last reset (the processor snapshots every snapCount).</summary>
    public long TxnsApplied { get; set; }

    /// <summary>Called once a reconfig is applied: the ensemble activates the new membership (its text, its zxid).</summary>
    public Action<byte[], long>? ConfigCommitted { get; set; }

    /// <summary>Applies a committed request and leaves its answer in the writer.</summary>
    public void Apply(Request request)
    {
        try
        {
            if (request.Txn is not null) ApplyCommitted(request);
            else if (request.FailedMulti is { } failed) WriteMultiReply(request, failed, null);
            else if (request.Error != ErrorCode.Ok) Replies.Write(_writer, request.Xid, tree.LastZxid, request.Error, null);
            else Replies.Write(_writer, request.Xid, tree.LastZxid, ErrorCode.Ok, request.Type == OpCode.Sync ? SyncReply(request) : null);
        }
        catch (Exception e)
        {
            // A committed txn that cannot be applied is a bug; answer the client and keep serving everyone else.
            log.LogCritical(e, "Applying {Type} (zxid 0x{Zxid:x}) from session 0x{Session:x} failed", request.Type, request.Zxid, request.Session.Id);
            Replies.Write(_writer, request.Xid, tree.LastZxid, ErrorCode.SystemError, null);
        }
    }

    private void ApplyCommitted(Request request)
    {
        var txn = request.Txn!;
        long zxid = request.Zxid;
        TxnsApplied++;
        switch (txn)
        {
            case CreateSessionTxn:
                tree.Apply(zxid, request.Time, request.Session.Id, txn);
                request.Session.Creating = false;
                if (request.Connect is { } connect) Replies.Connect(_writer, connect, request.Session.TimeoutMs, request.Session.Id, request.Session.Password);
                else _writer.Clear();
                break;
            case CloseSessionTxn:
                tree.Apply(zxid, request.Time, request.Session.Id, txn);
                sessions.Remove(request.Session.Id);
                Replies.Write(_writer, request.Xid, zxid, ErrorCode.Ok, null);
                request.CloseAfter = true;
                // Expired, or closed while another connection was attached: that connection ends now that the ephemerals are gone.
                if (request.Session.Connection is { } other && other != request.Connection) other.Close();
                break;
            case MultiTxn multi:
                WriteMultiReply(request, multi, tree.ApplyMulti(zxid, request.Time, request.Session.Id, multi));
                break;
            default:
                var result = tree.Apply(zxid, request.Time, request.Session.Id, txn);
                if (result.Err != ErrorCode.Ok)
                    log.LogError("Txn 0x{Zxid:x} ({Type} {Path}) did not apply: {Err}", zxid, txn.Type, LogText.Escape(result.Path), result.Err);
                if (txn is ReconfigTxn reconfig)
                {
                    Replies.Write(_writer, request.Xid, zxid, ErrorCode.Ok, new GetDataResponse(reconfig.Config, result.Stat!.Value));
                    ConfigCommitted?.Invoke(reconfig.Config, zxid);
                }
                else if (result.Err == ErrorCode.Ok && request.Type is OpCode.SetData or OpCode.SetAcl)
                    Replies.Write(_writer, request.Xid, zxid, ErrorCode.Ok, result.Stat!.Value);
                else
                    Replies.Write(_writer, request.Xid, zxid, result.Err, result.Err != ErrorCode.Ok ? null : request.Type switch
                    {
                        OpCode.Create => new CreateResponse(result.Path!),
                        OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl => new Create2Response(result.Path!, result.Stat!.Value),
                        _ => null,
                    });
                break;
        }
        pending.Applied(zxid);
    }

    private void WriteMultiReply(Request request, MultiTxn multi, List<ApplyResult>? results)
    {
        _writer.Clear();
        _writer.BeginFrame();
        new ReplyHeader(request.Xid, results is null ? tree.LastZxid : request.Zxid, ErrorCode.Ok).Write(_writer);
        for (int i = 0; i < multi.Txns.Count; i++)
        {
            if (multi.Txns[i] is ErrorTxn e)
            {
                new MultiHeader(OpCode.Error, false, e.Err).Write(_writer);
                new ErrorResponse(e.Err).Write(_writer);
                continue;
            }
            var type = request.MultiOpTypes![i];
            var result = results![i];
            new MultiHeader(type, false, ErrorCode.Ok).Write(_writer);
            switch (type)
            {
                case OpCode.Create: new CreateResponse(result.Path!).Write(_writer); break;
                case OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl: new Create2Response(result.Path!, result.Stat!.Value).Write(_writer); break;
                case OpCode.SetData: new StatResponse(result.Stat!.Value).Write(_writer); break;
            }
        }
        MultiHeader.End.Write(_writer);
        _writer.EndFrame();
    }

    private PathResponse SyncReply(Request request)
    {
        var r = new JuteReader(request.Body);
        return new PathResponse(PathRequest.Read(ref r).Path);
    }
}

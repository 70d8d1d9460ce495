using Microsoft.Extensions.Logging;
using Quill.Keeper.Protocol;
using Quill.Keeper.Tree;
using Quill.Keeper.Txns;

namespace Quill.Keeper.Pipeline;

// Applying committed txns to the tree and building their answers.
public sealed partial class RequestProcessor
{
    private void ApplyCommitted(Request request)
    {
        var txn = request.Txn!;
        long zxid = request.Zxid;
        _txnsSinceSnapshot++;
        switch (txn)
        {
            case CreateSessionTxn:
                Tree.Apply(zxid, request.Time, request.Session.Id, txn);
                request.Session.Creating = false;
                WriteConnectReply(request.Connect!, request.Session.TimeoutMs, request.Session.Id, request.Session.Password);
                break;
            case CloseSessionTxn:
                Tree.Apply(zxid, request.Time, request.Session.Id, txn);
                Sessions.Remove(request.Session.Id);
                WriteReply(request.Xid, zxid, ErrorCode.Ok, null);
                request.CloseAfter = true;
                // Expired, or closed while another connection was attached: that connection ends now that the ephemerals are gone.
                if (request.Session.Connection is { } other && other != request.Connection) other.Close();
                break;
            case MultiTxn multi:
                WriteMultiReply(request, multi, Tree.ApplyMulti(zxid, request.Time, request.Session.Id, multi));
                break;
            default:
                var result = Tree.Apply(zxid, request.Time, request.Session.Id, txn);
                if (result.Err != ErrorCode.Ok)
                    _log.LogError("Txn 0x{Zxid:x} ({Type} {Path}) did not apply: {Err}", zxid, txn.Type, LogText.Escape(result.Path), result.Err);
                if (result.Err == ErrorCode.Ok && request.Type is OpCode.SetData or OpCode.SetAcl)
                    WriteReply(request.Xid, zxid, ErrorCode.Ok, result.Stat!.Value);
                else
                    WriteReply(request.Xid, zxid, result.Err, result.Err != ErrorCode.Ok ? null : request.Type switch
                    {
                        OpCode.Create => new CreateResponse(result.Path!),
                        OpCode.Create2 or OpCode.CreateContainer or OpCode.CreateTtl => new Create2Response(result.Path!, result.Stat!.Value),
                        _ => null,
                    });
                break;
        }
        _pending.Applied(zxid);
    }

    private void WriteMultiReply(Request request, MultiTxn multi, List<ApplyResult>? results)
    {
        _writer.Clear();
        _writer.BeginFrame();
        new ReplyHeader(request.Xid, results is null ? Tree.LastZxid : request.Zxid, ErrorCode.Ok).Write(_writer);
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

    private byte[] ConnectReply(ConnectRequest connect, int timeout, long sessionId, byte[] password)
    {
        WriteConnectReply(connect, timeout, sessionId, password);
        return _writer.ToArray();
    }

    private void WriteConnectReply(ConnectRequest connect, int timeout, long sessionId, byte[] password)
    {
        _writer.Clear();
        _writer.BeginFrame();
        new ConnectResponse(0, timeout, sessionId, password, false, connect.HasReadOnlyFlag).Write(_writer);
        _writer.EndFrame();
    }

    private PathResponse SyncReply(Request request)
    {
        var r = new JuteReader(request.Body);
        return new PathResponse(PathRequest.Read(ref r).Path);
    }
}

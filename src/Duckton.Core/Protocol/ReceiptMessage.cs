using Duckton.Core.Trust;

namespace Duckton.Core.Protocol;

/// <summary>
/// <c>Receipt</c> (31): one requester-signed receipt, gossiped. Wire form (docs/PROTOCOL.md "Receipts"): the fields of
/// <see cref="Receipt.SignedBytes"/> in the same order as length-prefixed strings / u8 / u64, then the requester's
/// 32-byte public key and 64-byte signature. A receiver verifies it (<see cref="Receipt.Problem"/>) and dedups it by
/// (worker, <see cref="Receipt.ReplayFingerprint"/>).
/// </summary>
public static class ReceiptMessage
{
    private const int MaxField = 256;

    public static byte[] Encode(Receipt r)
    {
        var w = new ProtoWriter(512);
        w.String(r.JobId).String(r.WorkerId).String(r.RequesterId).String(r.QueryHash).String(r.InputFingerprint).String(r.ResultHash)
            .U8((byte)r.Verdict).U64(r.LatencyMs).U64(r.Timestamp).U64(r.ObservedInputBytes).U64(r.ObservedResultRows).U64(r.ObservedResultBytes)
            .Fixed(r.RequesterPublicKey, ProtoLimits.PublicKeyBytes).Fixed(r.Signature, ProtoLimits.SignatureBytes);
        return w.ToArray();
    }

    public static Receipt Decode(ReadOnlySpan<byte> payload)
    {
        var p = new ProtoReader(payload);
        var receipt = new Receipt
        {
            JobId = p.String(MaxField, "receipt.job_id"),
            WorkerId = p.String(MaxField, "receipt.worker_id"),
            RequesterId = p.String(MaxField, "receipt.requester_id"),
            QueryHash = p.String(MaxField, "receipt.query_hash"),
            InputFingerprint = p.String(MaxField, "receipt.input_fingerprint"),
            ResultHash = p.String(MaxField, "receipt.result_hash"),
            Verdict = (Verdict)p.U8("receipt.verdict"),
            LatencyMs = p.U64("receipt.latency_ms"),
            Timestamp = p.U64("receipt.ts"),
            ObservedInputBytes = p.U64("receipt.observed_input_bytes"),
            ObservedResultRows = p.U64("receipt.observed_result_rows"),
            ObservedResultBytes = p.U64("receipt.observed_result_bytes"),
            RequesterPublicKey = p.Fixed(ProtoLimits.PublicKeyBytes, "receipt.requester_pubkey").ToArray(),
            Signature = p.Fixed(ProtoLimits.SignatureBytes, "receipt.signature").ToArray(),
        };
        p.End("receipt");
        return receipt;
    }
}

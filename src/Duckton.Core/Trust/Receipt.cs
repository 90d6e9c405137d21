using System.Buffers.Binary;
using System.Text;
using Duckton.Core.Crypto;
using Duckton.Core.Hashing;

namespace Duckton.Core.Trust;

/// <summary>A requester's verdict on one host's part in one job.</summary>
public enum Verdict : byte
{
    Correct = 1,
    Incorrect = 2,
    Timeout = 3,
    Malformed = 4,
    ResourceExceeded = 5,
    Infeasible = 6,
    Inconclusive = 7,
}

/// <summary>
/// A signed receipt: the requester's Ed25519 signature over <see cref="SignedBytes"/>. Its canonical bytes are
/// documented in docs/PROTOCOL.md ("Receipts").
/// </summary>
public sealed record Receipt
{
    public const string Domain = "duckdb-p2p-receipt-v1";

    public required string JobId { get; init; }
    public required string WorkerId { get; init; }
    public required string RequesterId { get; init; }
    public required string QueryHash { get; init; }
    public string InputFingerprint { get; init; } = "";
    public string ResultHash { get; init; } = "";
    public required Verdict Verdict { get; init; }
    public ulong LatencyMs { get; init; }
    /// <summary>Unix seconds when the requester issued it.</summary>
    public ulong Timestamp { get; init; }
    public ulong ObservedInputBytes { get; init; }
    public ulong ObservedResultRows { get; init; }
    public ulong ObservedResultBytes { get; init; }
    public byte[] RequesterPublicKey { get; init; } = [];
    public byte[] Signature { get; init; } = [];

    /// <summary>True for verdicts that change a host's reputation (provider faults and successes).</summary>
    public bool AffectsReputation => Verdict is Verdict.Correct or Verdict.Incorrect or Verdict.Timeout or Verdict.Malformed;

    /// <summary>
    /// ASCII domain ‖ lenpref(job_id) ‖ lenpref(worker_id) ‖ lenpref(requester_id) ‖ lenpref(query_hash) ‖
    /// lenpref(input_fingerprint) ‖ lenpref(result_hash) ‖ verdict byte ‖ latency_ms ‖ timestamp ‖
    /// observed_input_bytes ‖ observed_result_rows ‖ observed_result_bytes, where lenpref = u64 LE byte length +
    /// UTF-8 bytes and every integer is u64 LE.
    /// </summary>
    public byte[] SignedBytes()
    {
        var buffer = new List<byte>(256);
        buffer.AddRange(Encoding.ASCII.GetBytes(Domain));
        foreach (var field in new[] { JobId, WorkerId, RequesterId, QueryHash, InputFingerprint, ResultHash })
        {
            var bytes = Encoding.UTF8.GetBytes(field);
            AddU64(buffer, (ulong)bytes.Length);
            buffer.AddRange(bytes);
        }
        buffer.Add((byte)Verdict);
        foreach (var v in new[] { LatencyMs, Timestamp, ObservedInputBytes, ObservedResultRows, ObservedResultBytes })
        {
            AddU64(buffer, v);
        }
        return [.. buffer];
    }

    private static void AddU64(List<byte> buffer, ulong v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        buffer.AddRange(b.ToArray());
    }

    /// <summary>Signs as the requester; the receipt's requester id must be the key's node id.</summary>
    public Receipt SignWith(Ed25519Key requesterKey)
    {
        if (NodeIds.FromPublicKey(requesterKey.PublicKey) != RequesterId)
        {
            throw new ArgumentException("the receipt's requester_id is not the signing key's node id", nameof(requesterKey));
        }
        var unsigned = this with { RequesterPublicKey = requesterKey.PublicKey.ToArray(), Signature = [] };
        return unsigned with { Signature = requesterKey.Sign(unsigned.SignedBytes()) };
    }

    /// <summary>
    /// Signs as the requester with an external signer (e.g. the node identity, whose private key never leaves it);
    /// <paramref name="publicKey"/> must be the signer's key and hash to the receipt's requester id.
    /// </summary>
    public Receipt SignWith(ReadOnlySpan<byte> publicKey, Func<byte[], byte[]> sign)
    {
        ArgumentNullException.ThrowIfNull(sign);
        if (!NodeIds.IsKeyOf(publicKey, RequesterId))
        {
            throw new ArgumentException("the receipt's requester_id is not the signing key's node id", nameof(publicKey));
        }
        var unsigned = this with { RequesterPublicKey = publicKey.ToArray(), Signature = [] };
        return unsigned with { Signature = sign(unsigned.SignedBytes()) };
    }

    /// <summary>Why a receipt is not acceptable, or null when its signature and identity binding check out.</summary>
    public string? Problem()
    {
        if (!NodeIds.IsValid(RequesterId) || !NodeIds.IsValid(WorkerId))
        {
            return "malformed node id";
        }
        if (RequesterPublicKey.Length != Ed25519Key.PublicKeyLength || NodeIds.FromPublicKey(RequesterPublicKey) != RequesterId)
        {
            return "requester_id is not bound to the receipt's public key";
        }
        if (!Enum.IsDefined(Verdict))
        {
            return "unknown verdict";
        }
        return Ed25519Key.Verify(RequesterPublicKey, SignedBytes(), Signature) ? null : "bad signature";
    }

    /// <summary>
    /// Replay key: a (job, requester) pair counts once per worker. First 8 bytes (u64 LE) of
    /// BLAKE3("duckdb-p2p-receipt-fp-v1" ‖ job_id ‖ 0x00 ‖ requester_id).
    /// </summary>
    public ulong ReplayFingerprint()
    {
        var input = Encoding.UTF8.GetBytes($"duckdb-p2p-receipt-fp-v1{JobId}\0{RequesterId}");
        return BinaryPrimitives.ReadUInt64LittleEndian(Blake3.Hash(input));
    }
}

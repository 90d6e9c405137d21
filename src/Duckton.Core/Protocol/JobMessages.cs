using System.Buffers.Binary;
using Duckton.Core.Crypto;
using Duckton.Core.Hashing;

namespace Duckton.Core.Protocol;

/// <summary>Bounds of the job protocol's fields (docs/PROTOCOL.md, "Job protocol").</summary>
public static class ProtoLimits
{
    public const int JobIdBytes = 16;
    public const int HashBytes = 32;
    public const int PublicKeyBytes = 32;
    public const int SignatureBytes = 64;
    public const int MaxSqlBytes = 1 << 20;
    public const int MaxTextBytes = 4096;
    public const int MaxNodeIdBytes = 80;
    public const int MaxLabelBytes = 256;
    public const int MaxLabels = 64;
    public const int MaxFingerprintBytes = 64;
    public const int MaxSchemaBytes = 1 << 20;
    public const int MaxBatchesPerFrame = 4096;
    public const int MaxCertificateCommits = 64;

    /// <summary>The most Batch payload bytes a host sends unasked after a <c>CommitRows</c>, whatever a dispatch's <c>inline_limit</c> says.</summary>
    public const int MaxInlineRowBytes = 64 << 10;

    /// <summary>
    /// The longest a host holds the Bid for an Offer whose Dispatch came in the same write, to send it with that job's
    /// answer (docs/PROTOCOL.md, "Dispatch with the offer"); a requester waits this much longer for such a Bid.
    /// </summary>
    public static readonly TimeSpan PipelinedBidHold = TimeSpan.FromMilliseconds(50);
}

/// <summary>Identifiers and hashes shared by the job protocol.</summary>
public static class JobIds
{
    /// <summary>A fresh job id: 16 random bytes as 32 lowercase hex characters.</summary>
    public static string NewJobId() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(ProtoLimits.JobIdBytes));

    /// <summary><c>hex(BLAKE3("duckton-query-v1" ‖ engine version ‖ 0x00 ‖ sql))</c>: what a commit is about.</summary>
    public static string QueryHash(string engineVersion, string sql)
    {
        // One buffer and the one-shot hash: computed a few times per query, where a streaming hasher (2 KiB of subtree
        // stack) and two encoded copies each time were about 3 KiB of the ~105 KiB a small query allocated.
        var domain = "duckton-query-v1"u8;
        var utf8 = System.Text.Encoding.UTF8;
        var length = domain.Length + utf8.GetByteCount(engineVersion) + 1 + utf8.GetByteCount(sql);
        var rented = length > 1024 ? System.Buffers.ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            var buffer = rented is null ? stackalloc byte[1024] : rented.AsSpan();
            domain.CopyTo(buffer);
            var at = domain.Length + utf8.GetBytes(engineVersion, buffer[domain.Length..]);
            buffer[at++] = 0;
            at += utf8.GetBytes(sql, buffer[at..]);
            Span<byte> digest = stackalloc byte[Blake3.HashSize];
            Blake3.Hash(buffer[..at], digest);
            return Convert.ToHexStringLower(digest);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary><c>"b3:" + hex(BLAKE3(public key))</c>.</summary>
    public static string NodeIdOf(ReadOnlySpan<byte> publicKey) => "b3:" + Convert.ToHexStringLower(Blake3.Hash(publicKey));

    internal static void WriteHex(ProtoWriter w, string hex, int size) => w.Fixed(Decode(hex, size), size);

    /// <summary>Writes <paramref name="hex"/> (<paramref name="size"/> bytes) at the start of <paramref name="into"/>.</summary>
    internal static void WriteHex(Span<byte> into, string hex, int size) => Decode(hex, size).CopyTo(into);

    private static byte[] Decode(string hex, int size) => hex.Length == size * 2
        ? Convert.FromHexString(hex)
        : throw new ArgumentException($"expected {size * 2} hex characters, got '{hex}'");

    internal static string ReadHex(ref ProtoReader r, int size, string what) => Convert.ToHexStringLower(r.Fixed(size, what));
}

/// <summary>Data classes in the protocol (u8).</summary>
public enum WireDataClass : byte
{
    Public = 0,
    Internal = 1,
    Sensitive = 2,
}

/// <summary><c>Offer</c> (10): requester → host. "Would you run this job?"</summary>
public sealed record OfferMessage(string JobId, string QueryHash, WireDataClass DataClass, ulong Nonce, ulong MemoryBytes, uint Threads,
    string Network, IReadOnlyList<string> Groups, IReadOnlyList<string> Regions)
{
    /// <summary>A paid job (optional trailing field; absent = free): the host must not run it below its price.</summary>
    public bool Paid { get; init; }

    /// <summary>The most the requester pays for this job, in nanoton (paid jobs only; <see cref="ulong.MaxValue"/> = no cap).</summary>
    public ulong MaxBidNanoton { get; init; }

    public byte[] Encode()
    {
        var w = new ProtoWriter(128);
        JobIds.WriteHex(w, JobId, ProtoLimits.JobIdBytes);
        JobIds.WriteHex(w, QueryHash, ProtoLimits.HashBytes);
        w.U8((byte)DataClass).U64(Nonce).U64(MemoryBytes).U32(Threads).String(Network).Strings(Groups).Strings(Regions);
        if (Paid)
        {
            w.U8(1).U64(MaxBidNanoton);
        }
        return w.ToArray();
    }

    public static OfferMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new OfferMessage(
            JobIds.ReadHex(ref r, ProtoLimits.JobIdBytes, "offer.job_id"),
            JobIds.ReadHex(ref r, ProtoLimits.HashBytes, "offer.query_hash"),
            r.U8("offer.data_class") switch { <= 2 and var b => (WireDataClass)b, var b => throw new ProtocolException($"offer.data_class {b} is unknown") },
            r.U64("offer.nonce"),
            r.U64("offer.memory_bytes"),
            r.U32("offer.threads"),
            r.String(ProtoLimits.MaxLabelBytes, "offer.network"),
            r.Strings(ProtoLimits.MaxLabels, ProtoLimits.MaxLabelBytes, "offer.groups"),
            r.Strings(ProtoLimits.MaxLabels, ProtoLimits.MaxLabelBytes, "offer.regions"));
        if (r.Remaining > 0)
        {
            // Only "paid" is ever written: a free offer carries no payment field.
            if (r.U8("offer.payment") != 1)
            {
                throw new ProtocolException("offer.payment must be 1 (paid) when present");
            }
            m = m with { Paid = true, MaxBidNanoton = r.U64("offer.max_bid") };
        }
        r.End("offer");
        return m;
    }
}

/// <summary><c>Bid</c> (11): host → requester. "Yes; this is my free capacity." Authorises one Dispatch of this job from this peer.</summary>
public sealed record BidMessage(string JobId, ulong FreeMemoryBytes, uint FreeThreads, uint FreeSlots, byte Attestation, uint EtaMs)
{
    /// <summary>Attestation evidence bound to the offer's nonce (optional trailing field; empty for L0).</summary>
    public byte[] Evidence { get; init; } = [];

    /// <summary>The host's price (optional trailing field after the evidence; null = it charges nothing).</summary>
    public PriceQuote? Quote { get; init; }

    public byte[] Encode()
    {
        var w = new ProtoWriter(64 + Evidence.Length);
        JobIds.WriteHex(w, JobId, ProtoLimits.JobIdBytes);
        w.U64(FreeMemoryBytes).U32(FreeThreads).U32(FreeSlots).U8(Attestation).U32(EtaMs);
        if (Evidence.Length > 0 || Quote is not null)
        {
            w.Bytes(Evidence);
        }
        if (Quote is { } q)
        {
            w.U8((byte)q.Model).U64(q.UnitNanoton);
        }
        return w.ToArray();
    }

    public static BidMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new BidMessage(JobIds.ReadHex(ref r, ProtoLimits.JobIdBytes, "bid.job_id"), r.U64("bid.free_memory"), r.U32("bid.free_threads"), r.U32("bid.free_slots"), r.U8("bid.attestation"), r.U32("bid.eta_ms"));
        if (r.Remaining > 0)
        {
            m = m with { Evidence = r.Bytes(4096, "bid.evidence").ToArray() };
        }
        if (r.Remaining > 0)
        {
            var model = r.U8("bid.price_model") switch { <= 1 and var b => (WirePriceModel)b, var b => throw new ProtocolException($"bid.price_model {b} is unknown") };
            m = m with { Quote = new PriceQuote(model, r.U64("bid.unit_price")) };
        }
        r.End("bid");
        return m;
    }
}

/// <summary><c>Decline</c> (12), <c>Cancel</c> (18): a job id and a human-readable reason.</summary>
internal sealed record ReasonMessage(string JobId, string Reason)
{
    public byte[] Encode()
    {
        var w = new ProtoWriter(64);
        JobIds.WriteHex(w, JobId, ProtoLimits.JobIdBytes);
        return w.String(Reason.Length > 1000 ? Reason[..1000] : Reason).ToArray();
    }

    public static ReasonMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new ReasonMessage(JobIds.ReadHex(ref r, ProtoLimits.JobIdBytes, "job_id"), r.String(ProtoLimits.MaxTextBytes, "reason"));
        r.End("reason message");
        return m;
    }
}

/// <summary>Codes of an <c>Error</c> frame.</summary>
public enum JobErrorCode : byte
{
    Busy = 1,
    NotAuthorized = 2,
    Execution = 3,
    Timeout = 4,
    Cancelled = 5,
    Paused = 6,
    Protocol = 7,
    Internal = 8,
    ResultTooLarge = 9,
}

/// <summary><c>Error</c> (19): the job failed on the host.</summary>
internal sealed record ErrorMessage(string JobId, JobErrorCode Code, string Message)
{
    public byte[] Encode()
    {
        var w = new ProtoWriter(64);
        JobIds.WriteHex(w, JobId, ProtoLimits.JobIdBytes);
        return w.U8((byte)Code).String(Message.Length > 2000 ? Message[..2000] : Message).ToArray();
    }

    public static ErrorMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new ErrorMessage(JobIds.ReadHex(ref r, ProtoLimits.JobIdBytes, "error.job_id"), (JobErrorCode)r.U8("error.code"), r.String(ProtoLimits.MaxTextBytes * 2, "error.message"));
        r.End("error");
        return m;
    }
}

/// <summary><c>Dispatch</c> (13): requester → host, only after that host's Bid for this job.</summary>
public sealed record DispatchMessage(string JobId, string QueryHash, string Sql, ulong MemoryLimitBytes, uint Threads, uint TimeoutMs, byte VerifyMode, byte[] InputPin)
{
    /// <summary>
    /// Paid jobs only (optional trailing field; absent = free): the price the requester agreed to, in nanoton — the
    /// host's own quote for this job's time bound. A host refuses a paid dispatch below its price.
    /// </summary>
    public ulong? AgreedPriceNanoton { get; init; }

    /// <summary>
    /// Free jobs only (optional trailing field, protocol 1.1; 0 = absent): the host may send the rows right after its commit,
    /// unasked, when their Batch payloads come to at most this many bytes (it answers with <c>CommitRows</c> instead of
    /// <c>Commit</c>, then the Batch frames and End, and holds nothing). Saves the Fetch round trip for small results.
    /// </summary>
    public uint InlineLimit { get; init; }

    public byte[] Encode()
    {
        if (AgreedPriceNanoton is not null && InlineLimit > 0)
        {
            throw new InvalidOperationException("a paid dispatch cannot ask for inline rows: no row leaves a host that bills before the fetch names its escrow");
        }
        var w = new ProtoWriter(64 + Sql.Length);
        JobIds.WriteHex(w, JobId, ProtoLimits.JobIdBytes);
        JobIds.WriteHex(w, QueryHash, ProtoLimits.HashBytes);
        w.String(Sql).U64(MemoryLimitBytes).U32(Threads).U32(TimeoutMs).U8(VerifyMode).Bytes(InputPin);
        if (AgreedPriceNanoton is { } price)
        {
            w.U64(price);
        }
        else if (InlineLimit > 0)
        {
            w.U32(InlineLimit);
        }
        return w.ToArray();
    }

    public static DispatchMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new DispatchMessage(
            JobIds.ReadHex(ref r, ProtoLimits.JobIdBytes, "dispatch.job_id"),
            JobIds.ReadHex(ref r, ProtoLimits.HashBytes, "dispatch.query_hash"),
            r.String(ProtoLimits.MaxSqlBytes, "dispatch.sql"),
            r.U64("dispatch.memory_limit"),
            r.U32("dispatch.threads"),
            r.U32("dispatch.timeout_ms"),
            r.U8("dispatch.verify_mode"),
            r.Bytes(ProtoLimits.MaxFingerprintBytes, "dispatch.input_pin").ToArray());
        // The two optional fields exclude each other and are told apart by their length.
        if (r.Remaining == 8)
        {
            m = m with { AgreedPriceNanoton = r.U64("dispatch.agreed_price") };
        }
        else if (r.Remaining == 4)
        {
            m = m with { InlineLimit = r.U32("dispatch.inline_limit") };
            if (m.InlineLimit == 0)
            {
                throw new ProtocolException("dispatch.inline_limit is written only when non-zero");
            }
        }
        r.End("dispatch");
        return m;
    }
}

/// <summary>
/// <c>Commit</c> (14): host → requester, before any row. Signed by the host's Ed25519 key over
/// <c>"duckton-commit-v1" ‖ body</c>, where body is the encoding of every field but the signature.
/// </summary>
public sealed record CommitMessage(string JobId, string QueryHash, string RequesterNodeId, byte[] HostPublicKey, byte[] InputFingerprint,
    string ResultHash, ulong RowCount, byte[] Schema, ulong ExecMicros)
{
    public static ReadOnlySpan<byte> Domain => "duckton-commit-v1"u8;

    public byte[] Signature { get; init; } = [];

    /// <summary>
    /// What the host claims this job costs, in nanoton (signed; written only when non-zero, so a free job's commit is
    /// unchanged). The requester holds it to the host's quote: a host that quotes one price and claims another is caught.
    /// </summary>
    public ulong ClaimedPriceNanoton { get; init; }

    /// <summary>The host's node id, derived from <see cref="HostPublicKey"/>.</summary>
    public string HostNodeId => JobIds.NodeIdOf(HostPublicKey);

    private void WriteBody(ProtoWriter w)
    {
        JobIds.WriteHex(w, JobId, ProtoLimits.JobIdBytes);
        JobIds.WriteHex(w, QueryHash, ProtoLimits.HashBytes);
        w.String(RequesterNodeId).Fixed(HostPublicKey, ProtoLimits.PublicKeyBytes).Bytes(InputFingerprint);
        JobIds.WriteHex(w, ResultHash, ProtoLimits.HashBytes);
        w.U64(RowCount).Bytes(Schema).U64(ExecMicros);
        if (ClaimedPriceNanoton > 0)
        {
            w.U64(ClaimedPriceNanoton);
        }
    }

    /// <summary>The exact bytes the signature covers.</summary>
    public byte[] SignedBytes()
    {
        var w = new ProtoWriter(256 + Schema.Length);
        w.Fixed(Domain, Domain.Length);
        WriteBody(w);
        return w.ToArray();
    }

    public CommitMessage SignWith(Func<byte[], byte[]> sign) => this with { Signature = sign(SignedBytes()) };

    /// <summary>True when the signature verifies under <see cref="HostPublicKey"/>.</summary>
    public bool VerifySignature() => Signature.Length == ProtoLimits.SignatureBytes && Ed25519Key.Verify(HostPublicKey, SignedBytes(), Signature);

    /// <summary>Commits agree when they state the same result: hash, row count and schema (and the same input).</summary>
    public bool AgreesWith(CommitMessage other) =>
        ResultHash == other.ResultHash && RowCount == other.RowCount && Schema.AsSpan().SequenceEqual(other.Schema) && InputFingerprint.AsSpan().SequenceEqual(other.InputFingerprint);

    public byte[] Encode()
    {
        var w = new ProtoWriter(256 + Schema.Length);
        WriteBody(w);
        return w.Fixed(Signature, ProtoLimits.SignatureBytes).ToArray();
    }

    public static CommitMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new CommitMessage(
            JobIds.ReadHex(ref r, ProtoLimits.JobIdBytes, "commit.job_id"),
            JobIds.ReadHex(ref r, ProtoLimits.HashBytes, "commit.query_hash"),
            r.String(ProtoLimits.MaxNodeIdBytes, "commit.requester"),
            r.Fixed(ProtoLimits.PublicKeyBytes, "commit.host_key").ToArray(),
            r.Bytes(ProtoLimits.MaxFingerprintBytes, "commit.input_fingerprint").ToArray(),
            JobIds.ReadHex(ref r, ProtoLimits.HashBytes, "commit.result_hash"),
            r.U64("commit.row_count"),
            r.Bytes(ProtoLimits.MaxSchemaBytes, "commit.schema").ToArray(),
            r.U64("commit.exec_micros"));
        if (r.Remaining == 8 + ProtoLimits.SignatureBytes)
        {
            var claimed = r.U64("commit.claimed_price");
            if (claimed == 0)
            {
                throw new ProtocolException("commit.claimed_price is written only when non-zero");
            }
            m = m with { ClaimedPriceNanoton = claimed };
        }
        m = m with { Signature = r.Fixed(ProtoLimits.SignatureBytes, "commit.signature").ToArray() };
        r.End("commit");
        return m;
    }
}

/// <summary><c>Fetch</c> (15): requester → host: "send me up to <see cref="Credit"/> more Batch frames".</summary>
internal sealed record FetchMessage(string JobId, uint Credit)
{
    /// <summary>
    /// The funded escrow of a paid job (optional trailing field, first Fetch only; absent = none named): a host that
    /// charges checks it on chain before it streams a row.
    /// </summary>
    public FetchEscrow? Escrow { get; init; }

    public byte[] Encode()
    {
        var w = new ProtoWriter(Escrow is null ? 24 : 400);
        JobIds.WriteHex(w, JobId, ProtoLimits.JobIdBytes);
        w.U32(Credit);
        Escrow?.Write(w);
        return w.ToArray();
    }

    public static FetchMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new FetchMessage(JobIds.ReadHex(ref r, ProtoLimits.JobIdBytes, "fetch.job_id"), r.U32("fetch.credit"));
        if (r.Remaining > 0)
        {
            m = m with { Escrow = FetchEscrow.Read(ref r) };
        }
        r.End("fetch");
        return m;
    }
}

/// <summary>A TON account in a protocol field: workchain (i8) and 32-byte account hash, as in the raw form <c>wc:hex</c>.</summary>
public sealed record WireAccount(sbyte Workchain, byte[] Hash)
{
    /// <summary>The raw form <c>wc:hex</c>.</summary>
    public override string ToString() => $"{Workchain}:{Convert.ToHexStringLower(Hash)}";

    internal void Write(ProtoWriter w) => w.U8(unchecked((byte)Workchain)).Fixed(Hash, ProtoLimits.HashBytes);

    internal static WireAccount Read(ref ProtoReader r, string what) => new(unchecked((sbyte)r.U8(what + ".workchain")), r.Fixed(ProtoLimits.HashBytes, what + ".hash").ToArray());
}

/// <summary>
/// Everything that determines a paid job's JobEscrow (and so its address), as the requester opened it: version 1 of
/// the Fetch escrow field (docs/PROTOCOL.md, "Fetch"). The host rebuilds the address from these terms and reads the
/// contract there; nothing here is taken on trust.
/// </summary>
public sealed record FetchEscrow(WireAccount Requester, WireAccount Arbiter, WireAccount Treasury, ulong AmountNanoton, uint Deadline, byte[] ExpectedHash,
    uint ParamsVersion, ushort PlatformFeeBps, ushort CommissionBps, IReadOnlyList<WireAccount> Candidates)
{
    /// <summary>The only version written; a host refuses others (it cannot check terms it does not know).</summary>
    public const byte Version = 1;

    /// <summary>The contract settles at most this many payees.</summary>
    public const int MaxCandidates = 32;

    internal void Write(ProtoWriter w)
    {
        if (Candidates.Count is 0 or > MaxCandidates)
        {
            throw new ArgumentException($"an escrow names 1 to {MaxCandidates} candidates, not {Candidates.Count}");
        }
        w.U8(Version);
        Requester.Write(w);
        Arbiter.Write(w);
        Treasury.Write(w);
        w.U64(AmountNanoton).U32(Deadline).Fixed(ExpectedHash, ProtoLimits.HashBytes).U32(ParamsVersion).U16(PlatformFeeBps).U16(CommissionBps).U8((byte)Candidates.Count);
        foreach (var c in Candidates)
        {
            c.Write(w);
        }
    }

    internal static FetchEscrow Read(ref ProtoReader r)
    {
        var version = r.U8("fetch.escrow.version");
        if (version != Version)
        {
            throw new ProtocolException($"fetch.escrow.version {version} is unknown (this node reads version {Version})");
        }
        var requester = WireAccount.Read(ref r, "fetch.escrow.requester");
        var arbiter = WireAccount.Read(ref r, "fetch.escrow.arbiter");
        var treasury = WireAccount.Read(ref r, "fetch.escrow.treasury");
        var amount = r.U64("fetch.escrow.amount");
        var deadline = r.U32("fetch.escrow.deadline");
        var expected = r.Fixed(ProtoLimits.HashBytes, "fetch.escrow.expected_hash").ToArray();
        var paramsVersion = r.U32("fetch.escrow.params_version");
        var fee = r.U16("fetch.escrow.platform_fee_bps");
        var commission = r.U16("fetch.escrow.commission_bps");
        int count = r.U8("fetch.escrow.candidates");
        if (count is 0 or > MaxCandidates)
        {
            throw new ProtocolException($"fetch.escrow.candidates must be 1 to {MaxCandidates}, not {count}");
        }
        var candidates = new WireAccount[count];
        for (var i = 0; i < count; i++)
        {
            candidates[i] = WireAccount.Read(ref r, "fetch.escrow.candidate");
        }
        return new FetchEscrow(requester, arbiter, treasury, amount, deadline, expected, paramsVersion, fee, commission, candidates);
    }
}

/// <summary><c>Batch</c> (16): host → requester: a sequence number and one or more <see cref="Data.BatchCodec"/> batches.</summary>
internal static class BatchFrame
{
    /// <summary>Bytes before the first batch: the job id, the sequence number and the batch count.</summary>
    public const int HeaderBytes = ProtoLimits.JobIdBytes + 6;

    /// <summary>The payload's size for batches of these encoded lengths (each also carries a 4-byte length).</summary>
    public static int Size(int batches, long batchBytes) => checked((int)(HeaderBytes + (4L * batches) + batchBytes));

    public static byte[] Encode(string jobId, uint seq, IReadOnlyList<ReadOnlyMemory<byte>> encodedBatches)
    {
        var payload = new byte[Size(encodedBatches.Count, encodedBatches.Sum(b => (long)b.Length))];
        var at = WriteHeader(payload, jobId, seq, encodedBatches.Count);
        foreach (var b in encodedBatches)
        {
            at = WriteBatch(payload, at, b.Span);
        }
        return payload;
    }

    /// <summary>Writes the header into <paramref name="payload"/>; returns where the first batch goes.</summary>
    public static int WriteHeader(Span<byte> payload, string jobId, uint seq, int batches)
    {
        JobIds.WriteHex(payload, jobId, ProtoLimits.JobIdBytes);
        BinaryPrimitives.WriteUInt32LittleEndian(payload[ProtoLimits.JobIdBytes..], seq);
        BinaryPrimitives.WriteUInt16LittleEndian(payload[(ProtoLimits.JobIdBytes + 4)..], checked((ushort)batches));
        return HeaderBytes;
    }

    /// <summary>Writes one batch's length at <paramref name="at"/>; returns where its <paramref name="length"/> bytes go.</summary>
    public static int WriteBatchLength(Span<byte> payload, int at, int length)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(payload[at..], (uint)length);
        return at + 4;
    }

    private static int WriteBatch(Span<byte> payload, int at, ReadOnlySpan<byte> batch)
    {
        at = WriteBatchLength(payload, at, batch.Length);
        batch.CopyTo(payload[at..]);
        return at + batch.Length;
    }

    /// <summary>Splits a Batch payload; the batches are slices of <paramref name="payload"/>.</summary>
    public static (string JobId, uint Seq, ReadOnlyMemory<byte>[] Batches) Decode(ReadOnlyMemory<byte> payload, int maxFrameBytes)
    {
        var span = payload.Span;
        if (span.Length < ProtoLimits.JobIdBytes + 6)
        {
            throw new ProtocolException("truncated batch frame");
        }
        var jobId = Convert.ToHexStringLower(span[..ProtoLimits.JobIdBytes]);
        var seq = BinaryPrimitives.ReadUInt32LittleEndian(span[16..]);
        var count = BinaryPrimitives.ReadUInt16LittleEndian(span[20..]);
        if (count == 0 || count > ProtoLimits.MaxBatchesPerFrame)
        {
            throw new ProtocolException($"batch frame holds {count} batches; allowed 1..{ProtoLimits.MaxBatchesPerFrame}");
        }
        var batches = new ReadOnlyMemory<byte>[count];
        var pos = 22;
        for (var i = 0; i < count; i++)
        {
            if (span.Length - pos < 4)
            {
                throw new ProtocolException("truncated batch frame");
            }
            var len = BinaryPrimitives.ReadUInt32LittleEndian(span[pos..]);
            pos += 4;
            if (len > (uint)(span.Length - pos) || len > (uint)maxFrameBytes)
            {
                throw new ProtocolException("batch length exceeds the frame");
            }
            batches[i] = payload.Slice(pos, (int)len);
            pos += (int)len;
        }
        if (pos != span.Length)
        {
            throw new ProtocolException("batch frame: unexpected trailing bytes");
        }
        return (jobId, seq, batches);
    }
}

/// <summary>How a result stream ended.</summary>
internal enum EndStatus : byte
{
    Complete = 0,
    Cancelled = 1,
}

/// <summary><c>End</c> (17): host → requester: the stream is over (complete: every frame and row sent; or cancelled).</summary>
internal sealed record EndMessage(string JobId, EndStatus Status, uint Frames, ulong Rows)
{
    public byte[] Encode()
    {
        var w = new ProtoWriter(40);
        JobIds.WriteHex(w, JobId, ProtoLimits.JobIdBytes);
        return w.U8((byte)Status).U32(Frames).U64(Rows).ToArray();
    }

    public static EndMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new EndMessage(JobIds.ReadHex(ref r, ProtoLimits.JobIdBytes, "end.job_id"), (EndStatus)r.U8("end.status"), r.U32("end.frames"), r.U64("end.rows"));
        r.End("end");
        return m;
    }
}

/// <summary><c>Ping</c> (40) / <c>Pong</c> (41): a nonce echoed back and the sender's clock (unix ms).</summary>
public sealed record PingMessage(ulong Nonce, ulong TimestampMs)
{
    public byte[] Encode() => new ProtoWriter(16).U64(Nonce).U64(TimestampMs).ToArray();

    public static PingMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new PingMessage(r.U64("ping.nonce"), r.U64("ping.timestamp"));
        r.End("ping");
        return m;
    }
}

/// <summary>Reads the job id every job frame starts with (for routing on a connection).</summary>
internal static class JobFrames
{
    public static string? JobIdOf(ReadOnlySpan<byte> payload) =>
        payload.Length >= ProtoLimits.JobIdBytes ? Convert.ToHexStringLower(payload[..ProtoLimits.JobIdBytes]) : null;
}

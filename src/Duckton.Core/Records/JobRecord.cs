using System.Buffers.Binary;
using System.Text;
using Duckton.Core.Hashing;

namespace Duckton.Core.Records;

/// <summary>
/// What a requester records about one verified grid job, sealed into an epoch whose Merkle root can be anchored on
/// chain. The canonical encoding (docs/PROTOCOL.md "Job records and epoch roots") is what the leaf hashes:
/// <c>"duckton-job-record-v1" ‖ str job_id ‖ str query_hash ‖ str result_hash ‖ 32 certificate_hash ‖ str requester
/// ‖ str winner ‖ u32le epoch</c>, where <c>str</c> = u32le byte length ‖ UTF-8.
/// </summary>
/// <param name="JobId">The job id (as in receipts and <c>p2p_query_meta</c>).</param>
/// <param name="QueryHash">The query hash text the hosts committed to.</param>
/// <param name="ResultHash">The agreed result hash text.</param>
/// <param name="CertificateHash">BLAKE3 of the certificate text (<c>dcc2:…</c>, UTF-8): 32 bytes.</param>
/// <param name="Requester">The requester's node id.</param>
/// <param name="Winner">The node id of the host whose rows were returned.</param>
/// <param name="Epoch">The epoch the record was sealed into (1, 2, …).</param>
public sealed record JobRecord(string JobId, string QueryHash, string ResultHash, byte[] CertificateHash, string Requester, string Winner, uint Epoch)
{
    public static ReadOnlySpan<byte> Domain => "duckton-job-record-v1"u8;

    /// <summary>Longest text field accepted (bytes of UTF-8): keeps a hostile proof file from allocating without bound.</summary>
    public const int MaxFieldBytes = 4096;

    /// <summary>BLAKE3 of a certificate's text, the value bound into the record.</summary>
    public static byte[] HashCertificate(string certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        return Blake3.Hash(Encoding.UTF8.GetBytes(certificate));
    }

    /// <summary>The canonical bytes the leaf is the BLAKE3 hash of.</summary>
    public byte[] Encode()
    {
        if (CertificateHash is not { Length: 32 })
        {
            throw new ArgumentException("a job record's certificate hash must be 32 bytes");
        }
        using var ms = new MemoryStream(256);
        ms.Write(Domain);
        Str(ms, JobId);
        Str(ms, QueryHash);
        Str(ms, ResultHash);
        ms.Write(CertificateHash);
        Str(ms, Requester);
        Str(ms, Winner);
        Span<byte> epoch = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(epoch, Epoch);
        ms.Write(epoch);
        return ms.ToArray();
    }

    /// <summary>The raw leaf: BLAKE3 of <see cref="Encode"/> (32 bytes).</summary>
    public byte[] Leaf() => Blake3.Hash(Encode());

    private static void Str(MemoryStream ms, string? s)
    {
        var bytes = Encoding.UTF8.GetBytes(s ?? throw new ArgumentException("a job record field is missing"));
        if (bytes.Length > MaxFieldBytes)
        {
            throw new ArgumentException($"a job record field is longer than {MaxFieldBytes} bytes");
        }
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)bytes.Length);
        ms.Write(len);
        ms.Write(bytes);
    }
}

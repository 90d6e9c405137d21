using System.Buffers.Binary;
using System.Text;
using Duckton.Core.Crypto;

namespace Duckton.Core.Trust;

/// <summary>
/// A signed vouch: the voucher node states how much (weight in [0, 1]) it vouches for another node. Its canonical
/// signed bytes are documented in docs/PROTOCOL.md ("Vouches"). The latest vouch (by timestamp) of a voucher for a
/// vouchee replaces earlier ones; weight 0 withdraws it.
/// </summary>
public sealed record Vouch
{
    public const string Domain = "duckdb-p2p-vouch-v1";

    /// <summary>Weights travel as parts per million so the signed bytes carry no floating point.</summary>
    public const ulong WeightScale = 1_000_000;

    public required string VoucherId { get; init; }
    public required string VoucheeId { get; init; }
    /// <summary>Weight in parts per million (0..1 000 000).</summary>
    public required ulong WeightPpm { get; init; }
    /// <summary>Unix milliseconds when the voucher signed it (orders vouches of one voucher for one vouchee).</summary>
    public required ulong TimestampMs { get; init; }
    public byte[] VoucherPublicKey { get; init; } = [];
    public byte[] Signature { get; init; } = [];

    public double Weight => (double)WeightPpm / WeightScale;

    /// <summary>Weight in [0, 1] rounded to parts per million; throws for anything else (NaN included).</summary>
    public static ulong ToPpm(double weight) => weight is >= 0 and <= 1
        ? (ulong)Math.Round(weight * WeightScale, MidpointRounding.AwayFromZero)
        : throw new ArgumentOutOfRangeException(nameof(weight), weight, "a vouch weight must be between 0 and 1");

    /// <summary>ASCII domain ‖ lenpref(voucher_id) ‖ lenpref(vouchee_id) ‖ weight_ppm ‖ ts_ms (u64 LE; lenpref = u64 LE length + UTF-8).</summary>
    public byte[] SignedBytes()
    {
        var voucher = Encoding.UTF8.GetBytes(VoucherId);
        var vouchee = Encoding.UTF8.GetBytes(VoucheeId);
        var buffer = new byte[Domain.Length + 8 + voucher.Length + 8 + vouchee.Length + 8 + 8];
        var span = buffer.AsSpan();
        var o = Encoding.ASCII.GetBytes(Domain, span);
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], (ulong)voucher.Length);
        o += 8;
        voucher.CopyTo(span[o..]);
        o += voucher.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], (ulong)vouchee.Length);
        o += 8;
        vouchee.CopyTo(span[o..]);
        o += vouchee.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], WeightPpm);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(o + 8)..], TimestampMs);
        return buffer;
    }

    /// <summary>Signs as the voucher with an external signer; <paramref name="publicKey"/> must hash to <see cref="VoucherId"/>.</summary>
    public Vouch SignWith(ReadOnlySpan<byte> publicKey, Func<byte[], byte[]> sign)
    {
        ArgumentNullException.ThrowIfNull(sign);
        if (!NodeIds.IsKeyOf(publicKey, VoucherId))
        {
            throw new ArgumentException("the vouch's voucher_id is not the signing key's node id", nameof(publicKey));
        }
        var unsigned = this with { VoucherPublicKey = publicKey.ToArray(), Signature = [] };
        return unsigned with { Signature = sign(unsigned.SignedBytes()) };
    }

    /// <summary>Why a vouch is not acceptable (malformed ids, self-vouch, weight out of range, unbound key, bad signature), or null.</summary>
    public string? Problem()
    {
        if (!NodeIds.IsValid(VoucherId) || !NodeIds.IsValid(VoucheeId))
        {
            return "malformed node id";
        }
        if (VoucherId == VoucheeId)
        {
            return "self-vouch";
        }
        if (WeightPpm > WeightScale)
        {
            return "weight out of range";
        }
        if (VoucherPublicKey.Length != Ed25519Key.PublicKeyLength || NodeIds.FromPublicKey(VoucherPublicKey) != VoucherId)
        {
            return "voucher_id is not bound to the vouch's public key";
        }
        return Ed25519Key.Verify(VoucherPublicKey, SignedBytes(), Signature) ? null : "bad signature";
    }
}

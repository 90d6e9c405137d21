using System.Buffers.Binary;
using Duckton.Core.Crypto;
using Duckton.Core.Hashing;

namespace Duckton.Core.Protocol;

/// <summary>
/// <c>Advert</c> (30): a host's signed capability advert, gossiped. Signed over <c>"duckton-advert-v1" ‖ body</c>
/// (every field but the signature). Carries a proof-of-work identity stamp (<see cref="ProofOfWork"/>).
/// </summary>
public sealed record AdvertMessage(byte[] PublicKey, string ListenAddress, ulong FreeMemoryBytes, uint FreeThreads, uint MaxJobs, byte Attestation, bool Enabled,
    IReadOnlyList<string> Networks, IReadOnlyList<string> Groups, string Region, ulong PowNonce, byte PowBits, ulong TimestampMs, ulong Seq)
{
    public static ReadOnlySpan<byte> Domain => "duckton-advert-v1"u8;

    public byte[] Signature { get; init; } = [];

    /// <summary>How many receipts about this host the host holds (see <see cref="ReceiptDigest"/>).</summary>
    public ulong ReceiptCount { get; init; }

    /// <summary>
    /// BLAKE3("duckton-receipts-digest-v1" ‖ the replay fingerprints (u64 LE, ascending) of every receipt about this
    /// host that it holds): lets a requester detect a host hiding receipts about itself. 32 zero bytes for none.
    /// </summary>
    public byte[] ReceiptDigest { get; init; } = new byte[32];

    /// <summary>
    /// Signed group/region membership tokens the host holds (at most <see cref="MembershipToken.MaxPerAdvert"/>), each
    /// proving one membership to requesters that trust its issuer. Written only when there is at least one, so an
    /// advert without tokens is byte-for-byte the older format (and older decoders refuse one with tokens as trailing bytes).
    /// </summary>
    public IReadOnlyList<MembershipToken> Tokens { get; init; } = [];

    public string NodeId => JobIds.NodeIdOf(PublicKey);

    private void WriteBody(ProtoWriter w)
    {
        w.Fixed(PublicKey, ProtoLimits.PublicKeyBytes).String(ListenAddress).U64(FreeMemoryBytes).U32(FreeThreads).U32(MaxJobs).U8(Attestation).U8(Enabled ? (byte)1 : (byte)0)
            .Strings(Networks).Strings(Groups).String(Region).U64(PowNonce).U8(PowBits).U64(TimestampMs).U64(Seq)
            .U64(ReceiptCount).Fixed(ReceiptDigest, 32);
        if (Tokens.Count > 0)
        {
            if (Tokens.Count > MembershipToken.MaxPerAdvert)
            {
                throw new ArgumentException($"an advert carries at most {MembershipToken.MaxPerAdvert} membership tokens");
            }
            w.U8((byte)Tokens.Count);
            foreach (var t in Tokens)
            {
                w.Bytes(t.Encode());
            }
        }
    }

    public byte[] SignedBytes()
    {
        var w = new ProtoWriter(256);
        w.Fixed(Domain, Domain.Length);
        WriteBody(w);
        return w.ToArray();
    }

    public AdvertMessage SignWith(Func<byte[], byte[]> sign) => this with { Signature = sign(SignedBytes()) };

    /// <summary>Null when the advert is authentic (signature, proof of work of at least <paramref name="minPowBits"/>), else why not.</summary>
    public string? Verify(int minPowBits)
    {
        if (Signature.Length != ProtoLimits.SignatureBytes || !Ed25519Key.Verify(PublicKey, SignedBytes(), Signature))
        {
            return "bad advert signature";
        }
        if (PowBits < minPowBits)
        {
            return $"proof of work of {PowBits} bits is below the required {minPowBits}";
        }
        if (!ProofOfWork.Check(PublicKey, PowNonce, PowBits))
        {
            return "proof-of-work stamp does not verify";
        }
        return null;
    }

    public byte[] Encode()
    {
        var w = new ProtoWriter(256);
        WriteBody(w);
        return w.Fixed(Signature, ProtoLimits.SignatureBytes).ToArray();
    }

    public static AdvertMessage Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ProtoReader(payload);
        var m = new AdvertMessage(
            r.Fixed(ProtoLimits.PublicKeyBytes, "advert.public_key").ToArray(),
            r.String(ProtoLimits.MaxLabelBytes, "advert.listen"),
            r.U64("advert.free_memory"),
            r.U32("advert.free_threads"),
            r.U32("advert.max_jobs"),
            r.U8("advert.attestation"),
            r.U8("advert.enabled") != 0,
            r.Strings(ProtoLimits.MaxLabels, ProtoLimits.MaxLabelBytes, "advert.networks"),
            r.Strings(ProtoLimits.MaxLabels, ProtoLimits.MaxLabelBytes, "advert.groups"),
            r.String(ProtoLimits.MaxLabelBytes, "advert.region"),
            r.U64("advert.pow_nonce"),
            r.U8("advert.pow_bits"),
            r.U64("advert.timestamp"),
            r.U64("advert.seq"))
        {
            ReceiptCount = r.U64("advert.receipt_count"),
            ReceiptDigest = r.Fixed(32, "advert.receipt_digest").ToArray(),
        };
        // Anything between the receipt digest and the final signature is the token section (absent in older adverts).
        if (r.Remaining > ProtoLimits.SignatureBytes)
        {
            var n = r.U8("advert.tokens");
            if (n is 0 or > MembershipToken.MaxPerAdvert)
            {
                throw new ProtocolException($"advert.tokens has {n} items, expected 1..{MembershipToken.MaxPerAdvert}");
            }
            var tokens = new MembershipToken[n];
            for (var i = 0; i < n; i++)
            {
                tokens[i] = MembershipToken.Decode(r.Bytes(MembershipToken.MaxBytes, "advert.token"));
            }
            m = m with { Tokens = tokens };
        }
        m = m with { Signature = r.Fixed(ProtoLimits.SignatureBytes, "advert.signature").ToArray() };
        r.End("advert");
        return m;
    }
}

/// <summary>
/// Identity stamp: a nonce such that <c>BLAKE3("duckton-pow-v1" ‖ public key ‖ u64 LE nonce)</c> starts with at
/// least <c>bits</c> zero bits (most significant bit of byte 0 first). Default difficulty 16 bits: ~65,000 hashes
/// (tens of milliseconds) per identity, once per process.
/// </summary>
public static class ProofOfWork
{
    public const int DefaultBits = 16;

    public static bool Check(ReadOnlySpan<byte> publicKey, ulong nonce, int bits)
    {
        Span<byte> input = stackalloc byte[14 + 32 + 8];
        Span<byte> digest = stackalloc byte[32];
        Fill(input, publicKey, nonce);
        Blake3.Hash(input, digest);
        return LeadingZeroBits(digest) >= bits;
    }

    public static ulong Mint(ReadOnlySpan<byte> publicKey, int bits)
    {
        Span<byte> input = stackalloc byte[14 + 32 + 8];
        Span<byte> digest = stackalloc byte[32];
        var nonce = (ulong)Random.Shared.NextInt64();
        while (true)
        {
            Fill(input, publicKey, nonce);
            Blake3.Hash(input, digest);
            if (LeadingZeroBits(digest) >= bits)
            {
                return nonce;
            }
            nonce++;
        }
    }

    private static void Fill(Span<byte> input, ReadOnlySpan<byte> publicKey, ulong nonce)
    {
        if (publicKey.Length != 32)
        {
            throw new ArgumentException("an Ed25519 public key is 32 bytes");
        }
        "duckton-pow-v1"u8.CopyTo(input);
        publicKey.CopyTo(input[14..]);
        BinaryPrimitives.WriteUInt64LittleEndian(input[46..], nonce);
    }

    private static int LeadingZeroBits(ReadOnlySpan<byte> digest)
    {
        var n = 0;
        foreach (var b in digest)
        {
            if (b == 0)
            {
                n += 8;
                continue;
            }
            return n + System.Numerics.BitOperations.LeadingZeroCount((uint)b) - 24;
        }
        return n;
    }
}

using System.Buffers.Binary;
using System.Globalization;

namespace Duckton.Ton.Addresses;

/// <summary>The flags a user-friendly address carries besides the account itself.</summary>
public readonly record struct FriendlyFlags(bool Bounceable, bool Testnet, bool UrlSafe);

/// <summary>
/// A standard TON account address: workchain and 32-byte account id (the StateInit hash for contracts). Equality is by
/// value. Raw form "wc:hex"; user-friendly form 48 base64 characters = tag, workchain, id, CRC-16.
/// </summary>
public sealed class TonAddress : IEquatable<TonAddress>
{
    private const byte BounceableTag = 0x11;
    private const byte NonBounceableTag = 0x51;
    private const byte TestnetFlag = 0x80;

    private readonly byte[] _hash;

    public TonAddress(int workchain, ReadOnlySpan<byte> hash)
    {
        if (workchain is < -128 or > 127)
        {
            throw new TonFormatException($"workchain {workchain} does not fit in int8");
        }
        if (hash.Length != 32)
        {
            throw new TonFormatException($"an account id is 32 bytes, got {hash.Length}");
        }
        Workchain = workchain;
        _hash = hash.ToArray();
    }

    public int Workchain { get; }

    public ReadOnlySpan<byte> Hash => _hash;

    /// <summary>Parses the raw form ("0:…64 hex…") or a user-friendly form (base64 or base64url, any flags).</summary>
    public static TonAddress Parse(string text) => Parse(text, out _);

    public static TonAddress Parse(string text, out FriendlyFlags? flags)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (t.Contains(':', StringComparison.Ordinal))
        {
            flags = null;
            return ParseRaw(t);
        }
        var friendly = ParseFriendly(t, out var f);
        flags = f;
        return friendly;
    }

    public static bool TryParse(string? text, out TonAddress? address)
    {
        address = null;
        if (text is null)
        {
            return false;
        }
        try
        {
            address = Parse(text);
            return true;
        }
        catch (TonFormatException)
        {
            return false;
        }
    }

    public static TonAddress ParseRaw(string text)
    {
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !int.TryParse(text.AsSpan(0, colon), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var wc))
        {
            throw new TonFormatException($"raw address '{text}' must be 'workchain:64 hex digits'");
        }
        var hex = text[(colon + 1)..];
        if (hex.Length != 64)
        {
            throw new TonFormatException($"raw address '{text}': the account id must be 64 hex digits, got {hex.Length}");
        }
        byte[] hash;
        try
        {
            hash = Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new TonFormatException($"raw address '{text}': the account id is not hexadecimal");
        }
        return new TonAddress(wc, hash);
    }

    public static TonAddress ParseFriendly(string text, out FriendlyFlags flags)
    {
        if (text.Length != 48)
        {
            throw new TonFormatException($"user-friendly address '{text}' must be 48 characters, got {text.Length}");
        }
        var urlSafe = text.Contains('-', StringComparison.Ordinal) || text.Contains('_', StringComparison.Ordinal);
        if (urlSafe && (text.Contains('+', StringComparison.Ordinal) || text.Contains('/', StringComparison.Ordinal)))
        {
            throw new TonFormatException($"user-friendly address '{text}' mixes base64 and base64url characters");
        }
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text.Replace('-', '+').Replace('_', '/'));
        }
        catch (FormatException)
        {
            throw new TonFormatException($"user-friendly address '{text}' is not base64");
        }
        var expected = Crc16.Compute(bytes.AsSpan(0, 34));
        var stored = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(34));
        if (expected != stored)
        {
            throw new TonFormatException($"user-friendly address '{text}' has a bad checksum");
        }
        var tag = bytes[0];
        var testnet = (tag & TestnetFlag) != 0;
        var baseTag = (byte)(tag & ~TestnetFlag);
        if (baseTag is not (BounceableTag or NonBounceableTag))
        {
            throw new TonFormatException($"user-friendly address '{text}' has an unknown tag 0x{tag:x2}");
        }
        flags = new FriendlyFlags(baseTag == BounceableTag, testnet, urlSafe);
        return new TonAddress((sbyte)bytes[1], bytes.AsSpan(2, 32));
    }

    public string ToRaw() => Workchain.ToString(CultureInfo.InvariantCulture) + ":" + Convert.ToHexStringLower(_hash);

    public string ToFriendly(bool bounceable = true, bool testnet = false, bool urlSafe = true)
    {
        Span<byte> bytes = stackalloc byte[36];
        bytes[0] = (byte)((bounceable ? BounceableTag : NonBounceableTag) | (testnet ? TestnetFlag : 0));
        bytes[1] = (byte)(sbyte)Workchain;
        _hash.CopyTo(bytes[2..]);
        BinaryPrimitives.WriteUInt16BigEndian(bytes[34..], Crc16.Compute(bytes[..34]));
        var b64 = Convert.ToBase64String(bytes);
        return urlSafe ? b64.Replace('+', '-').Replace('/', '_') : b64;
    }

    public bool Equals(TonAddress? other) => other is not null && Workchain == other.Workchain && _hash.AsSpan().SequenceEqual(other._hash);

    public override bool Equals(object? obj) => Equals(obj as TonAddress);

    public override int GetHashCode() => HashCode.Combine(Workchain, BinaryPrimitives.ReadInt32LittleEndian(_hash));

    public static bool operator ==(TonAddress? a, TonAddress? b) => a is null ? b is null : a.Equals(b);

    public static bool operator !=(TonAddress? a, TonAddress? b) => !(a == b);

    public override string ToString() => ToRaw();
}

using System.Buffers.Text;
using Duckton.Core.Crypto;

namespace Duckton.Core.Protocol;

/// <summary>What a <see cref="MembershipToken"/> vouches for.</summary>
public enum MembershipKind : byte
{
    Group = 1,
    Region = 2,
}

/// <summary>
/// A signed capability token: an issuer (an Ed25519 key a requester lists in <c>membership.group_issuers</c> or
/// <c>region_issuers</c>) states that one node belongs to a group or a region from <c>issued</c> until <c>expires</c>.
/// Binary form: <c>u8 version (1) ‖ u8 kind (1 group, 2 region) ‖ 32 bytes node digest (the node id without "b3:") ‖
/// u32 LE length ‖ UTF-8 value (1..256 bytes) ‖ u64 LE issued ms ‖ u64 LE expires ms ‖ 32 bytes issuer public key ‖
/// 64 bytes signature</c>; the signature is Ed25519 by the issuer over <c>"duckton-membership-token-v1" ‖</c> every
/// byte before it. Text form (config, CLI): <c>dkt1.</c> + base64url without padding of the binary form.
/// </summary>
public sealed record MembershipToken(MembershipKind Kind, string NodeId, string Value, ulong IssuedMs, ulong ExpiresMs, byte[] IssuerKey)
{
    public const byte Version = 1;
    public const string TextPrefix = "dkt1.";

    /// <summary>Largest binary token: fixed fields plus the longest value.</summary>
    public const int MaxBytes = 2 + 32 + 4 + ProtoLimits.MaxLabelBytes + 16 + 32 + 64;

    /// <summary>Most tokens one advert carries (and one host installs).</summary>
    public const int MaxPerAdvert = 8;

    public static ReadOnlySpan<byte> Domain => "duckton-membership-token-v1"u8;

    public byte[] Signature { get; init; } = [];

    // The check is pure, so it runs once per instance; kept outside the record so that a copy made with `with`
    // (which may change any signed field) never inherits the original's verdict.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<MembershipToken, object> s_verdicts = [];

    private void WriteBody(ProtoWriter w)
    {
        if (!TryNodeDigest(NodeId, out var digest))
        {
            throw new ArgumentException($"'{NodeId}' is not a node id (b3: and 64 lower-case hex digits)");
        }
        var valueBytes = System.Text.Encoding.UTF8.GetByteCount(Value);
        if (valueBytes is 0 or > ProtoLimits.MaxLabelBytes)
        {
            throw new ArgumentException($"a membership value is 1..{ProtoLimits.MaxLabelBytes} bytes");
        }
        w.U8(Version).U8((byte)Kind).Fixed(digest, 32).String(Value).U64(IssuedMs).U64(ExpiresMs).Fixed(IssuerKey, ProtoLimits.PublicKeyBytes);
    }

    public byte[] SignedBytes()
    {
        var w = new ProtoWriter(160);
        w.Fixed(Domain, Domain.Length);
        WriteBody(w);
        return w.ToArray();
    }

    /// <summary>A token signed by <paramref name="issuer"/> (whose public key becomes <see cref="IssuerKey"/>).</summary>
    public static MembershipToken Issue(Ed25519Key issuer, MembershipKind kind, string nodeId, string value, DateTimeOffset issued, DateTimeOffset expires)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        var t = new MembershipToken(kind, nodeId, value, (ulong)issued.ToUnixTimeMilliseconds(), (ulong)expires.ToUnixTimeMilliseconds(), issuer.PublicKey.ToArray());
        return t with { Signature = issuer.Sign(t.SignedBytes()) };
    }

    public bool SignatureValid
    {
        get
        {
            return (bool)s_verdicts.GetValue(this, t =>
                t.Signature.Length == ProtoLimits.SignatureBytes && t.IssuerKey.Length == ProtoLimits.PublicKeyBytes
                && Ed25519Key.Verify(t.IssuerKey, t.SignedBytes(), t.Signature));
        }
    }

    public byte[] Encode()
    {
        var w = new ProtoWriter(192);
        WriteBody(w);
        return w.Fixed(Signature, ProtoLimits.SignatureBytes).ToArray();
    }

    public static MembershipToken Decode(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        var version = r.U8("token.version");
        if (version != Version)
        {
            throw new ProtocolException($"membership token version {version} is not supported (expected {Version})");
        }
        var kind = r.U8("token.kind");
        if (kind is not ((byte)MembershipKind.Group or (byte)MembershipKind.Region))
        {
            throw new ProtocolException($"membership token kind {kind} is unknown (1 group, 2 region)");
        }
        var node = "b3:" + Convert.ToHexStringLower(r.Fixed(32, "token.node"));
        var value = r.String(ProtoLimits.MaxLabelBytes, "token.value");
        if (value.Length == 0)
        {
            throw new ProtocolException("membership token value is empty");
        }
        var t = new MembershipToken((MembershipKind)kind, node, value, r.U64("token.issued"), r.U64("token.expires"),
            r.Fixed(ProtoLimits.PublicKeyBytes, "token.issuer").ToArray())
        {
            Signature = r.Fixed(ProtoLimits.SignatureBytes, "token.signature").ToArray(),
        };
        r.End("membership token");
        return t;
    }

    /// <summary>The 32-byte digest of a node id <c>b3:&lt;64 lower-case hex&gt;</c>.</summary>
    public static bool TryNodeDigest(string nodeId, out byte[] digest)
    {
        digest = [];
        if (nodeId is not { Length: 67 } || !nodeId.StartsWith("b3:", StringComparison.Ordinal)
            || nodeId.AsSpan(3).ContainsAnyExcept("0123456789abcdef"))
        {
            return false;
        }
        digest = Convert.FromHexString(nodeId.AsSpan(3));
        return true;
    }

    public string ToText() => TextPrefix + Base64Url.EncodeToString(Encode());

    /// <summary>Parses one token's text form; the error says what is wrong.</summary>
    public static MembershipToken Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var s = text.Trim();
        if (!s.StartsWith(TextPrefix, StringComparison.Ordinal))
        {
            throw new FormatException($"a membership token starts with '{TextPrefix}' (issue one with `duckton token issue`)");
        }
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(s.AsSpan(TextPrefix.Length));
        }
        catch (FormatException)
        {
            throw new FormatException("a membership token's body is not base64url");
        }
        if (bytes.Length > MaxBytes)
        {
            throw new FormatException($"a membership token is at most {MaxBytes} bytes");
        }
        try
        {
            return Decode(bytes);
        }
        catch (ProtocolException e)
        {
            throw new FormatException(e.Message);
        }
    }

    /// <summary>
    /// Every token in a config value: token texts separated by whitespace or commas (empty = none). Throws
    /// <see cref="FormatException"/> on the first malformed one or when there are more than <see cref="MaxPerAdvert"/>.
    /// </summary>
    public static IReadOnlyList<MembershipToken> ParseList(string text)
    {
        var parts = (text ?? "").Split([' ', '\t', '\r', '\n', ','], StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length > MaxPerAdvert)
        {
            throw new FormatException($"at most {MaxPerAdvert} membership tokens");
        }
        return [.. parts.Select(Parse)];
    }

    /// <summary>
    /// Null when this token proves <paramref name="nodeId"/>'s membership of <paramref name="kind"/> <paramref name="value"/>
    /// at <paramref name="now"/> for a requester trusting <paramref name="issuers"/> (entries <c>value=&lt;key hex&gt;</c>),
    /// else why not. Checks, in order: kind and value, node, issuer listed for the value, validity window, signature.
    /// </summary>
    public string? Refusal(MembershipKind kind, string value, string nodeId, IReadOnlyList<string> issuers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(issuers);
        if (Kind != kind || !string.Equals(Value, value, StringComparison.Ordinal))
        {
            return $"token is for {Kind.ToString().ToLowerInvariant()} '{Value}'";
        }
        if (!string.Equals(NodeId, nodeId, StringComparison.Ordinal))
        {
            return "token was issued to another node";
        }
        var key = Convert.ToHexStringLower(IssuerKey);
        if (!issuers.Any(e => e.IndexOf('=', StringComparison.Ordinal) is > 0 and var eq
                && string.Equals(e[..eq].Trim(), value, StringComparison.Ordinal)
                && string.Equals(e[(eq + 1)..].Trim(), key, StringComparison.OrdinalIgnoreCase)))
        {
            return $"issuer {key[..12]}… is not listed for '{value}'";
        }
        var ms = (ulong)Math.Max(0, now.ToUnixTimeMilliseconds());
        if (ms >= ExpiresMs)
        {
            return "token expired";
        }
        // A minute of clock skew between issuer and requester is tolerated.
        if (IssuedMs > ms + 60_000)
        {
            return "token is not valid yet";
        }
        return SignatureValid ? null : "bad token signature";
    }

    /// <summary>Why none of <paramref name="tokens"/> proves the membership; null when one does.</summary>
    public static string? Check(IEnumerable<MembershipToken> tokens, MembershipKind kind, string value, string nodeId, IReadOnlyList<string> issuers, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        string? why = null;
        foreach (var t in tokens)
        {
            if (t.Kind != kind || !string.Equals(t.Value, value, StringComparison.Ordinal))
            {
                continue;
            }
            why = t.Refusal(kind, value, nodeId, issuers, now);
            if (why is null)
            {
                return null;
            }
        }
        return why ?? "no token (self-declared)";
    }
}

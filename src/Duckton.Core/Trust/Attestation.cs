using System.Buffers.Binary;
using System.Text;
using Duckton.Core.Configuration;
using Duckton.Core.Crypto;

namespace Duckton.Core.Trust;

/// <summary>
/// Evidence that a host runs at an attestation tier above L0: an authority's Ed25519 signature over the tier, the
/// software measurement, the requester's nonce (from the offer) and the host's own key. Byte layout in
/// docs/PROTOCOL.md ("Attestation evidence").
/// </summary>
public sealed record AttestationEvidence(AttestationLevel Level, string Measurement, byte[] Nonce, byte[] BoundPublicKey, byte[] AuthorityPublicKey, byte[] Signature)
{
    public const string Domain = "duckdb-p2p-attestation-v2";
    private const int MaxMeasurementBytes = 1024;
    private const int MaxNonceBytes = 64;

    /// <summary>ASCII domain ‖ level byte ‖ u64 LE len + measurement ‖ u64 LE len + nonce ‖ 32-byte bound key.</summary>
    public static byte[] SignedBytes(AttestationLevel level, string measurement, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> boundPublicKey)
    {
        var m = Encoding.UTF8.GetBytes(measurement);
        var buffer = new byte[Domain.Length + 1 + 8 + m.Length + 8 + nonce.Length + boundPublicKey.Length];
        var span = buffer.AsSpan();
        Encoding.ASCII.GetBytes(Domain, span);
        var o = Domain.Length;
        span[o++] = (byte)level;
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], (ulong)m.Length);
        o += 8;
        m.CopyTo(span[o..]);
        o += m.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(span[o..], (ulong)nonce.Length);
        o += 8;
        nonce.CopyTo(span[o..]);
        o += nonce.Length;
        boundPublicKey.CopyTo(span[o..]);
        return buffer;
    }

    /// <summary>Wire form: level, u16 measurement length + UTF-8, u8 nonce length + nonce, 32-byte bound key, 32-byte authority key, 64-byte signature.</summary>
    public byte[] Encode()
    {
        var m = Encoding.UTF8.GetBytes(Measurement);
        var buffer = new byte[1 + 2 + m.Length + 1 + Nonce.Length + 32 + 32 + 64];
        var o = 0;
        buffer[o++] = (byte)Level;
        BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(o), (ushort)m.Length);
        o += 2;
        m.CopyTo(buffer, o);
        o += m.Length;
        buffer[o++] = (byte)Nonce.Length;
        Nonce.CopyTo(buffer, o);
        o += Nonce.Length;
        BoundPublicKey.CopyTo(buffer, o);
        o += 32;
        AuthorityPublicKey.CopyTo(buffer, o);
        o += 32;
        Signature.CopyTo(buffer, o);
        return buffer;
    }

    /// <summary>Parses the wire form; null for anything malformed or out of bounds.</summary>
    public static AttestationEvidence? TryDecode(ReadOnlySpan<byte> data)
    {
        if (data.Length < 3 || data[0] > (byte)AttestationLevel.L2)
        {
            return null;
        }
        var level = (AttestationLevel)data[0];
        int mLen = BinaryPrimitives.ReadUInt16LittleEndian(data[1..]);
        var o = 3;
        if (mLen > MaxMeasurementBytes || data.Length < o + mLen + 1)
        {
            return null;
        }
        var measurement = Encoding.UTF8.GetString(data.Slice(o, mLen));
        o += mLen;
        int nLen = data[o++];
        if (nLen > MaxNonceBytes || data.Length != o + nLen + 32 + 32 + 64)
        {
            return null;
        }
        var nonce = data.Slice(o, nLen).ToArray();
        o += nLen;
        return new AttestationEvidence(level, measurement, nonce, data.Slice(o, 32).ToArray(), data.Slice(o + 32, 32).ToArray(), data.Slice(o + 64, 64).ToArray());
    }
}

/// <summary>
/// Checks attestation claims as a hard gate: a claim above L0 counts only if its evidence is bound to this offer's
/// nonce and the host's key, names an allowlisted measurement for that tier, and is signed by a trusted authority.
/// Anything else is treated as L0 and the reason is reported.
/// </summary>
public sealed class AttestationVerifier(IEnumerable<byte[]> trustedAuthorities, IReadOnlyDictionary<AttestationLevel, IReadOnlySet<string>> allowedMeasurements)
{
    private readonly List<byte[]> _authorities = [.. trustedAuthorities];

    /// <summary>The trusted authority keys (32 bytes each).</summary>
    public IReadOnlyList<byte[]> Authorities => _authorities;

    /// <summary>The allowlisted measurements per tier.</summary>
    public IReadOnlyDictionary<AttestationLevel, IReadOnlySet<string>> AllowedMeasurements => allowedMeasurements;

    /// <summary>True when the SIMULATED demo authority (a public, well-known key) is among the trusted ones.</summary>
    public bool TrustsSimulatedDemoAuthority => _authorities.Any(a => a.AsSpan().SequenceEqual(SimulatedAttestationAuthority.Demo.PublicKey));

    /// <summary>
    /// Builds the verifier from <c>trust.attestation_authorities</c> (64-hex Ed25519 keys) and
    /// <c>trust.allowed_measurements</c> (<c>L1:&lt;hex&gt;</c> / <c>L2:&lt;hex&gt;</c>, compared case-insensitively); null when no
    /// authority is configured (then every claim above L0 counts as L0). The configuration layer has already
    /// validated both lists; a malformed entry here still throws <see cref="FormatException"/> naming the key.
    /// </summary>
    public static AttestationVerifier? FromConfig(IReadOnlyList<string> authorities, IReadOnlyList<string> measurements)
    {
        ArgumentNullException.ThrowIfNull(authorities);
        ArgumentNullException.ThrowIfNull(measurements);
        if (authorities.Count == 0)
        {
            return null;
        }
        var keys = new List<byte[]>();
        foreach (var a in authorities)
        {
            var text = a.Trim();
            if (text.Length != 64 || !text.All(char.IsAsciiHexDigit))
            {
                throw new FormatException($"trust.attestation_authorities: '{a}' is not an Ed25519 public key (64 hex digits)");
            }
            keys.Add(Convert.FromHexString(text));
        }
        var allowed = new Dictionary<AttestationLevel, HashSet<string>>
        {
            [AttestationLevel.L1] = new(StringComparer.OrdinalIgnoreCase),
            [AttestationLevel.L2] = new(StringComparer.OrdinalIgnoreCase),
        };
        foreach (var m in measurements)
        {
            if (!TryParseMeasurement(m, out var level, out var hex))
            {
                throw new FormatException($"trust.allowed_measurements: '{m}' is not L1:<hex> or L2:<hex>");
            }
            allowed[level].Add(hex);
        }
        return new AttestationVerifier(keys, allowed.ToDictionary(kv => kv.Key, kv => (IReadOnlySet<string>)kv.Value));
    }

    /// <summary>Longest measurement accepted (hex digits; evidence carries at most 1024 bytes of measurement text).</summary>
    public const int MaxMeasurementHexDigits = 1024;

    /// <summary>Parses <c>L1:&lt;hex&gt;</c> / <c>L2:&lt;hex&gt;</c> (an even, non-zero number of hex digits).</summary>
    public static bool TryParseMeasurement(string entry, out AttestationLevel level, out string hex)
    {
        level = AttestationLevel.L0;
        hex = "";
        var text = entry?.Trim() ?? "";
        if (text.Length < 4 || text[2] != ':')
        {
            return false;
        }
        level = text[..2].ToUpperInvariant() switch
        {
            "L1" => AttestationLevel.L1,
            "L2" => AttestationLevel.L2,
            _ => AttestationLevel.L0,
        };
        hex = text[3..];
        return level != AttestationLevel.L0 && hex.Length % 2 == 0 && hex.Length <= MaxMeasurementHexDigits && hex.All(char.IsAsciiHexDigit);
    }

    public readonly record struct Outcome(AttestationLevel Level, string? Problem);

    public Outcome Verify(AttestationLevel claimed, ReadOnlySpan<byte> evidence, ReadOnlySpan<byte> expectedNonce, ReadOnlySpan<byte> hostPublicKey)
    {
        if (claimed == AttestationLevel.L0)
        {
            return new(AttestationLevel.L0, null);
        }
        var e = AttestationEvidence.TryDecode(evidence);
        if (e is null)
        {
            return new(AttestationLevel.L0, "malformed evidence");
        }
        if (e.Level != claimed)
        {
            return new(AttestationLevel.L0, $"evidence is for {e.Level}, the claim is {claimed}");
        }
        if (!allowedMeasurements.TryGetValue(claimed, out var allowed) || !allowed.Contains(e.Measurement))
        {
            return new(AttestationLevel.L0, $"measurement '{e.Measurement}' is not allowlisted for {claimed}");
        }
        if (!e.Nonce.AsSpan().SequenceEqual(expectedNonce))
        {
            return new(AttestationLevel.L0, "evidence is not bound to this offer's nonce (replayed?)");
        }
        if (!e.BoundPublicKey.AsSpan().SequenceEqual(hostPublicKey))
        {
            return new(AttestationLevel.L0, "evidence is bound to another key");
        }
        if (!_authorities.Any(a => a.AsSpan().SequenceEqual(e.AuthorityPublicKey)))
        {
            return new(AttestationLevel.L0, "evidence is signed by an authority this node does not trust");
        }
        var signed = AttestationEvidence.SignedBytes(e.Level, e.Measurement, e.Nonce, e.BoundPublicKey);
        return Ed25519Key.Verify(e.AuthorityPublicKey, signed, e.Signature)
            ? new(claimed, null)
            : new(AttestationLevel.L0, "bad authority signature");
    }
}

/// <summary>
/// SIMULATED attestation authority: a software Ed25519 key that signs evidence for a measurement. There is no TPM or
/// TEE on these machines; this stands in for the quote-verifying service so the verifier above runs for real in
/// tests and demos. Everything it issues must be presented as simulated.
/// </summary>
public sealed class SimulatedAttestationAuthority : IDisposable
{
    private readonly Ed25519Key _key;

    public SimulatedAttestationAuthority() => _key = Ed25519Key.Generate();

    private SimulatedAttestationAuthority(Ed25519Key key) => _key = key;

    public const string Label = "SIMULATED attestation authority (no TPM/TEE hardware)";

    /// <summary>
    /// The measurement the SIMULATED demo hosts report: hex like a real one (so it can be allowlisted with
    /// <c>trust.allowed_measurements = ["L2:…"]</c>), BLAKE3 of "duckton SIMULATED host measurement (no TPM/TEE)".
    /// </summary>
    public static readonly string SimulatedMeasurement =
        Convert.ToHexStringLower(Duckton.Core.Hashing.Blake3.Hash(Encoding.ASCII.GetBytes("duckton SIMULATED host measurement (no TPM/TEE)")));

    /// <summary>
    /// TEST/DEMO ONLY: one well-known SIMULATED authority (key derived from a public constant), used by
    /// <c>duckton host --simulate-attestation</c>. Anyone can sign with it; only an explicit test/demo setting makes a
    /// requester trust it.
    /// </summary>
    public static SimulatedAttestationAuthority Demo { get; } =
        new(Ed25519Key.FromSeed(Duckton.Core.Hashing.Blake3.Hash(Encoding.ASCII.GetBytes("duckton SIMULATED attestation authority (public seed)"))));

    public byte[] PublicKey => _key.PublicKey.ToArray();

    public AttestationEvidence Issue(AttestationLevel level, string measurement, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> hostPublicKey) =>
        new(level, measurement, nonce.ToArray(), hostPublicKey.ToArray(), PublicKey,
            _key.Sign(AttestationEvidence.SignedBytes(level, measurement, nonce, hostPublicKey)));

    public void Dispose() => _key.Dispose();
}

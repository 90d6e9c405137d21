using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Duckton.Core.Crypto;

namespace Duckton.Transport;

/// <summary>
/// The X.509 extension that binds a TLS certificate's key to a node's Ed25519 identity (.NET cannot make Ed25519 certificates, so
/// nodes present ECDSA P-256 certificates and prove their identity with this extension).
/// </summary>
/// <remarks>
/// <para>OID <see cref="Oid"/> (under the UUID arc 2.25, ITU-T X.667: unique without registration), non-critical. Its value is the DER of</para>
/// <code>
/// DuckTonBinding ::= SEQUENCE {
///     version    INTEGER (1),
///     publicKey  OCTET STRING (SIZE (32)),  -- Ed25519 public key of the node
///     signature  OCTET STRING (SIZE (64)) } -- Ed25519 over "duckton-tls-binding-v1" || subjectPublicKeyInfo DER
/// </code>
/// <para>i.e. exactly 105 bytes: <c>30 67 02 01 01 04 20 &lt;key&gt; 04 40 &lt;signature&gt;</c>. The signed SubjectPublicKeyInfo is the
/// byte-exact DER taken from the presented certificate. TLS 1.3's CertificateVerify proves the peer holds that certificate's private
/// key; the binding proves the Ed25519 key holder vouched for it. Together: the peer holds the identity behind its node id.</para>
/// </remarks>
internal static class CertificateBinding
{
    /// <summary>2.25 + the UUID 78bf574e-dc4f-44e9-a804-3824e6c8a29c as a decimal integer.</summary>
    public const string Oid = "2.25.160500859011784783365015926303686697628";

    public const int Version = 1;

    public const int EncodedLength = 105;

    /// <summary>Domain separation prefix of the signed message.</summary>
    public static ReadOnlySpan<byte> Context => "duckton-tls-binding-v1"u8;

    public static byte[] SignedMessage(ReadOnlySpan<byte> subjectPublicKeyInfo)
    {
        var message = new byte[Context.Length + subjectPublicKeyInfo.Length];
        Context.CopyTo(message);
        subjectPublicKeyInfo.CopyTo(message.AsSpan(Context.Length));
        return message;
    }

    public static byte[] Encode(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> signature)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteInteger(Version);
            writer.WriteOctetString(publicKey);
            writer.WriteOctetString(signature);
        }
        return writer.Encode();
    }

    /// <summary>The extension for a certificate whose SubjectPublicKeyInfo is <paramref name="subjectPublicKeyInfo"/>, signed by <paramref name="sign"/>.</summary>
    public static X509Extension CreateExtension(ReadOnlySpan<byte> ed25519PublicKey, Func<byte[], byte[]> sign, ReadOnlySpan<byte> subjectPublicKeyInfo) =>
        new(new Oid(Oid), Encode(ed25519PublicKey, sign(SignedMessage(subjectPublicKeyInfo))), critical: false);

    /// <summary>The SubjectPublicKeyInfo DER exactly as it appears in the certificate.</summary>
    public static byte[] ExtractSubjectPublicKeyInfo(ReadOnlyMemory<byte> certificateDer)
    {
        var certificate = new AsnReader(certificateDer, AsnEncodingRules.DER).ReadSequence();
        var tbs = certificate.ReadSequence();
        if (tbs.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
        {
            tbs.ReadEncodedValue(); // [0] version
        }
        tbs.ReadEncodedValue(); // serialNumber
        tbs.ReadEncodedValue(); // signature AlgorithmIdentifier
        tbs.ReadEncodedValue(); // issuer
        tbs.ReadEncodedValue(); // validity
        tbs.ReadEncodedValue(); // subject
        return tbs.ReadEncodedValue().ToArray();
    }

    /// <summary>Checks a presented certificate; never throws.</summary>
    public static CertificateCheck Check(X509Certificate? presented)
    {
        if (presented is null)
        {
            return CertificateCheck.Fail("the peer presented no certificate");
        }
        try
        {
            var certificate = presented as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
            X509Extension? binding = null;
            foreach (var extension in certificate.Extensions)
            {
                if (extension.Oid?.Value == Oid)
                {
                    if (binding is not null)
                    {
                        return CertificateCheck.Fail($"the certificate carries the identity binding extension ({Oid}) twice");
                    }
                    binding = extension;
                }
            }
            if (binding is null)
            {
                return CertificateCheck.Fail($"the certificate carries no duckton identity binding (extension {Oid}); the peer is not a duckton node or is misconfigured");
            }
            if (!TryDecode(binding.RawData, out var publicKey, out var signature, out var problem))
            {
                return CertificateCheck.Fail($"the certificate's identity binding is malformed: {problem}");
            }
            var nodeId = NodeIdentity.NodeIdOf(publicKey);
            var spki = ExtractSubjectPublicKeyInfo(certificate.RawDataMemory);
            if (!Ed25519Key.Verify(publicKey, SignedMessage(spki), signature))
            {
                return CertificateCheck.Fail(
                    $"the certificate's identity binding does not verify: the Ed25519 signature by {nodeId} does not cover this certificate's key "
                    + "(signed by another key, or copied from another certificate)", nodeId);
            }
            return CertificateCheck.Success(nodeId, publicKey);
        }
        catch (Exception ex) when (ex is CryptographicException or AsnContentException or ArgumentException)
        {
            return CertificateCheck.Fail($"the certificate could not be parsed: {ex.Message}");
        }
    }

    public static bool TryDecode(ReadOnlySpan<byte> der, out byte[] publicKey, out byte[] signature, out string problem)
    {
        publicKey = [];
        signature = [];
        problem = "";
        if (der.Length != EncodedLength)
        {
            problem = $"{der.Length} bytes, expected {EncodedLength}";
            return false;
        }
        try
        {
            var outer = new AsnReader(der.ToArray(), AsnEncodingRules.DER);
            var sequence = outer.ReadSequence();
            outer.ThrowIfNotEmpty();
            if (!sequence.TryReadInt32(out var version) || version != Version)
            {
                problem = "unsupported binding version (this node reads version 1)";
                return false;
            }
            publicKey = sequence.ReadOctetString();
            signature = sequence.ReadOctetString();
            sequence.ThrowIfNotEmpty();
        }
        catch (AsnContentException ex)
        {
            problem = ex.Message;
            return false;
        }
        if (publicKey.Length != Ed25519Key.PublicKeyLength || signature.Length != Ed25519Key.SignatureLength)
        {
            problem = $"key of {publicKey.Length} bytes and signature of {signature.Length} bytes, expected 32 and 64";
            return false;
        }
        return true;
    }
}

/// <summary>Outcome of checking a peer certificate's binding.</summary>
internal sealed record CertificateCheck(bool Ok, string? NodeId, byte[] PublicKey, string Problem)
{
    public static CertificateCheck Success(string nodeId, byte[] publicKey) => new(true, nodeId, publicKey, "");

    public static CertificateCheck Fail(string problem, string? claimedNodeId = null) => new(false, claimedNodeId, [], problem);
}

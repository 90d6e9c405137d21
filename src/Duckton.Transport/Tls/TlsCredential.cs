using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Duckton.Transport;

/// <summary>
/// The node's TLS certificate: self-signed ECDSA P-256 (SHA-256), subject <c>CN=&lt;node id&gt;</c>, DNS SAN <c>duckdb-p2p</c>,
/// digitalSignature, serverAuth + clientAuth, and the Ed25519 binding extension. Generated in memory once per
/// <see cref="NodeIdentity"/> and never persisted: peers trust the binding, so a fresh certificate per process costs nothing.
/// </summary>
internal sealed class TlsCredential : IDisposable
{
    private TlsCredential(X509Certificate2 certificate)
    {
        Certificate = certificate;
        Context = SslStreamCertificateContext.Create(certificate, additionalCertificates: null, offline: true);
    }

    public X509Certificate2 Certificate { get; }

    public SslStreamCertificateContext Context { get; }

    public static TlsCredential Create(NodeIdentity identity) =>
        new(CreateCertificate(identity.NodeId, identity.PublicKey.Span, message => identity.Sign(message)));

    /// <summary>Builds a bound certificate. Tests use <paramref name="sign"/> and <paramref name="ed25519PublicKey"/> to build broken ones.</summary>
    internal static X509Certificate2 CreateCertificate(string subjectNodeId, ReadOnlySpan<byte> ed25519PublicKey, Func<byte[], byte[]>? sign,
        Func<ReadOnlyMemory<byte>, ReadOnlyMemory<byte>>? bindSpki = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var spki = key.ExportSubjectPublicKeyInfo();
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + subjectNodeId), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(TransportProtocol.TlsServerName);
        request.CertificateExtensions.Add(san.Build());
        if (sign is not null)
        {
            var signedSpki = bindSpki is null ? spki : bindSpki(spki).ToArray();
            request.CertificateExtensions.Add(CertificateBinding.CreateExtension(ed25519PublicKey, sign, signedSpki));
        }
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        var now = DateTimeOffset.UtcNow;
        using var created = request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key), now.AddHours(-1), now.AddYears(1), serial);
        var certificate = created.CopyWithPrivateKey(key);
        if (sign is not null && bindSpki is null
            && !CertificateBinding.ExtractSubjectPublicKeyInfo(certificate.RawDataMemory).AsSpan().SequenceEqual(spki))
        {
            certificate.Dispose();
            throw new CryptographicException("the certificate's SubjectPublicKeyInfo differs from the key's export; the binding would not verify");
        }
        if (OperatingSystem.IsWindows())
        {
            // SChannel needs a persisted key for server authentication.
            using var ephemeral = certificate;
            return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        }
        return certificate;
    }

    public void Dispose() => Certificate.Dispose();
}

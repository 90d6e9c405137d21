using System.Buffers.Binary;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Duckton.Core.Crypto;

namespace Duckton.Transport.Tests;

/// <summary>How a test-only peer's certificate is broken.</summary>
public enum EvilCertificate
{
    /// <summary>A proper certificate of the evil node's own identity (control case).</summary>
    Honest,

    /// <summary>No binding extension at all.</summary>
    Unbound,

    /// <summary>Binding names the victim's Ed25519 key, but the signature was made by another key.</summary>
    SignedByOtherKey,

    /// <summary>A valid binding made for a different certificate key (copied from another certificate): the TLS key was swapped.</summary>
    SwappedKey,

    /// <summary>Binding bytes are garbage.</summary>
    Malformed,
}

/// <summary>
/// Raw TLS 1.3 peers (plain SslStream and hand-written frames, no PeerConnection code) presenting forged certificates.
/// </summary>
internal static class EvilPeers
{
    private static readonly List<SslApplicationProtocol> Alpn = [new("duckdb-p2p/1")];

    /// <summary>A certificate that claims to be <paramref name="victim"/> (or <paramref name="self"/> for Honest), broken as asked.</summary>
    public static X509Certificate2 Certificate(EvilCertificate kind, NodeIdentity self, NodeIdentity victim)
    {
        using var otherKey = Ed25519Key.Generate();
        return kind switch
        {
            EvilCertificate.Honest => TlsCredential.CreateCertificate(self.NodeId, self.PublicKey.Span, m => self.Sign(m)),
            EvilCertificate.Unbound => TlsCredential.CreateCertificate(victim.NodeId, victim.PublicKey.Span, sign: null),
            EvilCertificate.SignedByOtherKey => TlsCredential.CreateCertificate(victim.NodeId, victim.PublicKey.Span, m => otherKey.Sign(m)),
            // The victim really signed, but over another certificate's key (what an attacker copying the victim's extension gets).
            EvilCertificate.SwappedKey => TlsCredential.CreateCertificate(victim.NodeId, victim.PublicKey.Span, m => victim.Sign(m), bindSpki: _ =>
            {
                using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                return other.ExportSubjectPublicKeyInfo();
            }),
            EvilCertificate.Malformed => WithRawBinding(victim, new byte[105]),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static X509Certificate2 WithRawBinding(NodeIdentity victim, byte[] value)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + victim.NodeId, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509Extension(CertificateBinding.Oid, value, critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    /// <summary>A TLS 1.3 server with <paramref name="certificate"/> that accepts any client and then reads a Hello and answers a
    /// HelloAck claiming <paramref name="claimedNodeId"/>.</summary>
    public static async Task<(int Port, Task Served)> StartServerAsync(X509Certificate2 certificate, string claimedNodeId)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var served = Task.Run(async () =>
        {
            try
            {
                using var client = await listener.AcceptTcpClientAsync();
                await using var ssl = new SslStream(client.GetStream());
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = certificate,
                    EnabledSslProtocols = SslProtocols.Tls13,
                    ApplicationProtocols = Alpn,
                    ClientCertificateRequired = true,
                    RemoteCertificateValidationCallback = (_, _, _, _) => true,
                });
                var hello = await ReadFrameAsync(ssl);
                var ack = new PayloadWriter().WriteString("1.0.0", 32, "v");
                WriteHelloBody(ack, claimedNodeId);
                await WriteFrameAsync(ssl, MessageType.HelloAck, ack.ToArray());
                _ = await ssl.ReadAsync(new byte[1]); // wait for the client to hang up
            }
            catch (Exception ex) when (ex is IOException or AuthenticationException or EndOfStreamException)
            {
                // The real client hung up on us: expected.
            }
            finally
            {
                listener.Stop();
            }
        });
        await Task.Yield();
        return (port, served);
    }

    /// <summary>Connects with <paramref name="certificate"/>, sends a hand-built Hello claiming <paramref name="claimedNodeId"/>, and
    /// returns the server's reply frame (type, reason code for a Reject, message).</summary>
    public static async Task<(MessageType Type, ushort Code, string Message)> ClientAsync(X509Certificate2 certificate, int port, string claimedNodeId,
        string protocolVersion = "1.0.0")
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var ssl = new SslStream(tcp.GetStream());
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = "duckdb-p2p",
            EnabledSslProtocols = SslProtocols.Tls13,
            ApplicationProtocols = Alpn,
            ClientCertificates = [certificate],
            LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate,
            RemoteCertificateValidationCallback = (_, _, _, _) => true,
        });
        var hello = new PayloadWriter();
        WriteHelloBody(hello, claimedNodeId, protocolVersion);
        await WriteFrameAsync(ssl, MessageType.Hello, hello.ToArray());
        var (type, payload) = await ReadFrameAsync(ssl);
        if (type != MessageType.Reject)
        {
            return (type, 0, "");
        }
        // Reject layout: u16 reason, u32 len + UTF-8 message, ...
        var code = BinaryPrimitives.ReadUInt16LittleEndian(payload);
        var length = (int)BinaryPrimitives.ReadUInt32LittleEndian(payload.AsSpan(2));
        return (type, code, Encoding.UTF8.GetString(payload, 6, length));
    }

    /// <summary>The Hello layout written by hand from docs/PROTOCOL.md (not with the production encoder).</summary>
    private static void WriteHelloBody(PayloadWriter w, string nodeId, string version = "1.0.0")
    {
        w.WriteString("duckdb-p2p", 64, "name").WriteString(version, 32, "v").WriteString("1.0.0", 32, "min")
            .WriteString(nodeId, 67, "id").WriteString("evil-1", 128, "sw").WriteByte(0).WriteUInt32(16 << 20);
    }

    private static async Task WriteFrameAsync(Stream stream, MessageType type, byte[] payload)
    {
        var frame = new byte[6 + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        frame[4] = 1;
        frame[5] = (byte)type;
        payload.CopyTo(frame, 6);
        await stream.WriteAsync(frame);
    }

    private static async Task<(MessageType Type, byte[] Payload)> ReadFrameAsync(Stream stream)
    {
        var header = new byte[6];
        await stream.ReadExactlyAsync(header);
        var payload = new byte[BinaryPrimitives.ReadUInt32LittleEndian(header)];
        await stream.ReadExactlyAsync(payload);
        return ((MessageType)header[5], payload);
    }
}

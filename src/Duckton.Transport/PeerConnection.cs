using System.Buffers;
using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Duckton.Transport;

/// <summary>
/// An authenticated TLS 1.3 connection to one peer carrying frames <c>[u32 LE len][u8 ver=1][u8 type][payload]</c>,
/// where <c>len</c> counts the version byte, the type byte and the payload.
/// </summary>
public sealed class PeerConnection : IAsyncDisposable
{
    public const byte FrameVersion = 1;
    private const int HeaderBytes = 6;
    private const int CoalesceBytes = 64 << 10;

    private readonly Socket _socket;
    private readonly SslStream _ssl;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly byte[] _header = new byte[HeaderBytes];
    private readonly int _maxFrameBytes;
    private volatile bool _open = true;

    private PeerConnection(Socket socket, SslStream ssl, int maxFrameBytes)
    {
        _socket = socket;
        _ssl = ssl;
        _maxFrameBytes = maxFrameBytes;
    }

    public string RemoteNodeId { get; private set; } = "";
    public ReadOnlyMemory<byte> RemotePublicKey { get; private set; }
    public string RemoteAddress { get; private set; } = "";
    public PeerHello RemoteHello { get; private set; } = null!;
    public bool IsOpen => _open;

    internal string PoolKey { get; set; } = "";

    public async ValueTask SendAsync(MessageType type, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        if (payload.Length > _maxFrameBytes)
        {
            throw new InvalidOperationException($"frame of {payload.Length} bytes exceeds the {_maxFrameBytes}-byte limit");
        }
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_open)
            {
                throw new IOException("the connection is closed");
            }
            if (payload.Length <= CoalesceBytes)
            {
                var buffer = ArrayPool<byte>.Shared.Rent(HeaderBytes + payload.Length);
                try
                {
                    WriteHeader(buffer, type, payload.Length);
                    payload.Span.CopyTo(buffer.AsSpan(HeaderBytes));
                    await _ssl.WriteAsync(buffer.AsMemory(0, HeaderBytes + payload.Length), cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            else
            {
                var header = new byte[HeaderBytes];
                WriteHeader(header, type, payload.Length);
                await _ssl.WriteAsync(header, cancellationToken).ConfigureAwait(false);
                await _ssl.WriteAsync(payload, cancellationToken).ConfigureAwait(false);
            }
            await _ssl.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _open = false;
            throw;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private static void WriteHeader(Span<byte> header, MessageType type, int payloadLength)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)(payloadLength + 2));
        header[4] = FrameVersion;
        header[5] = (byte)type;
    }

    /// <summary>Reads the next frame (one reader at a time). Throws <see cref="EndOfStreamException"/> when the peer closed.</summary>
    public async ValueTask<Frame> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await _ssl.ReadExactlyAsync(_header, cancellationToken).ConfigureAwait(false);
            var len = BinaryPrimitives.ReadUInt32LittleEndian(_header);
            if (len < 2 || len - 2 > (uint)_maxFrameBytes)
            {
                throw new InvalidDataException($"frame length {len} is outside 2..{_maxFrameBytes + 2}");
            }
            if (_header[4] != FrameVersion)
            {
                throw new InvalidDataException($"frame version {_header[4]} is not {FrameVersion}");
            }
            var type = (MessageType)_header[5];
            var payload = len == 2 ? [] : new byte[len - 2];
            if (payload.Length > 0)
            {
                await _ssl.ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false);
            }
            return new Frame(type, payload);
        }
        catch
        {
            _open = false;
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        _open = false;
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        await _ssl.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
    }

    // ---- handshake ----

    internal static async Task<PeerConnection> EstablishAsync(Socket socket, bool isServer, NodeIdentity identity, string? expectedNodeId, TransportOptions options, CancellationToken cancellationToken)
    {
        socket.NoDelay = true;
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: false), leaveInnerStreamOpen: false);
        var connection = new PeerConnection(socket, ssl, options.MaxFrameBytes) { RemoteAddress = socket.RemoteEndPoint?.ToString() ?? "" };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.HandshakeTimeout);
        try
        {
            var cert = SelfSigned.Certificate;
            var alpn = new List<SslApplicationProtocol> { new("duckdb-p2p/1") };
            if (isServer)
            {
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = cert,
                    ClientCertificateRequired = true,
                    EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls13,
                    ApplicationProtocols = alpn,
                    RemoteCertificateValidationCallback = static (_, _, _, _) => true,
                }, timeout.Token).ConfigureAwait(false);
            }
            else
            {
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "duckdb-p2p",
                    ClientCertificates = [cert],
                    EnabledSslProtocols = System.Security.Authentication.SslProtocols.Tls13,
                    ApplicationProtocols = alpn,
                    RemoteCertificateValidationCallback = static (_, _, _, _) => true,
                    LocalCertificateSelectionCallback = (_, _, _, _, _) => cert,
                }, timeout.Token).ConfigureAwait(false);
            }
            if (ssl.NegotiatedApplicationProtocol.ToString() != "duckdb-p2p/1" || ssl.RemoteCertificate is null)
            {
                throw new PeerRejectedException(RejectReason.ProtocolViolation, "the peer did not negotiate ALPN duckdb-p2p/1 with a client certificate");
            }
            var localCertHash = SHA256.HashData(cert.RawData);
            var remoteCertHash = SHA256.HashData(ssl.RemoteCertificate.GetRawCertData());
            var myHello = new PeerHello("duckdb-p2p", options.ProtocolVersion, "1.0.0", identity.NodeId, options.SoftwareVersion, options.AdvertisedAddress);
            var mine = EncodeHello(myHello, identity, isServer, localCertHash, remoteCertHash);
            if (!isServer)
            {
                await connection.SendAsync(MessageType.Hello, mine, timeout.Token).ConfigureAwait(false);
                var reply = await connection.ReceiveAsync(timeout.Token).ConfigureAwait(false);
                if (reply.Type == MessageType.Reject)
                {
                    var reason = reply.Payload.Length > 0 ? (RejectReason)reply.Payload.Span[0] : RejectReason.ProtocolViolation;
                    throw new PeerRejectedException(reason);
                }
                if (reply.Type != MessageType.HelloAck)
                {
                    throw new PeerRejectedException(RejectReason.ProtocolViolation, $"expected HelloAck, got {reply.Type}");
                }
                var check = connection.Accept(reply.Payload.Span, !isServer, localCertHash, remoteCertHash, expectedNodeId, options);
                if (check is { } r)
                {
                    throw new PeerRejectedException(r);
                }
            }
            else
            {
                var hello = await connection.ReceiveAsync(timeout.Token).ConfigureAwait(false);
                var check = hello.Type == MessageType.Hello
                    ? connection.Accept(hello.Payload.Span, !isServer, localCertHash, remoteCertHash, null, options)
                    : RejectReason.ProtocolViolation;
                if (check is { } r)
                {
                    await connection.SendAsync(MessageType.Reject, new[] { (byte)r }, timeout.Token).ConfigureAwait(false);
                    throw new PeerRejectedException(r);
                }
                await connection.SendAsync(MessageType.HelloAck, mine, timeout.Token).ConfigureAwait(false);
            }
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static byte[] EncodeHello(PeerHello hello, NodeIdentity identity, bool isServer, byte[] localCertHash, byte[] remoteCertHash)
    {
        using var ms = new MemoryStream();
        foreach (var s in new[] { hello.ProtocolName, hello.ProtocolVersion, hello.MinSupportedVersion, hello.NodeId, hello.SoftwareVersion, hello.ListenAddress ?? "" })
        {
            var b = Encoding.UTF8.GetBytes(s);
            ms.WriteByte((byte)(b.Length >> 8));
            ms.WriteByte((byte)b.Length);
            ms.Write(b);
        }
        ms.Write(identity.PublicKey.Span);
        ms.Write(identity.Sign(BindingMessage(isServer, localCertHash, remoteCertHash)));
        return ms.ToArray();
    }

    /// <summary>What each side signs: its role and both certificates' hashes, binding the identity to this TLS session.</summary>
    private static byte[] BindingMessage(bool server, byte[] signerCert, byte[] otherCert) =>
        [.. "duckton-hello-v1"u8, server ? (byte)1 : (byte)0, .. signerCert, .. otherCert];

    private RejectReason? Accept(ReadOnlySpan<byte> payload, bool remoteIsServer, byte[] localCertHash, byte[] remoteCertHash, string? expectedNodeId, TransportOptions options)
    {
        try
        {
            var fields = new string[6];
            var pos = 0;
            for (var i = 0; i < fields.Length; i++)
            {
                var len = (payload[pos] << 8) | payload[pos + 1];
                fields[i] = Encoding.UTF8.GetString(payload.Slice(pos + 2, len));
                pos += 2 + len;
            }
            var pub = payload.Slice(pos, 32).ToArray();
            var sig = payload.Slice(pos + 32, 64);
            if (pos + 96 != payload.Length)
            {
                return RejectReason.ProtocolViolation;
            }
            var hello = new PeerHello(fields[0], fields[1], fields[2], fields[3], fields[4], fields[5].Length == 0 ? null : fields[5]);
            if (hello.ProtocolName != "duckdb-p2p" || !hello.ProtocolVersion.StartsWith("1.", StringComparison.Ordinal))
            {
                return RejectReason.IncompatibleVersion;
            }
            if (!NodeIdentity.Verify(hello.NodeId, pub, BindingMessage(remoteIsServer, remoteCertHash, localCertHash), sig))
            {
                return RejectReason.IdentityMismatch;
            }
            if (expectedNodeId is not null && expectedNodeId != hello.NodeId)
            {
                return RejectReason.PinMismatch;
            }
            if (options.Pinning == Duckton.Core.Configuration.PinningMode.Allowlist && !options.Allowlist.Contains(hello.NodeId))
            {
                return RejectReason.NotAllowlisted;
            }
            RemoteHello = hello;
            RemoteNodeId = hello.NodeId;
            RemotePublicKey = pub;
            return null;
        }
        catch (ArgumentOutOfRangeException)
        {
            return RejectReason.ProtocolViolation;
        }
    }

    private static class SelfSigned
    {
        public static readonly X509Certificate2 Certificate = Create();

        private static X509Certificate2 Create()
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=duckdb-p2p", key, HashAlgorithmName.SHA256);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(10));
            return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
        }
    }
}

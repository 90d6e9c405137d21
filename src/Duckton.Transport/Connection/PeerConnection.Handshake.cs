using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Duckton.Transport;

public sealed partial class PeerConnection
{
    /// <summary>Client: TCP connect, TLS 1.3, Hello → HelloAck | Reject. Everything bounded by <see cref="TransportOptions.HandshakeTimeout"/>.</summary>
    internal static async Task<PeerConnection> ConnectCoreAsync(NodeIdentity identity, string address, string? expectedNodeId,
        TransportOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var (host, port) = PeerAddress.Parse(address);
        var pinKey = PeerAddress.Normalize(address);
        if (expectedNodeId is not null && !NodeIdentity.IsValidNodeId(expectedNodeId))
        {
            throw new ArgumentException($"expected node id '{expectedNodeId}' is not a node id (b3:<64 lower-case hex>)", nameof(expectedNodeId));
        }
        var pins = options.Pinning == Core.Configuration.PinningMode.Tofu ? KnownPeers.For(identity, options) : null;
        var credential = identity.Tls;

        using var timeout = new CancellationTokenSource(options.HandshakeTimeout, options.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SslStream? ssl = null;
        FrameReader? reader = null;
        var success = false;
        CertificateCheck? server = null;
        (RejectReason Reason, string Message)? refusal = null;
        try
        {
            try
            {
                if (IPAddress.TryParse(host, out var ip))
                {
                    await socket.ConnectAsync(new IPEndPoint(ip, port), token).ConfigureAwait(false);
                }
                else
                {
                    await socket.ConnectAsync(new DnsEndPoint(host, port), token).ConfigureAwait(false);
                }
            }
            catch (SocketException ex)
            {
                throw new IOException($"could not connect to {address}: {ex.Message}", ex);
            }

            ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
            var tls = ClientTls(credential, certificate =>
            {
                server = CertificateBinding.Check(certificate);
                if (!server.Ok)
                {
                    refusal = (RejectReason.CertificateNotBound, server.Problem);
                    return false;
                }
                refusal = CheckPolicy(server.NodeId!, address, expectedNodeId, options, pins, pinKey);
                return refusal is null;
            });
            try
            {
                await ssl.AuthenticateAsClientAsync(tls, token).ConfigureAwait(false);
            }
            catch (AuthenticationException ex) when (refusal is { } r)
            {
                throw new PeerRejectedException(r.Reason, $"refused {address}: {r.Message}", ex)
                {
                    RemoteAddress = address,
                    RemoteNodeId = server?.NodeId,
                    Detail = r.Message,
                };
            }
            catch (AuthenticationException ex)
            {
                throw new IOException($"TLS 1.3 handshake with {address} failed: {ex.Message}", ex);
            }
            EnsureNegotiated(ssl, address);
            if (server is not { Ok: true })
            {
                throw new PeerRejectedException(RejectReason.CertificateNotBound, $"refused {address}: the server's certificate was not checked")
                {
                    RemoteAddress = address,
                };
            }

            reader = new FrameReader(ssl, FrameFormat.HandshakeMaxFrameBytes);
            var writer = new FrameWriter(ssl, FrameFormat.HandshakeMaxFrameBytes);
            await writer.WriteAsync(MessageType.Hello, HandshakeCodec.EncodeHello(LocalHello(identity, options, options.AdvertisedAddress)), token)
                .ConfigureAwait(false);
            Frame reply;
            try
            {
                reply = await reader.ReadAsync(token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is EndOfStreamException or FrameException or IOException && ex is not OperationCanceledException)
            {
                throw new IOException($"{address} ({server.NodeId}) closed the connection during the handshake without a reply: {ex.Message}", ex);
            }

            switch (reply.Type)
            {
                case MessageType.Reject:
                    throw RemoteReject(reply, address, server.NodeId!);
                case MessageType.HelloAck:
                    break;
                default:
                    throw await RefuseAsync(writer, options, address, server.NodeId, RejectReason.ProtocolViolation,
                        $"expected HelloAck or Reject, got {reply.Type}", token).ConfigureAwait(false);
            }

            string negotiated;
            PeerHello hello;
            try
            {
                (negotiated, hello) = HandshakeCodec.DecodeHelloAck(reply.Payload.Span);
            }
            catch (PayloadFormatException ex)
            {
                throw await RefuseAsync(writer, options, address, server.NodeId, RejectReason.ProtocolViolation,
                    $"malformed HelloAck: {ex.Message}", token).ConfigureAwait(false);
            }
            if (JudgeHello(hello, server.NodeId!, options) is { } problem)
            {
                throw await RefuseAsync(writer, options, address, server.NodeId, problem.Reason, problem.Message, token).ConfigureAwait(false);
            }
            var expectedNegotiated = ProtocolVersion.Negotiate(options.Version, options.MinVersion,
                ProtocolVersion.Parse(hello.ProtocolVersion, "peer version"), ProtocolVersion.Parse(hello.MinSupportedVersion, "peer minimum"), out _);
            if (!ProtocolVersion.TryParse(negotiated, out var n) || n != expectedNegotiated)
            {
                throw await RefuseAsync(writer, options, address, server.NodeId, RejectReason.ProtocolViolation,
                    $"HelloAck names version '{negotiated}', but the negotiated version is {expectedNegotiated}", token).ConfigureAwait(false);
            }

            pins?.Remember(pinKey, server.NodeId!);
            var connection = new PeerConnection(socket, ssl, reader, options, address, server, hello, negotiated, inbound: false, identity.NodeId);
            success = true;
            return connection;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"connecting to {address}: the TLS and version handshake did not complete within {options.HandshakeTimeout.TotalSeconds:0.###} s", ex);
        }
        finally
        {
            if (!success)
            {
                reader?.Dispose();
                if (ssl is not null)
                {
                    await ssl.DisposeAsync().ConfigureAwait(false);
                }
                socket.Dispose();
            }
        }
    }

    /// <summary>
    /// Server: TLS 1.3 (client certificate required), read Hello, judge it, answer HelloAck or Reject. Returns null when the peer
    /// was rejected (the Reject was sent and the connection closed); throws on I/O errors and timeouts.
    /// </summary>
    internal static async Task<PeerConnection?> AcceptCoreAsync(Socket socket, NodeIdentity identity, TransportOptions options,
        string? listenAddress, Func<string, (RejectReason Reason, string Message)?> admission, CancellationToken cancellationToken)
    {
        var remote = socket.RemoteEndPoint is IPEndPoint ep ? PeerAddress.Format(ep) : "unknown";
        using var timeout = new CancellationTokenSource(options.EffectiveInboundHandshakeTimeout, options.Time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var token = linked.Token;
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        FrameReader? reader = null;
        var keep = false;
        CertificateCheck? client = null;
        try
        {
            var tls = ServerTls(identity.Tls, certificate =>
            {
                client = CertificateBinding.Check(certificate);
                return certificate is not null;
            });
            await ssl.AuthenticateAsServerAsync(tls, token).ConfigureAwait(false);
            EnsureNegotiated(ssl, remote);
            reader = new FrameReader(ssl, FrameFormat.HandshakeMaxFrameBytes);
            var writer = new FrameWriter(ssl, FrameFormat.HandshakeMaxFrameBytes);
            var first = await reader.ReadAsync(token).ConfigureAwait(false);

            (RejectReason Reason, string Message)? refusal = null;
            PeerHello? hello = null;
            ProtocolVersion? negotiated = null;
            if (client is not { Ok: true })
            {
                refusal = (RejectReason.CertificateNotBound, client?.Problem ?? "no client certificate");
            }
            else if (first.Type != MessageType.Hello)
            {
                refusal = (RejectReason.ProtocolViolation, $"expected Hello as the first frame, got {first.Type}");
            }
            else
            {
                try
                {
                    hello = HandshakeCodec.DecodeHello(first.Payload.Span);
                }
                catch (PayloadFormatException ex)
                {
                    refusal = (RejectReason.ProtocolViolation, $"malformed Hello: {ex.Message}");
                }
                if (hello is not null)
                {
                    refusal = JudgeHello(hello, client.NodeId!, options)
                        ?? CheckPolicy(client.NodeId!, remote, expectedNodeId: null, options, pins: null, pinKey: null)
                        ?? admission(client.NodeId!);
                    if (refusal is null)
                    {
                        negotiated = ProtocolVersion.Negotiate(options.Version, options.MinVersion,
                            ProtocolVersion.Parse(hello.ProtocolVersion, "peer version"), ProtocolVersion.Parse(hello.MinSupportedVersion, "peer minimum"), out _);
                    }
                }
            }

            if (refusal is { } r)
            {
                options.Logger.InboundRejected(remote, client?.NodeId, r.Reason, r.Message);
                var payload = HandshakeCodec.EncodeReject(r.Reason, r.Message, options.ProtocolVersion, options.EffectiveMinSupportedVersion);
                await writer.WriteAsync(MessageType.Reject, payload, token).ConfigureAwait(false);
                await CloseGracefullyAsync(ssl, socket, options).ConfigureAwait(false);
                return null;
            }

            var ack = HandshakeCodec.EncodeHelloAck(negotiated!.Value.ToString(), LocalHello(identity, options, options.AdvertisedAddress ?? listenAddress));
            await writer.WriteAsync(MessageType.HelloAck, ack, token).ConfigureAwait(false);
            var connection = new PeerConnection(socket, ssl, reader, options, remote, client!, hello!, negotiated.Value.ToString(), inbound: true, identity.NodeId);
            keep = true;
            return connection;
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"inbound handshake from {remote} did not complete within {options.EffectiveInboundHandshakeTimeout.TotalSeconds:0.###} s", ex);
        }
        finally
        {
            if (!keep)
            {
                reader?.Dispose();
                await ssl.DisposeAsync().ConfigureAwait(false);
                socket.Dispose();
            }
        }
    }

    private static PeerHello LocalHello(NodeIdentity identity, TransportOptions options, string? listenAddress) =>
        new(TransportProtocol.Name, options.ProtocolVersion, options.EffectiveMinSupportedVersion, identity.NodeId, options.SoftwareVersion, listenAddress)
        {
            MaxFrameBytes = options.MaxFrameBytes,
        };

    /// <summary>Protocol name, node id (must equal the certificate's) and version compatibility of a peer's hello.</summary>
    private static (RejectReason Reason, string Message)? JudgeHello(PeerHello hello, string certificateNodeId, TransportOptions options)
    {
        if (!string.Equals(hello.ProtocolName, TransportProtocol.Name, StringComparison.Ordinal))
        {
            return (RejectReason.ProtocolViolation, $"peer speaks protocol '{hello.ProtocolName}'; this node speaks {TransportProtocol.Name}");
        }
        if (!string.Equals(hello.NodeId, certificateNodeId, StringComparison.Ordinal))
        {
            return (RejectReason.IdentityMismatch,
                $"the hello claims node id '{hello.NodeId}', but the TLS certificate is bound to {certificateNodeId}");
        }
        if (!ProtocolVersion.TryParse(hello.ProtocolVersion, out var peer) || !ProtocolVersion.TryParse(hello.MinSupportedVersion, out var peerMin))
        {
            return (RejectReason.ProtocolViolation,
                $"the hello's versions '{hello.ProtocolVersion}' / '{hello.MinSupportedVersion}' are not major.minor.patch");
        }
        return ProtocolVersion.Negotiate(options.Version, options.MinVersion, peer, peerMin, out var problem) is null
            ? (RejectReason.IncompatibleVersion, problem)
            : null;
    }

    private static PeerRejectedException RemoteReject(Frame reply, string address, string nodeId)
    {
        try
        {
            var (code, message, version, min) = HandshakeCodec.DecodeReject(reply.Payload.Span);
            var known = Enum.IsDefined((RejectReason)code);
            var reason = known ? (RejectReason)code : RejectReason.ProtocolViolation;
            message = known ? message : $"unknown reject code {code}: {message}";
            return new PeerRejectedException(reason, $"{address} ({nodeId}) refused the connection ({reason}): {message} [peer speaks {version}, accepts ≥ {min}]")
            {
                ByRemote = true,
                RemoteAddress = address,
                RemoteNodeId = nodeId,
                Detail = message,
            };
        }
        catch (PayloadFormatException ex)
        {
            return new PeerRejectedException(RejectReason.ProtocolViolation, $"{address} ({nodeId}) refused the connection with a malformed Reject: {ex.Message}")
            {
                ByRemote = true,
                RemoteAddress = address,
                RemoteNodeId = nodeId,
                Detail = ex.Message,
            };
        }
    }

    /// <summary>Tells the server why this client refuses it (best effort), and builds the exception to throw.</summary>
    private static async Task<PeerRejectedException> RefuseAsync(FrameWriter writer, TransportOptions options, string address, string? nodeId,
        RejectReason reason, string message, CancellationToken token)
    {
        try
        {
            var payload = HandshakeCodec.EncodeReject(reason, message, options.ProtocolVersion, options.EffectiveMinSupportedVersion);
            await writer.WriteAsync(MessageType.Reject, payload, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
        return new PeerRejectedException(reason, $"refused {address} ({nodeId}): {message}")
        {
            RemoteAddress = address,
            RemoteNodeId = nodeId,
            Detail = message,
        };
    }

    private static async Task CloseGracefullyAsync(SslStream ssl, Socket socket, TransportOptions options)
    {
        try
        {
            await Bounded(ssl.ShutdownAsync(), options.Time).ConfigureAwait(false);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or TimeoutException or AuthenticationException)
        {
        }
    }
}

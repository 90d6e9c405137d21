using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;

namespace Duckton.Transport;

/// <summary>
/// An authenticated, handshaken connection to one peer: TLS 1.3 with mutual certificate authentication, both identities bound to
/// Ed25519 keys, frames in both directions.
/// </summary>
/// <remarks>
/// <para><see cref="SendAsync"/> may be called concurrently: frames never interleave. <see cref="ReceiveAsync"/> allows one reader at a time.</para>
/// <para>A connection is closed for good by: <see cref="DisposeAsync"/>; the peer closing (receive throws
/// <see cref="EndOfStreamException"/>); a malformed frame (<see cref="FrameException"/>); an incoming Reject frame
/// (<see cref="PeerRejectedException"/>); an I/O error; or a cancelled send or receive (the stream position is then unknown).
/// <see cref="IsOpen"/> turns false in each case.</para>
/// </remarks>
public sealed partial class PeerConnection : IAsyncDisposable
{
    private const int StateOpen = 0;
    private const int StateClosed = 1;

    private readonly Socket _socket;
    private readonly SslStream _ssl;
    private readonly FrameReader _reader;
    private readonly FrameWriter _writer;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    /// <summary>Frames held for the next send (<see cref="SendDeferredAsync"/>); changed under the send lock.</summary>
    private readonly List<(MessageType Type, ReadOnlyMemory<byte> Payload)> _deferred = [];
    private ITimer? _holdTimer;
    private readonly TransportOptions _options;
    private int _state;
    private int _disposed;

    private PeerConnection(Socket socket, SslStream ssl, FrameReader reader, TransportOptions options, string remoteAddress,
        CertificateCheck remote, PeerHello remoteHello, string negotiatedVersion, bool inbound, string localNodeId)
    {
        _socket = socket;
        _ssl = ssl;
        _reader = reader;
        _options = options;
        _reader.MaxFrameBytes = options.MaxFrameBytes;
        _reader.Budget = options.FrameMemory;
        _reader.BudgetKey = remote.NodeId!;
        var sendLimit = remoteHello.MaxFrameBytes > 0 ? Math.Min(options.MaxFrameBytes, remoteHello.MaxFrameBytes) : options.MaxFrameBytes;
        _writer = new FrameWriter(ssl, sendLimit);
        RemoteAddress = remoteAddress;
        RemoteNodeId = remote.NodeId!;
        RemotePublicKey = remote.PublicKey;
        RemoteHello = remoteHello;
        NegotiatedVersion = negotiatedVersion;
        _ = Duckton.Transport.ProtocolVersion.TryParse(negotiatedVersion, out _negotiated);
        IsInbound = inbound;
        LocalNodeId = localNodeId;
        TlsProtocol = ssl.SslProtocol;
        ApplicationProtocol = ssl.NegotiatedApplicationProtocol.ToString();
    }

    /// <summary>The peer's node id, derived from the Ed25519 key bound to its TLS certificate.</summary>
    public string RemoteNodeId { get; }

    /// <summary>The peer's 32-byte Ed25519 public key.</summary>
    public ReadOnlyMemory<byte> RemotePublicKey { get; }

    /// <summary>For outbound connections the address as dialled (<c>host:port</c>); for inbound ones the remote endpoint.</summary>
    public string RemoteAddress { get; }

    /// <summary>What the peer said in the handshake.</summary>
    public PeerHello RemoteHello { get; }

    /// <summary>The protocol version both sides speak: the lower of the two.</summary>
    public string NegotiatedVersion { get; }

    /// <summary>Whether the negotiated version is at least <paramref name="major"/>.<paramref name="minor"/> (what the peer may be sent).</summary>
    public bool SpeaksAtLeast(int major, int minor) => _negotiated.Major > major || (_negotiated.Major == major && _negotiated.Minor >= minor);

    private readonly ProtocolVersion _negotiated;

    /// <summary>True for a connection accepted by a <see cref="PeerListener"/>.</summary>
    public bool IsInbound { get; }

    /// <summary>This node's id.</summary>
    public string LocalNodeId { get; }

    /// <summary>The TLS version in use; always <see cref="SslProtocols.Tls13"/>.</summary>
    public SslProtocols TlsProtocol { get; }

    /// <summary>The negotiated ALPN protocol; always <c>duckdb-p2p/1</c>.</summary>
    public string ApplicationProtocol { get; }

    /// <summary>Largest payload <see cref="SendAsync"/> accepts: the lower of this node's and the peer's frame limits.</summary>
    public int MaxSendFrameBytes => _writer.MaxFrameBytes;

    /// <summary>False once the connection was closed by either side or broken.</summary>
    public bool IsOpen => Volatile.Read(ref _state) == StateOpen;

    /// <summary>Why the connection broke, when it did.</summary>
    public Exception? Fault { get; private set; }

    /// <summary>Closes the connection: TLS close_notify when no send is in flight, then the socket. Idempotent.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        var wasOpen = Interlocked.Exchange(ref _state, StateClosed) == StateOpen;
        if (wasOpen && await _sendLock.WaitAsync(0).ConfigureAwait(false))
        {
            try
            {
                await Bounded(_ssl.ShutdownAsync(), _options.Time).ConfigureAwait(false);
                _socket.Shutdown(SocketShutdown.Send);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or TimeoutException or InvalidOperationException or AuthenticationException)
            {
                // Best effort: the peer may already be gone.
            }
            finally
            {
                _sendLock.Release();
            }
        }
        Abort();
        _holdTimer?.Dispose();
        await _ssl.DisposeAsync().ConfigureAwait(false);
        ReleaseReaderIfIdle();
    }

    public override string ToString() => $"{(IsInbound ? "inbound" : "outbound")} {RemoteNodeId} at {RemoteAddress}";

    /// <summary>Whether bytes of the peer's next frame are already read and buffered (tests observe what came in one read).</summary>
    internal bool HasBufferedInput => _reader.BufferedBytes != 0;

    /// <summary>
    /// The type of the peer's next frame when it came with the frames received so far (its header is read and buffered),
    /// else null: what answers the current frame can then wait for the answer to that one.
    /// </summary>
    internal MessageType? NextBufferedFrameType => _reader.BufferedFrameType;

    /// <summary>True when the connection is open, nothing is in flight, and the peer has sent nothing (no stray frame, no close).</summary>
    internal bool IsIdleAndHealthy()
    {
        if (!IsOpen || Volatile.Read(ref _receiving) != ReceiveIdle || _sendLock.CurrentCount == 0 || _reader.BufferedBytes != 0 || HasDeferred)
        {
            return false;
        }
        try
        {
            // Readable while idle means the peer closed (EOF, close_notify) or sent something unsolicited: either way unusable.
            return !_socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Waits at most one second for a close step; a step that outlives the wait has its failure observed, never left to the finalizer.</summary>
    internal static async Task Bounded(Task step, TimeProvider time)
    {
        try
        {
            await step.WaitAsync(TimeSpan.FromSeconds(1), time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _ = step.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw;
        }
    }

    private void Break(Exception reason)
    {
        Fault ??= reason;
        Interlocked.Exchange(ref _state, StateClosed);
        Abort();
    }

    private void Abort()
    {
        try
        {
            _socket.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void ThrowIfClosed()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (!IsOpen)
        {
            throw new IOException($"the connection to {RemoteNodeId} at {RemoteAddress} is closed", Fault);
        }
    }
}

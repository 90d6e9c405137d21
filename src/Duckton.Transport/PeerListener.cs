using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Duckton.Transport;

/// <summary>
/// Accepts peer connections on a TCP endpoint. Each accepted socket gets its own task: TLS + handshake (bounded by
/// <see cref="TransportOptions.HandshakeTimeout"/>), then the connection handler; the connection is closed when the handler returns.
/// </summary>
/// <remarks>
/// At most <see cref="TransportOptions.MaxConcurrentHandshakes"/> handshakes run at once (later sockets wait in the kernel backlog),
/// and at most <see cref="TransportOptions.MaxHandshakesPerAddress"/> from one source address (a further socket from it is closed
/// at once, so silent sockets from one address cannot hold every slot); each is bounded by the inbound handshake timeout.
/// Past <see cref="TransportOptions.MaxInboundConnections"/> open connections in total, <see cref="TransportOptions.MaxConnectionsPerPeer"/>
/// for one identity or <see cref="TransportOptions.MaxConnectionsPerAddress"/> for one address, new peers are answered with
/// <see cref="RejectReason.Busy"/>. Handshake failures and handler exceptions are logged and never escape.
/// </remarks>
internal sealed class PeerListener : IAsyncDisposable
{
    private static readonly TimeSpan s_shutdownGrace = TimeSpan.FromSeconds(5);

    private readonly Socket _socket;
    private readonly NodeIdentity _identity;
    private readonly TransportOptions _options;
    private readonly Func<PeerConnection, CancellationToken, Task> _onConnection;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _handshakeSlots;
    private readonly ConcurrentDictionary<Task, byte> _tasks = new();
    private readonly ConcurrentDictionary<PeerConnection, byte> _connections = new();
    private readonly string _listenAddress;
    private readonly Lock _countGate = new();
    private readonly Dictionary<string, int> _handshakesByAddress = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _connectionsByAddress = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _connectionsByPeer = new(StringComparer.Ordinal);
    private long _refusedSockets;
    private Task _acceptLoop = Task.CompletedTask;
    private int _disposed;
    private int _open;

    private PeerListener(Socket socket, NodeIdentity identity, TransportOptions options, Func<PeerConnection, CancellationToken, Task> onConnection)
    {
        _socket = socket;
        _identity = identity;
        _options = options;
        _onConnection = onConnection;
        _handshakeSlots = new SemaphoreSlim(options.MaxConcurrentHandshakes, options.MaxConcurrentHandshakes);
        var bound = (IPEndPoint)socket.LocalEndPoint!;
        LocalEndPoint = bound.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(bound.Address.MapToIPv4(), bound.Port) : bound;
        _listenAddress = LocalEndPoint.ToString();
    }

    /// <summary>The bound endpoint (with the real port when started on port 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Connections currently handed to handlers.</summary>
    public int ActiveConnections => Volatile.Read(ref _open);

    /// <summary>Sockets closed before any TLS because their address already had its handshakes in flight.</summary>
    public long RefusedSockets => Interlocked.Read(ref _refusedSockets);

    /// <summary>Binds <paramref name="endpoint"/> and starts accepting.</summary>
    /// <param name="identity">This node.</param>
    /// <param name="endpoint">Where to listen; port 0 picks a free port.</param>
    /// <param name="options">Trust and limits.</param>
    /// <param name="onConnection">Runs once per handshaken connection, on its own task; the token fires when the listener stops.</param>
    /// <param name="cancellationToken">Cancels start-up only; stop the listener with <see cref="DisposeAsync"/>.</param>
    public static Task<PeerListener> StartAsync(NodeIdentity identity, IPEndPoint endpoint, TransportOptions options,
        Func<PeerConnection, CancellationToken, Task> onConnection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(onConnection);
        options.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        _ = identity.Tls; // create the certificate now, not inside the first handshake
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endpoint.AddressFamily == AddressFamily.InterNetworkV6 && endpoint.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }
            socket.Bind(endpoint);
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var listener = new PeerListener(socket, identity, options, onConnection);
        listener._acceptLoop = Task.Run(listener.AcceptLoopAsync, CancellationToken.None);
        options.Logger.Listening(listener._listenAddress, identity.NodeId);
        return Task.FromResult(listener);
    }

    /// <summary>Stops accepting, closes every connection, and waits (up to 5 s) for the handlers to return.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        foreach (var connection in _connections.Keys)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        try
        {
            await Task.WhenAll(_tasks.Keys).WaitAsync(s_shutdownGrace, _options.Time).ConfigureAwait(false);
            _stopping.Dispose();
        }
        catch (TimeoutException)
        {
            // Left running: a handler that ignores its token. Its connection is closed; the token source stays alive for it.
            _options.Logger.HandlersStuck(s_shutdownGrace.TotalSeconds);
        }
    }

    private async Task AcceptLoopAsync()
    {
        var token = _stopping.Token;
        while (!token.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                await _handshakeSlots.WaitAsync(token).ConfigureAwait(false);
                try
                {
                    accepted = await _socket.AcceptAsync(token).ConfigureAwait(false);
                }
                catch
                {
                    _handshakeSlots.Release();
                    throw;
                }
            }
            catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.TooManyOpenSockets)
            {
                _options.Logger.AcceptFailed(_listenAddress, ex);
                if (ex.SocketErrorCode == SocketError.TooManyOpenSockets)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(100), _options.Time, CancellationToken.None).ConfigureAwait(false);
                }
                continue;
            }
            catch (Exception ex)
            {
                _options.Logger.AcceptFailed(_listenAddress, ex);
                return;
            }
            var address = AddressKey(accepted);
            if (!TryCount(_handshakesByAddress, address, _options.MaxHandshakesPerAddress))
            {
                // Closed before TLS: no CPU spent, and the global slot goes straight back.
                Interlocked.Increment(ref _refusedSockets);
                _handshakeSlots.Release();
                _options.Logger.HandshakeRefused(address, _options.MaxHandshakesPerAddress);
                accepted.Dispose();
                continue;
            }
            accepted.NoDelay = true;
            Track(Task.Run(() => ServeAsync(accepted, address), CancellationToken.None));
        }
    }

    private void Track(Task task)
    {
        _tasks.TryAdd(task, 0);
        _ = task.ContinueWith(static (t, state) => ((ConcurrentDictionary<Task, byte>)state!).TryRemove(t, out _), _tasks,
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task ServeAsync(Socket socket, string address)
    {
        var token = _stopping.Token;
        var remote = "unknown";
        PeerConnection? connection;
        string? admittedPeer = null;
        try
        {
            remote = socket.RemoteEndPoint is IPEndPoint ep ? PeerAddress.Format(ep) : remote;
            connection = await PeerConnection.AcceptCoreAsync(socket, _identity, _options, _listenAddress, peer =>
            {
                var refusal = Admit(peer, address);
                admittedPeer = refusal is null ? peer : null;
                return refusal;
            }, token).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (!token.IsCancellationRequested)
            {
                _options.Logger.InboundHandshakeFailed(remote, ex.Message, ex);
            }
            socket.Dispose();
            connection = null;
        }
        finally
        {
            Uncount(_handshakesByAddress, address);
            _handshakeSlots.Release();
        }
        if (connection is null)
        {
            if (admittedPeer is not null)
            {
                Unadmit(admittedPeer, address);
            }
            return;
        }

        _connections.TryAdd(connection, 0);
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }
            await _onConnection(connection, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (token.IsCancellationRequested && ex is OperationCanceledException or ObjectDisposedException or IOException)
        {
            // Shutting down.
        }
        catch (Exception ex)
        {
            _options.Logger.HandlerFailed(connection.RemoteNodeId, connection.RemoteAddress, ex);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            Unadmit(connection.RemoteNodeId, address);
            try
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                _options.Logger.HandlerFailed(connection.RemoteNodeId, connection.RemoteAddress, ex);
            }
        }
    }

    /// <summary>Counts a handshaken peer against the total, its identity's and its address's limits, or says why not (nothing counted).</summary>
    private (RejectReason Reason, string Message)? Admit(string peer, string address)
    {
        lock (_countGate)
        {
            if (_open >= _options.MaxInboundConnections)
            {
                return (RejectReason.Busy, $"this node is at its limit of {_options.MaxInboundConnections} inbound connections; try again later");
            }
            if (_connectionsByPeer.GetValueOrDefault(peer) >= _options.MaxConnectionsPerPeer)
            {
                return (RejectReason.Busy, $"this peer already holds {_options.MaxConnectionsPerPeer} connections to this node (network.max_connections_per_peer); reuse one");
            }
            if (_connectionsByAddress.GetValueOrDefault(address) >= _options.MaxConnectionsPerAddress)
            {
                return (RejectReason.Busy, $"address {address} already holds {_options.MaxConnectionsPerAddress} connections to this node (network.max_connections_per_address)");
            }
            _open++;
            _connectionsByPeer[peer] = _connectionsByPeer.GetValueOrDefault(peer) + 1;
            _connectionsByAddress[address] = _connectionsByAddress.GetValueOrDefault(address) + 1;
            return null;
        }
    }

    private void Unadmit(string peer, string address)
    {
        lock (_countGate)
        {
            _open--;
            Decrement(_connectionsByPeer, peer);
            Decrement(_connectionsByAddress, address);
        }
    }

    private bool TryCount(Dictionary<string, int> counts, string key, int limit)
    {
        lock (_countGate)
        {
            var n = counts.GetValueOrDefault(key);
            if (n >= limit)
            {
                return false;
            }
            counts[key] = n + 1;
            return true;
        }
    }

    private void Uncount(Dictionary<string, int> counts, string key)
    {
        lock (_countGate)
        {
            Decrement(counts, key);
        }
    }

    private static void Decrement(Dictionary<string, int> counts, string key)
    {
        var n = counts.GetValueOrDefault(key) - 1;
        if (n <= 0)
        {
            counts.Remove(key);
        }
        else
        {
            counts[key] = n;
        }
    }

    /// <summary>The source a socket is counted under: its IPv4 address, or the /64 of an IPv6 one (one subscriber's usual allocation).</summary>
    internal static string AddressKey(Socket socket)
    {
        try
        {
            if (socket.RemoteEndPoint is not IPEndPoint ep)
            {
                return "unknown";
            }
            var ip = ep.Address.IsIPv4MappedToIPv6 ? ep.Address.MapToIPv4() : ep.Address;
            if (ip.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return ip.ToString();
            }
            var bytes = ip.GetAddressBytes();
            bytes.AsSpan(8).Clear();
            return new IPAddress(bytes) + "/64";
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return "unknown";
        }
    }
}

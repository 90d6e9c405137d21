namespace Duckton.Transport;

/// <summary>
/// Reuses outbound connections per address. <see cref="RentAsync"/> hands out an idle healthy connection when there is one, else
/// connects; <see cref="Return"/> keeps up to <c>maxIdlePerPeer</c> idle connections per address for
/// <see cref="TransportOptions.IdleTimeout"/>.
/// </summary>
/// <remarks>
/// Return a connection only after its exchange is complete (every expected frame read); a connection with anything unread, a
/// pending operation, or a closed peer is disposed instead of kept. A connection is checked again when rented: idle peers that
/// closed meanwhile are dropped and another is used or dialled.
/// </remarks>
public sealed class ConnectionPool : IAsyncDisposable
{
    private readonly NodeIdentity _identity;
    private readonly TransportOptions _options;
    private readonly int _maxIdlePerPeer;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Stack<(PeerConnection Connection, long ReturnedAt)>> _idle = new(StringComparer.Ordinal);
    private bool _disposed;

    public ConnectionPool(NodeIdentity identity, TransportOptions options, int maxIdlePerPeer = 4)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(maxIdlePerPeer);
        options.Validate();
        _identity = identity;
        _options = options;
        _maxIdlePerPeer = maxIdlePerPeer;
    }

    /// <summary>Idle connections held right now, over all peers.</summary>
    public int IdleCount
    {
        get
        {
            lock (_lock)
            {
                return _idle.Values.Sum(s => s.Count);
            }
        }
    }

    /// <summary>Connections opened by this pool (reuses do not count).</summary>
    public long ConnectionsOpened => Interlocked.Read(ref _opened);

    private long _opened;

    /// <summary>An open connection to <paramref name="address"/>: an idle one when healthy, else a new one.</summary>
    /// <exception cref="PeerRejectedException">A new connection was refused.</exception>
    public async Task<PeerConnection> RentAsync(string address, string? expectedNodeId, CancellationToken ct = default)
    {
        var key = PeerAddress.Normalize(address);
        while (TakeIdle(key, expectedNodeId) is { } idle)
        {
            if (idle.IsIdleAndHealthy())
            {
                return idle;
            }
            await idle.DisposeAsync().ConfigureAwait(false);
        }
        var connection = await PeerConnector.ConnectAsync(_identity, address, expectedNodeId, _options, ct).ConfigureAwait(false);
        Interlocked.Increment(ref _opened);
        return connection;
    }

    /// <summary>Gives a connection back. Healthy idle connections are kept for reuse; others are closed.</summary>
    public void Return(PeerConnection c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (!c.IsInbound && c.IsIdleAndHealthy())
        {
            var key = PeerAddress.Normalize(c.RemoteAddress);
            lock (_lock)
            {
                if (!_disposed)
                {
                    PruneLocked();
                    if (!_idle.TryGetValue(key, out var stack))
                    {
                        _idle[key] = stack = new Stack<(PeerConnection, long)>();
                    }
                    if (stack.Count < _maxIdlePerPeer)
                    {
                        stack.Push((c, _options.Time.GetTimestamp()));
                        return;
                    }
                }
            }
        }
        CloseInBackground(c);
    }

    /// <summary>Closes every idle connection. Rented connections stay with their renters (returning them later closes them).</summary>
    public async ValueTask DisposeAsync()
    {
        List<PeerConnection> all;
        lock (_lock)
        {
            _disposed = true;
            all = _idle.Values.SelectMany(s => s.Select(e => e.Connection)).ToList();
            _idle.Clear();
        }
        foreach (var c in all)
        {
            await c.DisposeAsync().ConfigureAwait(false);
        }
    }

    private PeerConnection? TakeIdle(string key, string? expectedNodeId)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            PruneLocked();
            if (!_idle.TryGetValue(key, out var stack) || stack.Count == 0)
            {
                return null;
            }
            if (expectedNodeId is null)
            {
                return stack.Pop().Connection;
            }
            // Keep connections to other ids (an address may change hands); take the newest matching one.
            var kept = new Stack<(PeerConnection, long)>();
            PeerConnection? found = null;
            while (stack.Count > 0)
            {
                var entry = stack.Pop();
                if (found is null && string.Equals(entry.Connection.RemoteNodeId, expectedNodeId, StringComparison.Ordinal))
                {
                    found = entry.Connection;
                    continue;
                }
                kept.Push(entry);
            }
            while (kept.Count > 0)
            {
                stack.Push(kept.Pop());
            }
            return found;
        }
    }

    private void PruneLocked()
    {
        foreach (var stack in _idle.Values)
        {
            if (stack.Count == 0)
            {
                continue;
            }
            var entries = stack.ToArray(); // newest first
            stack.Clear();
            for (var i = entries.Length - 1; i >= 0; i--)
            {
                if (_options.Time.GetElapsedTime(entries[i].ReturnedAt) < _options.IdleTimeout && entries[i].Connection.IsOpen)
                {
                    stack.Push(entries[i]);
                }
                else
                {
                    CloseInBackground(entries[i].Connection);
                }
            }
        }
    }

    private static void CloseInBackground(PeerConnection c) =>
        _ = Task.Run(async () =>
        {
            try
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
            {
            }
        });
}

namespace Duckton.Transport;

/// <summary>
/// Reuses outbound connections per address. <see cref="RentAsync"/> hands out an idle healthy connection when there is one, else
/// connects; <see cref="Return"/> keeps up to <c>maxIdlePerPeer</c> idle connections per address, and
/// <see cref="TransportOptions.MaxPooledConnections"/> over all addresses, for <see cref="TransportOptions.IdleTimeout"/>.
/// </summary>
/// <remarks>
/// When no idle connection is at hand, <see cref="RentAsync"/> dials and at the same time waits for one being returned (a
/// connection whose previous exchange is just finishing, e.g. a cancelled job's acknowledgement): whichever comes first is used,
/// and a dial that lost the race still completes and joins the idle set, so the pool warms itself. <see cref="WarmAsync"/>
/// pre-connects. Return a connection only after its exchange is complete (every expected frame read); a connection with anything unread, a
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
    private readonly Dictionary<string, List<Waiter>> _waiters = new(StringComparer.Ordinal);
    private bool _disposed;

    // Idle entries over all peers, kept as a count so that a rent or a return costs the same however many peers the
    // pool holds; expired entries of other peers are swept at most once a second (a rent or return checks its own peer's).
    private int _idleTotal;
    private long _lastSweep;
    private static readonly TimeSpan s_sweepInterval = TimeSpan.FromSeconds(1);

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
                return _idleTotal;
            }
        }
    }

    /// <summary>Idle connections held right now to <paramref name="address"/> (expired ones not yet swept included).</summary>
    public int IdleTo(string address)
    {
        var key = PeerAddress.Normalize(address);
        lock (_lock)
        {
            return _idle.TryGetValue(key, out var stack) ? stack.Count : 0;
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
        var dial = DialAsync(address, expectedNodeId, ct);
        var waiter = new Waiter(expectedNodeId);
        lock (_lock)
        {
            if (!_waiters.TryGetValue(key, out var list))
            {
                _waiters[key] = list = [];
            }
            list.Add(waiter);
        }
        await Task.WhenAny(dial, waiter.Returned.Task).ConfigureAwait(false);
        RemoveWaiter(key, waiter);
        if (waiter.Returned.TrySetCanceled(CancellationToken.None))
        {
            return await dial.ConfigureAwait(false); // nothing was handed over: the dial's connection (or its error)
        }
        // A returned connection was handed over: it is used, and the dial completes in the background and joins the idle set.
        _ = dial.ContinueWith(static (t, state) =>
        {
            if (t.IsCompletedSuccessfully)
            {
                ((ConnectionPool)state!).Return(t.Result);
            }
            else
            {
                _ = t.Exception; // observed
            }
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return await waiter.Returned.Task.ConfigureAwait(false);
    }

    private async Task<PeerConnection> DialAsync(string address, string? expectedNodeId, CancellationToken ct)
    {
        var connection = await PeerConnector.ConnectAsync(_identity, address, expectedNodeId, _options, ct).ConfigureAwait(false);
        Interlocked.Increment(ref _opened);
        return connection;
    }

    /// <summary>
    /// Pre-connects: dials until <paramref name="minIdle"/> idle connections to <paramref name="address"/> (with that node id, when
    /// given) are pooled, so the next exchanges pay no handshake. Failures are swallowed (the next rent reports them).
    /// </summary>
    public async Task WarmAsync(string address, string? expectedNodeId, int minIdle, CancellationToken ct = default)
    {
        var key = PeerAddress.Normalize(address);
        int have;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }
            have = _idle.TryGetValue(key, out var stack)
                ? stack.Count(e => expectedNodeId is null || string.Equals(e.Connection.RemoteNodeId, expectedNodeId, StringComparison.Ordinal))
                : 0;
        }
        var missing = Math.Min(minIdle, _maxIdlePerPeer) - have;
        if (missing <= 0)
        {
            return;
        }
        var dials = new Task[missing];
        for (var i = 0; i < missing; i++)
        {
            dials[i] = WarmOneAsync(address, expectedNodeId, ct);
        }
        await Task.WhenAll(dials).ConfigureAwait(false);
    }

    private async Task WarmOneAsync(string address, string? expectedNodeId, CancellationToken ct)
    {
        try
        {
            Return(await DialAsync(address, expectedNodeId, ct).ConfigureAwait(false));
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException or PeerRejectedException
            or TimeoutException or System.Security.Authentication.AuthenticationException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private void RemoveWaiter(string key, Waiter waiter)
    {
        lock (_lock)
        {
            if (_waiters.TryGetValue(key, out var list))
            {
                list.Remove(waiter);
                if (list.Count == 0)
                {
                    _waiters.Remove(key);
                }
            }
        }
    }

    private sealed class Waiter(string? expectedNodeId)
    {
        public string? ExpectedNodeId { get; } = expectedNodeId;
        public TaskCompletionSource<PeerConnection> Returned { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
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
                if (!_disposed && _waiters.TryGetValue(key, out var waiting))
                {
                    foreach (var w in waiting)
                    {
                        if ((w.ExpectedNodeId is null || string.Equals(w.ExpectedNodeId, c.RemoteNodeId, StringComparison.Ordinal)) && w.Returned.TrySetResult(c))
                        {
                            waiting.Remove(w);
                            if (waiting.Count == 0)
                            {
                                _waiters.Remove(key);
                            }
                            return;
                        }
                    }
                }
                if (!_disposed)
                {
                    SweepIfDueLocked();
                    if (!_idle.TryGetValue(key, out var stack))
                    {
                        _idle[key] = stack = new Stack<(PeerConnection, long)>();
                    }
                    ExpireLocked(stack);
                    // The total cap (limits.connection_pool_size) bounds the sockets and TLS sessions a node with many peers keeps.
                    if (stack.Count < _maxIdlePerPeer && _idleTotal < _options.MaxPooledConnections)
                    {
                        stack.Push((c, _options.Time.GetTimestamp()));
                        _idleTotal++;
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
            _idleTotal = 0;
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
            SweepIfDueLocked();
            if (!_idle.TryGetValue(key, out var stack))
            {
                return null;
            }
            ExpireLocked(stack);
            if (stack.Count == 0)
            {
                return null;
            }
            if (expectedNodeId is null)
            {
                _idleTotal--;
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
            if (found is not null)
            {
                _idleTotal--;
            }
            return found;
        }
    }

    /// <summary>Drops every peer's expired or closed idle connections, at most once per <see cref="s_sweepInterval"/>.</summary>
    private void SweepIfDueLocked()
    {
        var now = _options.Time.GetTimestamp();
        if (_lastSweep != 0 && _options.Time.GetElapsedTime(_lastSweep, now) < s_sweepInterval)
        {
            return;
        }
        _lastSweep = now;
        foreach (var stack in _idle.Values)
        {
            ExpireLocked(stack);
        }
    }

    private bool Usable((PeerConnection Connection, long ReturnedAt) e) =>
        _options.Time.GetElapsedTime(e.ReturnedAt) < _options.IdleTimeout && e.Connection.IsOpen;

    /// <summary>Closes the idle connections of one peer that outlived the idle timeout or whose peer closed them.</summary>
    private void ExpireLocked(Stack<(PeerConnection Connection, long ReturnedAt)> stack)
    {
        var expired = false;
        foreach (var e in stack)
        {
            expired |= !Usable(e);
        }
        if (!expired)
        {
            return;
        }
        var entries = stack.ToArray(); // newest first
        stack.Clear();
        for (var i = entries.Length - 1; i >= 0; i--)
        {
            if (Usable(entries[i]))
            {
                stack.Push(entries[i]);
            }
            else
            {
                _idleTotal--;
                CloseInBackground(entries[i].Connection);
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

using System.Collections.Concurrent;

namespace Duckton.Transport;

/// <summary>Keeps idle, open connections per (address, node id) for reuse.</summary>
public sealed class ConnectionPool : IAsyncDisposable
{
    private readonly NodeIdentity _identity;
    private readonly TransportOptions _options;
    private readonly int _maxIdlePerPeer;
    private readonly ConcurrentDictionary<string, ConcurrentBag<PeerConnection>> _idle = new(StringComparer.Ordinal);
    private volatile bool _disposed;

    public ConnectionPool(NodeIdentity identity, TransportOptions options, int maxIdlePerPeer = 4)
    {
        _identity = identity;
        _options = options;
        _maxIdlePerPeer = maxIdlePerPeer;
    }

    public async Task<PeerConnection> RentAsync(string address, string? expectedNodeId, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var key = address + "|" + (expectedNodeId ?? "");
        if (_idle.TryGetValue(key, out var bag))
        {
            while (bag.TryTake(out var c))
            {
                if (c.IsOpen)
                {
                    return c;
                }
                await c.DisposeAsync().ConfigureAwait(false);
            }
        }
        var fresh = await PeerConnector.ConnectAsync(_identity, address, expectedNodeId, _options, cancellationToken).ConfigureAwait(false);
        fresh.PoolKey = key;
        return fresh;
    }

    public void Return(PeerConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (_disposed || !connection.IsOpen || connection.PoolKey.Length == 0)
        {
            _ = connection.DisposeAsync();
            return;
        }
        var bag = _idle.GetOrAdd(connection.PoolKey, _ => []);
        if (bag.Count >= _maxIdlePerPeer)
        {
            _ = connection.DisposeAsync();
            return;
        }
        bag.Add(connection);
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        foreach (var bag in _idle.Values)
        {
            while (bag.TryTake(out var c))
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

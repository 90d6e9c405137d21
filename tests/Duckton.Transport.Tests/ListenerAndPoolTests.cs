namespace Duckton.Transport.Tests;

public sealed class ListenerAndPoolTests
{
    [Fact]
    public async Task The_pool_reuses_a_returned_connection()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var accepted = 0;
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), (c, ct) =>
        {
            Interlocked.Increment(ref accepted);
            return Loopback.Echo(c, ct);
        });
        await using var pool = new ConnectionPool(client, Loopback.Options());
        var address = Loopback.Address(listener);

        var first = await pool.RentAsync(address, server.NodeId);
        await first.SendAsync(MessageType.Ping, "1"u8.ToArray());
        Assert.Equal("1"u8.ToArray(), (await first.ReceiveAsync()).Payload.ToArray());
        pool.Return(first);
        Assert.Equal(1, pool.IdleCount);

        var second = await pool.RentAsync(address, server.NodeId);
        Assert.Same(first, second);
        await second.SendAsync(MessageType.Ping, "2"u8.ToArray());
        Assert.Equal("2"u8.ToArray(), (await second.ReceiveAsync()).Payload.ToArray());

        // Two at once: the second renter gets a new connection.
        var third = await pool.RentAsync(address, server.NodeId);
        Assert.NotSame(second, third);
        pool.Return(second);
        pool.Return(third);
        Assert.Equal(2, pool.IdleCount);
        Assert.Equal(2, pool.ConnectionsOpened);
        Assert.True(Volatile.Read(ref accepted) <= 2);
    }

    [Fact]
    public async Task The_pool_drops_connections_the_peer_closed_and_ones_with_unread_data()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var closeNow = new TaskCompletionSource();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), async (c, ct) =>
        {
            var frame = await c.ReceiveAsync(ct);
            if (frame.Type == MessageType.Cancel)
            {
                await closeNow.Task.WaitAsync(ct);
                return; // the listener closes the connection
            }
            await c.SendAsync(MessageType.Pong, ReadOnlyMemory<byte>.Empty, ct);
            await c.SendAsync(MessageType.Pong, ReadOnlyMemory<byte>.Empty, ct); // one more than asked for
            await Loopback.Echo(c, ct);
        });
        await using var pool = new ConnectionPool(client, Loopback.Options());
        var address = Loopback.Address(listener);

        var closing = await pool.RentAsync(address, null);
        await closing.SendAsync(MessageType.Cancel, ReadOnlyMemory<byte>.Empty);
        pool.Return(closing);
        closeNow.SetResult();
        await Task.Delay(200);
        var fresh = await pool.RentAsync(address, null);
        Assert.NotSame(closing, fresh);
        Assert.False(closing.IsOpen);

        await fresh.SendAsync(MessageType.Ping, ReadOnlyMemory<byte>.Empty);
        await fresh.ReceiveAsync();
        await Task.Delay(200); // the stray second Pong arrives
        pool.Return(fresh);
        Assert.Equal(0, pool.IdleCount);
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(1, 1)]
    [InlineData(0, 0)]
    public async Task The_pool_keeps_at_most_MaxPooledConnections_idle_over_all_peers(int cap, int kept)
    {
        // limits.connection_pool_size: idle connections to three different peers, but only `cap` of them stay open.
        using var client = NodeIdentity.Create();
        var servers = Enumerable.Range(0, 3).Select(_ => NodeIdentity.Create()).ToList();
        var listeners = new List<PeerListener>();
        try
        {
            foreach (var server in servers)
            {
                listeners.Add(await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo));
            }
            await using var pool = new ConnectionPool(client, Loopback.Options() with { MaxPooledConnections = cap });
            var rented = new List<PeerConnection>();
            for (var i = 0; i < 3; i++)
            {
                rented.Add(await pool.RentAsync(Loopback.Address(listeners[i]), servers[i].NodeId));
            }
            foreach (var c in rented)
            {
                pool.Return(c);
            }
            Assert.Equal(kept, pool.IdleCount);
            // The connections past the cap are closed, not merely forgotten.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (rented.Count(c => c.IsOpen) > kept && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            Assert.Equal(kept, rented.Count(c => c.IsOpen));
            Assert.All(rented.Take(kept), c => Assert.True(c.IsOpen));
        }
        finally
        {
            foreach (var l in listeners)
            {
                await l.DisposeAsync();
            }
            servers.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Idle_connections_expire_after_the_idle_timeout()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var time = new ManualTime();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        await using var pool = new ConnectionPool(client, Loopback.Options() with { Time = time, IdleTimeout = TimeSpan.FromSeconds(30) });
        var c = await pool.RentAsync(Loopback.Address(listener), null);
        pool.Return(c);
        time.Advance(TimeSpan.FromSeconds(31));
        var next = await pool.RentAsync(Loopback.Address(listener), null);
        Assert.NotSame(c, next);
        await next.DisposeAsync();
    }

    [Fact]
    public async Task Expired_idle_connections_of_every_peer_leave_the_count_and_the_cap()
    {
        // The pool counts its idle connections instead of adding up every peer's on each rent and return: expiries,
        // takes and returns must keep that count exact, or the total cap would refuse (or admit) the wrong connections.
        using var client = NodeIdentity.Create();
        var servers = Enumerable.Range(0, 3).Select(_ => NodeIdentity.Create()).ToList();
        var listeners = new List<PeerListener>();
        var time = new ManualTime();
        try
        {
            foreach (var server in servers)
            {
                listeners.Add(await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo));
            }
            await using var pool = new ConnectionPool(client, Loopback.Options() with { Time = time, IdleTimeout = TimeSpan.FromSeconds(30), MaxPooledConnections = 3 });
            var first = new List<PeerConnection>();
            for (var i = 0; i < 3; i++)
            {
                first.Add(await pool.RentAsync(Loopback.Address(listeners[i]), servers[i].NodeId));
            }
            first.ForEach(pool.Return);
            Assert.Equal(3, pool.IdleCount);

            // All three expire; the next rent (of one peer) sweeps the others too and dials anew.
            time.Advance(TimeSpan.FromSeconds(31));
            var fresh = await pool.RentAsync(Loopback.Address(listeners[0]), servers[0].NodeId);
            Assert.DoesNotContain(fresh, first);
            Assert.Equal(0, pool.IdleCount);

            // The cap counts only live idle connections: three fit again, a fourth is closed.
            pool.Return(fresh);
            var more = new List<PeerConnection>();
            for (var i = 1; i < 3; i++)
            {
                more.Add(await pool.RentAsync(Loopback.Address(listeners[i]), servers[i].NodeId));
            }
            var extra = await pool.RentAsync(Loopback.Address(listeners[1]), servers[1].NodeId);
            more.ForEach(pool.Return);
            Assert.Equal(3, pool.IdleCount);
            pool.Return(extra);
            Assert.Equal(3, pool.IdleCount);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (extra.IsOpen && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }
            Assert.False(extra.IsOpen);
        }
        finally
        {
            foreach (var l in listeners)
            {
                await l.DisposeAsync();
            }
            servers.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Handler_exceptions_are_logged_and_the_listener_keeps_serving()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var log = new ListLogger();
        var calls = 0;
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(log), async (c, ct) =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                throw new InvalidOperationException("handler bug");
            }
            await Loopback.Echo(c, ct);
        });
        await using (var first = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options()))
        {
            await Assert.ThrowsAnyAsync<IOException>(async () => await first.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        }
        var entry = await log.WaitForAsync(e => e.Id.Id == 1103);
        Assert.Equal("handler bug", entry.Exception?.Message);

        await using var second = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options());
        await second.SendAsync(MessageType.Ping, "x"u8.ToArray());
        Assert.Equal("x"u8.ToArray(), (await second.ReceiveAsync()).Payload.ToArray());
    }

    [Fact]
    public async Task Disposing_the_listener_closes_its_connections_and_stops_accepting()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        var address = Loopback.Address(listener);
        await using var connection = await PeerConnector.ConnectAsync(client, address, null, Loopback.Options());
        await connection.SendAsync(MessageType.Ping, ReadOnlyMemory<byte>.Empty);
        await connection.ReceiveAsync();
        Assert.Equal(1, listener.ActiveConnections);

        await listener.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAnyAsync<IOException>(async () => await connection.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await Assert.ThrowsAnyAsync<IOException>(() => PeerConnector.ConnectAsync(client, address, null, Loopback.Options()));
    }

    [Fact]
    public async Task Many_clients_handshake_concurrently()
    {
        using var server = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        var clients = Enumerable.Range(0, 16).Select(_ => NodeIdentity.Create()).ToArray();
        try
        {
            var connections = await Task.WhenAll(clients.Select(c => PeerConnector.ConnectAsync(c, Loopback.Address(listener), server.NodeId, Loopback.Options())));
            foreach (var (connection, i) in connections.Select((c, i) => (c, i)))
            {
                await connection.SendAsync(MessageType.Ping, new[] { (byte)i });
                Assert.Equal(i, (await connection.ReceiveAsync()).Payload.Span[0]);
                await connection.DisposeAsync();
            }
        }
        finally
        {
            foreach (var c in clients)
            {
                c.Dispose();
            }
        }
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}

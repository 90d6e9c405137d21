namespace Duckton.Transport.Tests;

public sealed class PoolWarmTests
{
    [Fact]
    public async Task Warming_pre_connects_so_rents_pay_no_handshake()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        await using var pool = new ConnectionPool(client, Loopback.Options());
        var address = Loopback.Address(listener);

        await pool.WarmAsync(address, server.NodeId, 2);
        Assert.Equal(2, pool.IdleCount);
        await pool.WarmAsync(address, server.NodeId, 2); // already warm: no dial
        Assert.Equal(2, pool.ConnectionsOpened);

        var a = await pool.RentAsync(address, server.NodeId);
        var b = await pool.RentAsync(address, server.NodeId);
        Assert.NotSame(a, b);
        Assert.Equal(2, pool.ConnectionsOpened);
        pool.Return(a);
        pool.Return(b);
    }

    [Fact]
    public async Task A_connection_returned_while_a_rent_dials_serves_that_rent_and_the_dial_joins_the_pool()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        await using var pool = new ConnectionPool(client, Loopback.Options());
        var address = Loopback.Address(listener);

        var busy = await pool.RentAsync(address, server.NodeId);
        var renting = pool.RentAsync(address, server.NodeId); // nothing idle: dials, and waits for a return
        pool.Return(busy);
        var got = await renting;
        Assert.Same(busy, got);
        await got.SendAsync(MessageType.Ping, "x"u8.ToArray());
        Assert.Equal("x"u8.ToArray(), (await got.ReceiveAsync()).Payload.ToArray());

        // The dial that lost the race completes in the background and is pooled, warm for the next rent.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (pool.IdleCount < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
        Assert.Equal(1, pool.IdleCount);
        Assert.Equal(2, pool.ConnectionsOpened);
        pool.Return(got);
    }
}

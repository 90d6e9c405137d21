using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Duckton.Core.Configuration;

namespace Duckton.Transport.Tests;

/// <summary>
/// The listener's per-peer and per-address budgets and the shared frame memory budget, over real loopback TLS: what one
/// peer may hold, and what happens to the connection that asks for more.
/// </summary>
public sealed class BudgetTests
{
    private static async Task<PeerRejectedException> RefusedAsync(NodeIdentity who, PeerListener listener) =>
        await Assert.ThrowsAsync<PeerRejectedException>(() => PeerConnector.ConnectAsync(who, Loopback.Address(listener), null, Loopback.Options()));

    [Fact]
    public async Task One_identity_gets_at_most_its_connections_and_others_still_connect()
    {
        using var server = NodeIdentity.Create();
        using var hog = NodeIdentity.Create();
        using var other = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options() with { MaxConnectionsPerPeer = 2 }, Loopback.Echo);
        await using var a = await PeerConnector.ConnectAsync(hog, Loopback.Address(listener), null, Loopback.Options());
        await using var b = await PeerConnector.ConnectAsync(hog, Loopback.Address(listener), null, Loopback.Options());
        var ex = await RefusedAsync(hog, listener);
        Assert.Equal(RejectReason.Busy, ex.Reason);
        Assert.Contains("network.max_connections_per_peer", ex.Detail, StringComparison.Ordinal);
        await using var fine = await PeerConnector.ConnectAsync(other, Loopback.Address(listener), null, Loopback.Options());
        Assert.True(fine.IsOpen);

        // A closed connection gives its place back.
        await a.DisposeAsync();
        var deadline = Stopwatch.StartNew();
        while (listener.ActiveConnections > 2 && deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        await using var again = await PeerConnector.ConnectAsync(hog, Loopback.Address(listener), null, Loopback.Options());
        Assert.True(again.IsOpen);
    }

    [Fact]
    public async Task Throwaway_identities_from_one_address_share_its_connection_limit()
    {
        using var server = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options() with { MaxConnectionsPerAddress = 3 }, Loopback.Echo);
        var ids = Enumerable.Range(0, 4).Select(_ => NodeIdentity.Create()).ToList();
        var open = new List<PeerConnection>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                open.Add(await PeerConnector.ConnectAsync(ids[i], Loopback.Address(listener), null, Loopback.Options()));
            }
            var ex = await RefusedAsync(ids[3], listener);
            Assert.Equal(RejectReason.Busy, ex.Reason);
            Assert.Contains("network.max_connections_per_address", ex.Detail, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var c in open)
            {
                await c.DisposeAsync();
            }
            ids.ForEach(i => i.Dispose());
        }
    }

    [Fact]
    public async Task Silent_sockets_from_one_address_hold_at_most_its_handshakes_and_are_closed_after_the_inbound_timeout()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var options = Loopback.Options() with
        {
            MaxHandshakesPerAddress = 4,
            InboundHandshakeTimeout = TimeSpan.FromMilliseconds(1500),
            HandshakeTimeout = TimeSpan.FromSeconds(30), // outbound bound only: the inbound one above wins
        };
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, options, Loopback.Echo);
        var sockets = new List<Socket>();
        try
        {
            // Each socket's time is measured from its own connect: the listener's timer starts when it accepts, never
            // earlier, so a loaded machine that is slow to connect all ten cannot make a held socket look refused.
            var closing = new List<Task<TimeSpan>>();
            for (var i = 0; i < 10; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                s.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
                await s.ConnectAsync(listener.LocalEndPoint);
                sockets.Add(s);
                closing.Add(ClosedAfterAsync(s, Stopwatch.StartNew()));
            }
            // A legitimate peer from another address is not held up by them.
            var sw = Stopwatch.StartNew();
            await using (var ok = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options()))
            {
                Assert.True(ok.IsOpen);
            }
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10));
            var closedAt = await Task.WhenAll(closing);
            Assert.Equal(6, listener.RefusedSockets);
            // Six closed at once (before TLS), four after the 1.5 s inbound handshake timeout, none after the 30 s one.
            Assert.Equal(6, closedAt.Count(t => t < TimeSpan.FromMilliseconds(1000)));
            Assert.Equal(4, closedAt.Count(t => t >= TimeSpan.FromMilliseconds(1200))); // timers and continuations are coarse: a margin below 1.5 s
            Assert.All(closedAt, t => Assert.True(t < TimeSpan.FromSeconds(15), $"a silent socket stayed open {t}"));
        }
        finally
        {
            sockets.ForEach(s => s.Dispose());
        }

        static async Task<TimeSpan> ClosedAfterAsync(Socket s, Stopwatch sinceConnect)
        {
            try
            {
                await s.ReceiveAsync(new byte[16].AsMemory(), SocketFlags.None).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (SocketException)
            {
            }
            return sinceConnect.Elapsed;
        }
    }

    [Fact]
    public async Task Big_frames_on_many_connections_wait_for_the_shared_frame_memory_budget()
    {
        using var server = NodeIdentity.Create();
        var budget = new FrameMemoryBudget(2 << 20, 2 << 20, TimeSpan.FromSeconds(20));
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options() with { FrameMemory = budget }, Loopback.Echo);
        var ids = Enumerable.Range(0, 8).Select(_ => NodeIdentity.Create()).ToList();
        try
        {
            var payload = new byte[1 << 20];
            Random.Shared.NextBytes(payload);
            var echoed = await Task.WhenAll(ids.Select(async id =>
            {
                await using var c = await PeerConnector.ConnectAsync(id, Loopback.Address(listener), null, Loopback.Options());
                await c.SendAsync(MessageType.Ping, payload);
                var f = await c.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                return f.Payload.Span.SequenceEqual(payload);
            }));
            Assert.All(echoed, Assert.True);
            // Eight 1 MiB frames, never more than two being read at once; all reservations returned.
            Assert.InRange(budget.PeakInUse, 1 << 20, 2 << 20);
            Assert.Equal(0, budget.InUse);
        }
        finally
        {
            ids.ForEach(i => i.Dispose());
        }
    }

    [Fact]
    public async Task A_peer_over_its_frame_memory_share_waits_then_is_refused_naming_the_bound()
    {
        var budget = new FrameMemoryBudget(64 << 20, 1 << 20, TimeSpan.FromMilliseconds(300));
        await budget.ReserveAsync("hog", 1 << 20, MessageType.Batch, CancellationToken.None);
        // Another peer is not held up by the hog's share.
        await budget.ReserveAsync("other", 1 << 20, MessageType.Batch, CancellationToken.None);
        var sw = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<FrameException>(async () => await budget.ReserveAsync("hog", 512 << 10, MessageType.Batch, CancellationToken.None));
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(250), $"gave up after {sw.Elapsed}");
        Assert.Contains("network.frame_memory_per_peer_bytes", ex.Message, StringComparison.Ordinal);
        // A release lets a waiting frame in (a patient budget, so a slow machine cannot time the waiter out first).
        var patient = new FrameMemoryBudget(64 << 20, 1 << 20, TimeSpan.FromSeconds(30));
        await patient.ReserveAsync("hog", 1 << 20, MessageType.Batch, CancellationToken.None);
        var waiting = patient.ReserveAsync("hog", 512 << 10, MessageType.Batch, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        patient.Release("hog", 1 << 20);
        await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(512 << 10, patient.InUse);

        // The node's total binds across peers the same way.
        var small = new FrameMemoryBudget(1 << 20, 1 << 20, TimeSpan.FromMilliseconds(200));
        await small.ReserveAsync("a", 1 << 20, MessageType.Batch, CancellationToken.None);
        ex = await Assert.ThrowsAsync<FrameException>(async () => await small.ReserveAsync("b", 1 << 20, MessageType.Batch, CancellationToken.None));
        Assert.Contains("network.frame_memory_bytes", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_network_budget_key_reaches_the_transport_options()
    {
        var network = NodeConfig.Defaults.Network with
        {
            IdleTimeout = TimeSpan.FromMilliseconds(1234),
            HandshakeTimeout = TimeSpan.FromMilliseconds(567),
            MaxInboundConnections = 11,
            MaxConnectionsPerPeer = 3,
            MaxConnectionsPerAddress = 5,
            MaxHandshakes = 7,
            MaxHandshakesPerAddress = 2,
            MaxFrameBytes = 1 << 20,
            FrameMemoryBytes = 8 << 20,
            FrameMemoryPerPeerBytes = 2 << 20,
            FrameMemoryWait = TimeSpan.FromMilliseconds(890),
        };
        var o = TransportOptions.FromConfig(NodeConfig.Defaults with { Network = network });
        Assert.Equal(TimeSpan.FromMilliseconds(1234), o.IdleTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(567), o.InboundHandshakeTimeout);
        Assert.Equal((11, 3, 5, 7, 2, 1 << 20), (o.MaxInboundConnections, o.MaxConnectionsPerPeer, o.MaxConnectionsPerAddress, o.MaxConcurrentHandshakes, o.MaxHandshakesPerAddress, o.MaxFrameBytes));
        Assert.Equal((8L << 20, 2L << 20, TimeSpan.FromMilliseconds(890)), (o.FrameMemory.TotalBytes, o.FrameMemory.PerPeerBytes, o.FrameMemory.Wait));
        o.Validate();
    }
}

using System.Buffers.Binary;

namespace Duckton.Transport.Tests;

public sealed class ConnectionTests
{
    [Fact]
    public async Task Concurrent_senders_never_interleave_frames()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        const int Senders = 8;
        const int PerSender = 150;
        var received = new TaskCompletionSource<List<Frame>>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), async (c, ct) =>
        {
            var frames = new List<Frame>();
            while (frames.Count < Senders * PerSender)
            {
                frames.Add(await c.ReceiveAsync(ct));
            }
            received.SetResult(frames);
        });
        await using var connection = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), server.NodeId, Loopback.Options());

        await Task.WhenAll(Enumerable.Range(0, Senders).Select(sender => Task.Run(async () =>
        {
            var random = new Random(sender);
            for (var seq = 0; seq < PerSender; seq++)
            {
                // Sizes straddle the single-write (64 KiB) and split-write paths of the frame writer.
                var payload = new byte[8 + random.Next(0, seq % 10 == 0 ? 300_000 : 2_000)];
                BinaryPrimitives.WriteInt32LittleEndian(payload, sender);
                BinaryPrimitives.WriteInt32LittleEndian(payload.AsSpan(4), seq);
                payload.AsSpan(8).Fill((byte)(sender * 31 + seq));
                await connection.SendAsync(MessageType.Batch, payload);
            }
        })));

        var frames = await received.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var next = new int[Senders];
        foreach (var frame in frames)
        {
            Assert.Equal(MessageType.Batch, frame.Type);
            var span = frame.Payload.Span;
            var sender = BinaryPrimitives.ReadInt32LittleEndian(span);
            var seq = BinaryPrimitives.ReadInt32LittleEndian(span[4..]);
            Assert.Equal(next[sender]++, seq);
            Assert.True(span[8..].IndexOfAnyExcept((byte)(sender * 31 + seq)) < 0, $"frame {sender}/{seq} carries foreign bytes");
        }
        Assert.All(next, n => Assert.Equal(PerSender, n));
    }

    [Fact]
    public async Task A_bad_frame_version_on_the_wire_drops_the_connection()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        var serverError = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), async (c, ct) =>
        {
            try
            {
                await c.ReceiveAsync(ct);
            }
            catch (Exception ex)
            {
                serverError.SetResult(ex);
            }
        });
        await using var connection = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), server.NodeId, Loopback.Options());
        await connection.WriteRawForTestsAsync(new byte[] { 0, 0, 0, 0, 9, (byte)MessageType.Ping });
        var error = Assert.IsType<FrameException>(await serverError.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(FrameError.UnsupportedVersion, error.Error);
        await Assert.ThrowsAnyAsync<IOException>(async () => await connection.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Sends_over_the_agreed_limit_fail_without_closing_the_connection()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options() with { MaxFrameBytes = 64 << 10 }, Loopback.Echo);
        await using var connection = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options());
        Assert.Equal(64 << 10, connection.MaxSendFrameBytes);
        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await connection.SendAsync(MessageType.Batch, new byte[(64 << 10) + 1]));
        Assert.Contains("exceeds the frame limit of 65536", ex.Message, StringComparison.Ordinal);
        Assert.True(connection.IsOpen);
        await connection.SendAsync(MessageType.Batch, new byte[64 << 10]);
        Assert.Equal(64 << 10, (await connection.ReceiveAsync()).Payload.Length);
    }

    [Fact]
    public async Task A_reject_frame_after_the_handshake_surfaces_as_PeerRejectedException()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), async (c, ct) =>
            await c.RejectAndCloseAsync(RejectReason.Blocked, "you were blocked mid-session"));
        await using var connection = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options());
        var ex = await Assert.ThrowsAsync<PeerRejectedException>(async () => await connection.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(RejectReason.Blocked, ex.Reason);
        Assert.Equal("you were blocked mid-session", ex.Detail);
        Assert.False(connection.IsOpen);
    }

    [Fact]
    public async Task Leased_receives_carry_the_frames_and_still_surface_rejects()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), async (c, ct) =>
        {
            await c.SendAsync(MessageType.Batch, new byte[200_000], ct);
            await c.RejectAndCloseAsync(RejectReason.Busy, "done for now");
        });
        await using var connection = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options());
        using (var frame = await connection.ReceiveLeasedAsync())
        {
            Assert.Equal(MessageType.Batch, frame.Type);
            Assert.Equal(200_000, frame.Payload.Length);
        }
        var ex = await Assert.ThrowsAsync<PeerRejectedException>(async () => await connection.ReceiveLeasedAsync());
        Assert.Equal(RejectReason.Busy, ex.Reason);
        Assert.Equal("done for now", ex.Detail);
    }

    [Fact]
    public async Task Only_one_receive_may_be_pending()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        await using var connection = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options());
        var pending = connection.ReceiveAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await connection.ReceiveAsync());
        await connection.SendAsync(MessageType.Ping, ReadOnlyMemory<byte>.Empty);
        Assert.Equal(MessageType.Ping, (await pending).Type);
    }

    [Fact]
    public async Task Disposing_a_connection_with_a_pending_receive_ends_it()
    {
        using var server = NodeIdentity.Create();
        using var client = NodeIdentity.Create();
        await using var listener = await PeerListener.StartAsync(server, Loopback.Any, Loopback.Options(), Loopback.Echo);
        var connection = await PeerConnector.ConnectAsync(client, Loopback.Address(listener), null, Loopback.Options());
        var pending = connection.ReceiveAsync().AsTask();
        await connection.DisposeAsync();
        await Assert.ThrowsAnyAsync<Exception>(() => pending.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(connection.IsOpen);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await connection.SendAsync(MessageType.Ping, ReadOnlyMemory<byte>.Empty));
    }
}

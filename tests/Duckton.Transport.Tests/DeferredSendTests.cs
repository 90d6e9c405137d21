using System.Diagnostics;

namespace Duckton.Transport.Tests;

/// <summary>
/// A deferred frame (a host's Bid whose Dispatch is already here) goes out in front of the next frame, in the same write,
/// or alone when its hold ends; either way in order.
/// </summary>
public sealed class DeferredSendTests
{
    /// <summary>An accepted connection (Server) and its dialling side (Client) on loopback.</summary>
    private sealed class Pair : IAsyncDisposable
    {
        private readonly NodeIdentity _serverId = NodeIdentity.Create();
        private readonly NodeIdentity _clientId = NodeIdentity.Create();
        private PeerListener _listener = null!;

        public PeerConnection Server { get; private set; } = null!;
        public PeerConnection Client { get; private set; } = null!;

        public static async Task<Pair> Open()
        {
            var pair = new Pair();
            var accepted = new TaskCompletionSource<PeerConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
            pair._listener = await PeerListener.StartAsync(pair._serverId, Loopback.Any, Loopback.Options(), async (c, ct) =>
            {
                accepted.SetResult(c);
                await Task.Delay(Timeout.Infinite, ct).ContinueWith(static _ => { }, TaskScheduler.Default);
            });
            pair.Client = await PeerConnector.ConnectAsync(pair._clientId, Loopback.Address(pair._listener), pair._serverId.NodeId, Loopback.Options());
            pair.Server = await accepted.Task.WaitAsync(TimeSpan.FromSeconds(20));
            return pair;
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await _listener.DisposeAsync();
            _serverId.Dispose();
            _clientId.Dispose();
        }
    }

    private static Task<Frame> Next(PeerConnection c) => c.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));

    [Fact]
    public async Task A_deferred_frame_goes_out_with_the_next_send_in_one_write_and_first()
    {
        await using var pair = await Pair.Open();
        await pair.Server.SendDeferredAsync(MessageType.Bid, "bid"u8.ToArray(), TimeSpan.FromMinutes(5));
        Assert.True(pair.Server.HasDeferred);
        await pair.Server.SendManyAsync([(MessageType.Commit, "commit"u8.ToArray()), (MessageType.End, "end"u8.ToArray())]);
        Assert.False(pair.Server.HasDeferred);

        var bid = await Next(pair.Client);
        Assert.Equal((MessageType.Bid, "bid"), (bid.Type, System.Text.Encoding.ASCII.GetString(bid.Payload.Span)));
        Assert.True(pair.Client.HasBufferedInput, "the frames behind the deferred one came in the same write");
        Assert.Equal(MessageType.Commit, (await Next(pair.Client)).Type);
        Assert.Equal(MessageType.End, (await Next(pair.Client)).Type);

        // A single send takes the deferred frame along too.
        await pair.Server.SendDeferredAsync(MessageType.Bid, "second"u8.ToArray(), TimeSpan.FromMinutes(5));
        await pair.Server.SendAsync(MessageType.Error, "error"u8.ToArray());
        Assert.Equal(MessageType.Bid, (await Next(pair.Client)).Type);
        Assert.True(pair.Client.HasBufferedInput);
        Assert.Equal(MessageType.Error, (await Next(pair.Client)).Type);
        Assert.False(pair.Client.HasBufferedInput);
    }

    [Fact]
    public async Task A_deferred_frame_with_nothing_behind_it_goes_out_alone_when_its_hold_ends()
    {
        await using var pair = await Pair.Open();
        var hold = TimeSpan.FromMilliseconds(200);
        var sw = Stopwatch.StartNew();
        await pair.Server.SendDeferredAsync(MessageType.Bid, "bid"u8.ToArray(), hold);
        var bid = await Next(pair.Client);
        var waited = sw.Elapsed;
        Assert.Equal(MessageType.Bid, bid.Type);
        Assert.True(waited >= hold - TimeSpan.FromMilliseconds(20), $"the frame came after {waited.TotalMilliseconds:F0} ms, before its hold of {hold.TotalMilliseconds} ms");
        Assert.False(pair.Client.HasBufferedInput);
        // (Not the server's HasDeferred here: the timer's flush empties the queue after its write returns, which may be
        // after the client has read the frame. What follows shows the frame left the queue: it is not sent again.)

        // The connection carries on as usual, and the timer does not send the frame twice: what follows is the next send.
        await pair.Server.SendAsync(MessageType.Commit, "commit"u8.ToArray());
        Assert.Equal(MessageType.Commit, (await Next(pair.Client)).Type);
        await Task.Delay(hold * 2);
        await pair.Server.SendAsync(MessageType.End, "end"u8.ToArray());
        Assert.Equal(MessageType.End, (await Next(pair.Client)).Type);
    }

    [Fact]
    public async Task A_connection_closed_with_a_deferred_frame_drops_it_quietly()
    {
        await using var pair = await Pair.Open();
        await pair.Server.SendDeferredAsync(MessageType.Bid, "bid"u8.ToArray(), TimeSpan.FromMilliseconds(50));
        await pair.Server.DisposeAsync();
        await Task.Delay(200); // the hold ends on a closed connection: nothing to send, nothing thrown
        await Assert.ThrowsAnyAsync<Exception>(() => Next(pair.Client));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await pair.Server.SendDeferredAsync(MessageType.Bid, "late"u8.ToArray(), TimeSpan.FromMilliseconds(50)));
    }
}

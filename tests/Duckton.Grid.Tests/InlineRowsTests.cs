using Duckton.Core.Data;
using Duckton.Core.Hashing;
using Duckton.Core.Protocol;
using Duckton.Node.Grid;
using Duckton.Transport;

namespace Duckton.Grid.Tests;

/// <summary>
/// Protocol 1.1's inline rows, on the wire against a real host (in process, one job slot): a small free result comes with
/// its commit, unasked, and the host holds nothing after; a larger one, a paid one or one on a 1.0 connection is
/// committed and held for a Fetch as before.
/// </summary>
public sealed class InlineRowsTests : IAsyncLifetime
{
    private readonly NodeIdentity _hostIdentity = NodeIdentity.Create();
    private readonly NodeIdentity _me = NodeIdentity.Create();
    private Worker _worker = null!;
    private PeerListener _listener = null!;

    public async Task InitializeAsync()
    {
        Duckton.DuckDB.Native.DuckDBNative.InitializeFromLibrary();
        var alone = new AloneHost();
        // One slot: a second job is admitted only if the first one holds nothing.
        _worker = new Worker(_hostIdentity, new WorkerOptions { MemoryBytes = 1L << 30, PerJobMemoryBytes = 256L << 20, Threads = 1, MaxJobs = 1 },
            alone, alone, alone, alone, IJobFaults.None, IJobObserver.None, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        _listener = await PeerListener.StartAsync(_hostIdentity, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), new TransportOptions(), _worker.HandleConnectionAsync);
    }

    public async Task DisposeAsync()
    {
        await _listener.DisposeAsync();
        _worker.Dispose();
        _hostIdentity.Dispose();
        _me.Dispose();
    }

    private Task<PeerConnection> Connect(string protocolVersion = "1.1.0") =>
        PeerConnector.ConnectAsync(_me, _listener.LocalEndPoint.ToString(), _hostIdentity.NodeId, new TransportOptions { ProtocolVersion = protocolVersion });

    private static async Task<Frame> Next(PeerConnection c) => await c.ReceiveAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));

    /// <summary>Offer, Bid, Dispatch (asking for rows up to <paramref name="inlineLimit"/> bytes); the host's answer to the dispatch.</summary>
    private static async Task<(string Job, Frame Answer)> Dispatch(PeerConnection c, string sql, uint inlineLimit)
    {
        var job = JobIds.NewJobId();
        var queryHash = JobIds.QueryHash(Duckton.Node.GridNode.EngineVersion, sql);
        await c.SendAsync(MessageType.Offer, new OfferMessage(job, queryHash, WireDataClass.Public, 1, 0, 1, "", [], []).Encode());
        var bid = await Next(c);
        Assert.True(bid.Type == MessageType.Bid, bid.Type == MessageType.Decline ? ReasonMessage.Decode(bid.Payload.Span).Reason : bid.Type.ToString());
        await c.SendAsync(MessageType.Dispatch, new DispatchMessage(job, queryHash, sql, 0, 1, 30_000, 0, []) { InlineLimit = inlineLimit }.Encode());
        return (job, await Next(c));
    }

    /// <summary>Reads Batch frames up to End(complete); returns the re-hash of their rows, the row count and the batch payload bytes.</summary>
    private static async Task<(string Hash, long Rows, long Bytes)> ReadRows(PeerConnection c, string job, CommitMessage commit)
    {
        var schema = BatchCodec.DecodeSchema(commit.Schema);
        var hasher = new CanonicalResultHasher(schema);
        long rows = 0, bytes = 0;
        while (true)
        {
            var frame = await Next(c);
            if (frame.Type == MessageType.End)
            {
                var end = EndMessage.Decode(frame.Payload.Span);
                Assert.Equal((job, EndStatus.Complete, (ulong)rows), (end.JobId, end.Status, end.Rows));
                return (hasher.Finish().ToString(), rows, bytes);
            }
            Assert.Equal(MessageType.Batch, frame.Type);
            bytes += frame.Payload.Length;
            foreach (var part in BatchFrame.Decode(frame.Payload, 1 << 24).Batches)
            {
                var batch = BatchCodec.DecodeBatch(part.Span, schema, CodecLimits.Default);
                rows += batch.RowCount;
                hasher.Add(batch);
            }
        }
    }

    [Fact]
    public async Task A_small_free_result_comes_with_its_commit_and_the_host_holds_nothing_after()
    {
        await using var c = await Connect();
        Assert.True(c.SpeaksAtLeast(1, 1));
        for (var i = 0; i < 3; i++)
        {
            // Never a Fetch: with one slot, the next job is admitted only because this one is over.
            var (job, answer) = await Dispatch(c, $"SELECT {i} AS n, 'row ' || {i} AS s", ProtoLimits.MaxInlineRowBytes);
            Assert.Equal(MessageType.CommitRows, answer.Type);
            var commit = CommitMessage.Decode(answer.Payload.Span);
            Assert.True(commit.VerifySignature());
            var (hash, rows, bytes) = await ReadRows(c, job, commit);
            Assert.Equal((commit.ResultHash, commit.RowCount), (hash, (ulong)rows));
            Assert.InRange(bytes, 1, ProtoLimits.MaxInlineRowBytes);
        }
    }

    [Fact]
    public async Task An_offer_and_its_dispatch_in_one_write_are_answered_in_order_and_a_declined_one_is_refused()
    {
        await using var c = await Connect();
        const string sql = "SELECT 7 AS seven";
        var queryHash = JobIds.QueryHash(Duckton.Node.GridNode.EngineVersion, sql);
        var job = JobIds.NewJobId();
        await c.SendManyAsync([(MessageType.Offer, new OfferMessage(job, queryHash, WireDataClass.Public, 1, 0, 1, "", [], []).Encode()),
            (MessageType.Dispatch, new DispatchMessage(job, queryHash, sql, 0, 1, 30_000, 0, []) { InlineLimit = 4096 }.Encode())]);
        Assert.Equal(MessageType.Bid, (await Next(c)).Type);
        // The host held the Bid and wrote it with the answer: the commit was read in the same record.
        Assert.True(c.HasBufferedInput, "the Bid came alone, not with the commit");
        var answer = await Next(c);
        Assert.Equal(MessageType.CommitRows, answer.Type);
        Assert.Equal(1, (await ReadRows(c, job, CommitMessage.Decode(answer.Payload.Span))).Rows);

        // Paused: the offer is declined, and the dispatch behind it is refused, never run.
        _worker.Enabled = false;
        var declined = JobIds.NewJobId();
        await c.SendManyAsync([(MessageType.Offer, new OfferMessage(declined, queryHash, WireDataClass.Public, 1, 0, 1, "", [], []).Encode()),
            (MessageType.Dispatch, new DispatchMessage(declined, queryHash, sql, 0, 1, 30_000, 0, []) { InlineLimit = 4096 }.Encode())]);
        Assert.Equal(MessageType.Decline, (await Next(c)).Type);
        var refused = await Next(c);
        Assert.Equal((MessageType.Error, JobErrorCode.NotAuthorized), (refused.Type, ErrorMessage.Decode(refused.Payload.Span).Code));
        _worker.Enabled = true;
    }

    [Fact]
    public async Task An_offer_sent_alone_is_answered_at_once_and_a_long_jobs_held_bid_goes_alone_when_the_hold_ends()
    {
        await using var c = await Connect();
        // Offer alone (how a paid job or one with an attestation floor asks): the Bid cannot wait for a Dispatch.
        var (job, answer) = await Dispatch(c, "SELECT 1 AS one", ProtoLimits.MaxInlineRowBytes);
        Assert.Equal(MessageType.CommitRows, answer.Type);
        await ReadRows(c, job, CommitMessage.Decode(answer.Payload.Span));

        // Offer and Dispatch together for a job that runs far longer than the hold: the Bid comes when the hold ends.
        const string sql = "SELECT sum(hash(i)) AS h FROM range(100000000) t(i)";
        var queryHash = JobIds.QueryHash(Duckton.Node.GridNode.EngineVersion, sql);
        var slow = JobIds.NewJobId();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await c.SendManyAsync([(MessageType.Offer, new OfferMessage(slow, queryHash, WireDataClass.Public, 1, 0, 1, "", [], []).Encode()),
            (MessageType.Dispatch, new DispatchMessage(slow, queryHash, sql, 0, 1, 60_000, 0, []) { InlineLimit = 4096 }.Encode())]);
        Assert.Equal(MessageType.Bid, (await Next(c)).Type);
        var bidAfter = sw.Elapsed;
        Assert.False(c.HasBufferedInput, "the Bid waited for the commit");
        var commit = await Next(c);
        var commitAfter = sw.Elapsed;
        Assert.Equal(MessageType.CommitRows, commit.Type);
        Assert.True(bidAfter >= ProtoLimits.PipelinedBidHold - TimeSpan.FromMilliseconds(5) && bidAfter < commitAfter,
            $"Bid after {bidAfter.TotalMilliseconds:F0} ms, commit after {commitAfter.TotalMilliseconds:F0} ms, hold {ProtoLimits.PipelinedBidHold.TotalMilliseconds} ms");
        Assert.Equal(1, (await ReadRows(c, slow, CommitMessage.Decode(commit.Payload.Span))).Rows);
    }

    [Fact]
    public async Task An_offer_with_another_frame_than_its_dispatch_behind_it_is_answered_at_once()
    {
        // Timers that never fire: a held Bid would go out only with the host's next frame, and a Fetch for a job the host
        // does not know gets none.
        await using var listener = await PeerListener.StartAsync(_hostIdentity, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0),
            new TransportOptions { Time = new NoTimers() }, _worker.HandleConnectionAsync);
        await using var c = await PeerConnector.ConnectAsync(_me, listener.LocalEndPoint.ToString(), _hostIdentity.NodeId, new TransportOptions());
        var job = JobIds.NewJobId();
        var queryHash = JobIds.QueryHash(Duckton.Node.GridNode.EngineVersion, "SELECT 2");
        await c.SendManyAsync([(MessageType.Offer, new OfferMessage(job, queryHash, WireDataClass.Public, 1, 0, 1, "", [], []).Encode()),
            (MessageType.Fetch, new FetchMessage(JobIds.NewJobId(), 8).Encode())]);
        Assert.Equal(MessageType.Bid, (await Next(c)).Type);
    }

    /// <summary>A clock whose timers never fire.</summary>
    private sealed class NoTimers : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new Never();

        private sealed class Never : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;
            public void Dispose() { }
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task A_result_over_the_limit_is_committed_and_held_for_a_fetch()
    {
        await using var c = await Connect();
        var (job, answer) = await Dispatch(c, "SELECT i FROM range(1000) t(i)", 512); // about 8 KB of rows
        Assert.Equal(MessageType.Commit, answer.Type);
        var commit = CommitMessage.Decode(answer.Payload.Span);
        await c.SendAsync(MessageType.Fetch, new FetchMessage(job, 8).Encode());
        var (hash, rows, bytes) = await ReadRows(c, job, commit);
        Assert.Equal((commit.ResultHash, 1000L), (hash, rows));
        Assert.True(bytes > 512, $"{bytes} bytes of rows");
    }

    [Fact]
    public async Task A_connection_that_speaks_1_0_gets_a_plain_commit_whatever_the_dispatch_asks()
    {
        await using var c = await Connect("1.0.0");
        Assert.Equal("1.0.0", c.NegotiatedVersion);
        Assert.False(c.SpeaksAtLeast(1, 1));
        var (job, answer) = await Dispatch(c, "SELECT 42 AS answer", ProtoLimits.MaxInlineRowBytes);
        Assert.Equal(MessageType.Commit, answer.Type);
        await c.SendAsync(MessageType.Fetch, new FetchMessage(job, 8).Encode());
        Assert.Equal(1, (await ReadRows(c, job, CommitMessage.Decode(answer.Payload.Span))).Rows);
    }
}

/// <summary>
/// Inline rows between real processes, and a grid where 1.0 and 1.1 nodes meet: <c>protocol.version = "1.0.0"</c> on
/// either side means rows on a Fetch, as before, and mixed quorums still verify.
/// </summary>
public sealed class MixedVersionGridTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-inline-tests-").FullName;
    private readonly List<IDisposable> _owned = [];

    private HostProcess Host(string name, string? protocolVersion = null, params string[] extra)
    {
        var host = HostProcess.Start(_root, name, protocolVersion is null ? null : new Dictionary<string, string> { ["P2P_PROTOCOL_VERSION"] = protocolVersion }, extra);
        _owned.Add(host);
        return host;
    }

    private Requester RequesterOf(HostProcess seed, int peers, params (string Key, string Value)[] settings)
    {
        var r = new Requester(_root, "requester-" + Guid.NewGuid().ToString("N")[..8], settings);
        _owned.Add(r);
        r.JoinAndLearn(seed.Address, peers);
        return r;
    }

    private static Duckton.Node.QueryOutcome Ask(Requester r, string sql, int replicas, int quorum, params HostProcess[] hosts) =>
        r.Host.Node.Query(sql, new Duckton.Node.QueryOverrides
        {
            Prefer = Duckton.Core.Configuration.PlannerPreference.Remote, Replicas = replicas, Quorum = quorum, Nodes = [.. hosts.Select(h => h.NodeId)],
        });

    [Fact]
    public void Rows_come_with_the_commit_only_where_both_sides_speak_1_1_and_mixed_quorums_verify()
    {
        var current = Host("current");
        var old = Host("old", "1.0.0", "--seed", current.Address);
        var other = Host("other", null, "--seed", current.Address);
        var r = RequesterOf(current, 3);

        var fromCurrent = Ask(r, "SELECT 42 AS answer", 1, 1, current);
        Assert.Equal(("with_commit", 1L), (fromCurrent.Meta.RowsDelivery, fromCurrent.Result.RowCount));
        var fromOld = Ask(r, "SELECT 42 AS answer", 1, 1, old);
        Assert.Equal(("fetched", 1L), (fromOld.Meta.RowsDelivery, fromOld.Result.RowCount));
        // A result over the inline limit is fetched from a 1.1 host too.
        var large = Ask(r, "SELECT range AS i FROM range(20000)", 1, 1, current);
        Assert.Equal(("fetched", 20000L), (large.Meta.RowsDelivery, large.Result.RowCount));

        // One 1.0 host among three, quorum 2: verified, whichever host wins.
        for (var i = 0; i < 3; i++)
        {
            var mixed = Ask(r, $"SELECT {i} AS n, 'x' || {i} AS s", 3, 2, current, old, other);
            Assert.True(mixed.Meta.Verified);
            Assert.Equal(mixed.Meta.Winner == old.NodeId ? "fetched" : "with_commit", mixed.Meta.RowsDelivery);
        }

        // A requester set to speak 1.0 never asks for inline rows.
        var oldRequester = RequesterOf(current, 3, ("protocol.version", "1.0.0"));
        var asOld = Ask(oldRequester, "SELECT 42 AS answer", 1, 1, current);
        Assert.Equal(("fetched", 1L), (asOld.Meta.RowsDelivery, asOld.Result.RowCount));
    }

    public void Dispose()
    {
        foreach (var o in _owned)
        {
            o.Dispose();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

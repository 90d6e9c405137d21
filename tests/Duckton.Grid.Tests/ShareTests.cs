using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Node;
using Duckton.Node.Grid;
using Duckton.Transport;

namespace Duckton.Grid.Tests;

public sealed class ShareTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-share-tests-").FullName;

    [Fact]
    public void Share_pause_and_resume_through_sql_in_one_process()
    {
        using var host = new Requester(_root, "host");
        using var requester = new Requester(_root, "requester");
        var share = host.Rows("SELECT key, value FROM p2p_share(memory => '1GB', threads => 2, max_jobs => 2, region => 'eu-west')").ToDictionary(r => r[0]!, r => r[1]);
        Assert.Equal("hosting", share["status"]);
        Assert.Equal("1073741824", share["memory_bytes"]);
        var address = share["listen_addr"]!;
        var hostId = share["node_id"]!;
        requester.Rows($"SELECT * FROM p2p_join(bootstrap => ['{address}'])");
        var peer = Assert.Single(requester.Rows("SELECT node_id, region, free_threads::VARCHAR FROM p2p_peers()"));
        Assert.Equal(new string?[] { hostId, "eu-west", "2" }, peer);

        var one = new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 1, Quorum = 1 };
        var outcome = requester.Host.Node.Query("SELECT 42 AS answer", one);
        Assert.Equal(hostId, outcome.Meta.Winner);
        Assert.True(outcome.Meta.Verified);

        Assert.Equal("standby", host.Rows("SELECT value FROM p2p_pause() WHERE key = 'status'").Single()[0]);
        var paused = Assert.Throws<QueryFailedException>(() => requester.Host.Node.Query("SELECT 42 AS answer", one));
        Assert.Contains("paused", paused.Message);

        Assert.Equal("serving", host.Rows("SELECT value FROM p2p_resume() WHERE key = 'status'").Single()[0]);
        Assert.Equal(hostId, requester.Host.Node.Query("SELECT 43 AS answer", one).Meta.Winner);
    }

    [Fact]
    public async Task A_dispatch_without_a_bid_is_refused()
    {
        using var hostIdentity = NodeIdentity.Create();
        var alone = new AloneHost();
        using var worker = new Worker(hostIdentity, new WorkerOptions { MemoryBytes = 1L << 30, PerJobMemoryBytes = 256L << 20, Threads = 1, MaxJobs = 1 },
            alone, alone, alone, alone, IJobFaults.None, IJobObserver.None, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var listener = await PeerListener.StartAsync(hostIdentity, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), new TransportOptions(), worker.HandleConnectionAsync);
        using var me = NodeIdentity.Create();
        var c = await PeerConnector.ConnectAsync(me, listener.LocalEndPoint.ToString(), hostIdentity.NodeId, new TransportOptions());
        var job = JobIds.NewJobId();
        await c.SendAsync(MessageType.Dispatch, new DispatchMessage(job, new string('0', 64), "SELECT 1", 0, 1, 0, 0, []).Encode());
        var reply = await c.ReceiveAsync();
        Assert.Equal(MessageType.Error, reply.Type);
        Assert.Equal(JobErrorCode.NotAuthorized, ErrorMessage.Decode(reply.Payload.Span).Code);
        // With a bid first, the same dispatch runs and commits before any row.
        await c.SendAsync(MessageType.Offer, new OfferMessage(job, new string('0', 64), WireDataClass.Public, 1, 0, 1, "", [], []).Encode());
        Assert.Equal(MessageType.Bid, (await c.ReceiveAsync()).Type);
        // A query hash that is not BLAKE3 of this host's engine version and the SQL is refused, never signed.
        await c.SendAsync(MessageType.Dispatch, new DispatchMessage(job, new string('0', 64), "SELECT 1 AS x", 0, 1, 0, 0, []).Encode());
        var mismatch = ErrorMessage.Decode((await c.ReceiveAsync()).Payload.Span);
        Assert.Contains("query hash mismatch", mismatch.Message);
        var queryHash = JobIds.QueryHash(Duckton.Node.GridNode.EngineVersion, "SELECT 1 AS x");
        await c.SendAsync(MessageType.Offer, new OfferMessage(job, queryHash, WireDataClass.Public, 1, 0, 1, "", [], []).Encode());
        Assert.Equal(MessageType.Bid, (await c.ReceiveAsync()).Type);
        await c.SendAsync(MessageType.Dispatch, new DispatchMessage(job, queryHash, "SELECT 1 AS x", 0, 1, 0, 0, []).Encode());
        var commit = await c.ReceiveAsync();
        Assert.Equal(MessageType.Commit, commit.Type);
        var signed = CommitMessage.Decode(commit.Payload.Span);
        Assert.True(signed.VerifySignature());
        Assert.Equal(hostIdentity.NodeId, signed.HostNodeId);
        Assert.Equal(me.NodeId, signed.RequesterNodeId);
        await c.DisposeAsync();
        await listener.DisposeAsync();
    }

    [Fact]
    public void Peers_turn_suspect_after_failed_contacts_and_expire_after_the_ttl()
    {
        var time = new ManualTime(DateTimeOffset.UtcNow);
        using var self = NodeIdentity.Create();
        using var peer = NodeIdentity.Create();
        var membership = new Membership(self.NodeId, time, minPowBits: 8) { Ttl = TimeSpan.FromSeconds(30) };
        var nonce = ProofOfWork.Mint(peer.PublicKey.Span, 8);
        var advert = new AdvertMessage(peer.PublicKey.ToArray(), "127.0.0.1:1", 1, 1, 1, 0, true, ["default"], [], "", nonce, 8, (ulong)time.GetUtcNow().ToUnixTimeMilliseconds(), 1).SignWith(b => peer.Sign(b));
        Assert.Null(membership.Ingest(advert, direct: true));
        Assert.NotNull(membership.Ingest(advert with { Seq = 2 }, direct: true)); // signature no longer matches
        Assert.Equal(PeerState.Alive, membership.Find(peer.NodeId)!.State);
        membership.ObserveFailure(peer.NodeId);
        membership.ObserveFailure(peer.NodeId);
        Assert.Equal(PeerState.Suspect, membership.Find(peer.NodeId)!.State);
        time.Advance(TimeSpan.FromSeconds(31));
        Assert.Empty(membership.Live());
        Assert.Equal(1, membership.Expire());
        Assert.NotNull(membership.Ingest(advert)); // an expired advert is not accepted again
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        private DateTimeOffset _now = now;
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }
}

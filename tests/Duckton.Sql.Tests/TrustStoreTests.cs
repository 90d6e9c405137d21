using Duckton.Core.Crypto;
using Duckton.Core.Trust;
using Duckton.Node.Trust;

namespace Duckton.Sql.Tests;

[Collection(SqlCollection.Name)]
public class TrustStoreTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-trust-").FullName;
    private readonly Ed25519Key _requester = Ed25519Key.Generate();
    private readonly string _worker = NodeIds.FromPublicKey(Ed25519Key.Generate().PublicKey);

    public TrustStoreTests(SqlFixture fixture) => _ = fixture; // the fixture loads libduckdb

    public void Dispose()
    {
        _requester.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private Receipt Signed(string job, Verdict verdict) => new Receipt
    {
        JobId = job,
        WorkerId = _worker,
        RequesterId = NodeIds.FromPublicKey(_requester.PublicKey),
        QueryHash = "q-" + job,
        ResultHash = "r",
        Verdict = verdict,
        Timestamp = (ulong)DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
        LatencyMs = 3,
    }.SignWith(_requester);

    [Fact]
    public void Receipts_penalties_vouches_and_blocks_survive_reopening()
    {
        using (var store = TrustStore.Open(_dir))
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.True(store.AddReceipt(Signed($"job-{i}", Verdict.Correct)));
            }
            Assert.True(store.AddReceipt(Signed("job-bad", Verdict.Incorrect)));
            store.AddPenalty(_worker, 0.2, "wrong canary");
            store.AddVouch("b3:" + new string('a', 64), _worker, 0.5);
            store.Block("b3:" + new string('b', 64), BlockKind.NodeId, "spam");
        }
        using (var store = TrustStore.Open(_dir))
        {
            Assert.Equal(11, store.Receipts(_worker).Count);
            Assert.All(store.Receipts(_worker), r => Assert.Null(r.Problem()));
            var obs = store.Observations(_worker);
            Assert.Equal(10, obs.Count(o => o.Correct));
            Assert.Equal(0.2, store.Penalties(_worker), 10);
            Assert.Equal(0.5, store.VoucherTrust(_worker), 10);
            Assert.True(store.IsBlocked("b3:" + new string('b', 64)));
            var trust = store.Evaluate(_worker, TrustPolicy.Default, ReputationParameters.Default);
            Assert.InRange(trust.Effective, 0.01, 0.99);
            Assert.True(store.Unblock("b3:" + new string('b', 64)));
            Assert.False(store.Unblock("b3:" + new string('b', 64)));
            Assert.Empty(store.Blocklist());
        }
    }

    [Fact]
    public async Task Receipts_count_at_once_and_the_background_writer_commits_them_without_a_read()
    {
        var receipts = Enumerable.Range(0, 400).Select(i => Signed($"job-{i}", i % 10 == 0 ? Verdict.Timeout : Verdict.Correct)).ToList();
        using (var store = TrustStore.Open(_dir))
        {
            // Concurrent writers, as on a busy requester; every receipt counts before it reaches the file.
            await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                for (var i = t; i < receipts.Count; i += 4)
                {
                    Assert.True(store.AddReceipt(receipts[i]));
                }
            })));
            Assert.Equal(400, store.Observations(_worker).Count);
            Assert.False(store.AddReceipt(receipts[7])); // replay, whether or not it was committed yet
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (store.PendingReceipts > 0 && waited.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(10);
            }
            Assert.Equal(0, store.PendingReceipts);
        }
        using (var store = TrustStore.Open(_dir))
        {
            Assert.Equal(360, store.Observations(_worker).Count(o => o.Correct));
            Assert.Equal(400, store.ReplayFingerprints(_worker).Count);
            Assert.Equal(400, store.Receipts(_worker, 1000).Count);
            Assert.False(store.AddReceipt(receipts[399]));
        }
    }

    [Fact]
    public async Task Two_stores_on_one_directory_merge_each_others_writes_and_a_block_is_seen_without_a_refresh()
    {
        // Two handles on one store, as two processes sharing a config directory hold (each with its own memory view).
        using var a = TrustStore.Open(_dir);
        using var b = TrustStore.Open(_dir);
        var receipts = Enumerable.Range(0, 50).Select(i => Signed($"shared-{i}", i % 5 == 0 ? Verdict.Incorrect : Verdict.Correct)).ToList();
        foreach (var (receipt, i) in receipts.Select((r, i) => (r, i)))
        {
            Assert.True((i % 2 == 0 ? a : b).AddReceipt(receipt));
        }
        a.AddPenalty(_worker, 0.25, "wrong answer");
        b.AddVouch(NodeIds.FromPublicKey(_requester.PublicKey), _worker, 0.5);
        var seen = DateTimeOffset.UtcNow;
        a.NotePeer(new KnownPeer(_worker, "127.0.0.1:1234", 0, 1 << 30, 4, 2, "eu-west", true, seen, seen, 1.5) { Networks = ["lan"], Groups = [] });
        a.Flush();
        b.Flush();

        // Each handle's in-memory view converges within the merge interval without any read (the background writer merges).
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while ((a.Observations(_worker).Count < 50 || b.Observations(_worker).Count < 50 || b.Penalties(_worker) < 0.25 || a.VoucherTrust(_worker) == 0)
            && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }
        foreach (var store in new[] { a, b })
        {
            Assert.Equal(50, store.Observations(_worker).Count);
            Assert.Equal(40, store.Observations(_worker).Count(o => o.Correct));
            Assert.Equal(0.25, store.Penalties(_worker), 6);
            Assert.Equal(0.5, store.VoucherTrust(_worker), 6);
            Assert.Equal(50, store.ReceiptCount());
            Assert.False(store.AddReceipt(receipts[3])); // a replay, whichever handle first counted it
        }
        var peer = Assert.Single(b.KnownPeers());
        Assert.Equal(("127.0.0.1:1234", "eu-west", 1.5, "lan"), (peer.Address, peer.Region, peer.RttMs!.Value, peer.Networks.Single()));

        // The deny-list: a block through one handle is honoured by the other's very next check (fail closed, no refresh call).
        var victim = "b3:" + new string('c', 64);
        Assert.False(b.IsBlocked(victim));
        a.Block(victim, BlockKind.NodeId, "cross-process");
        Assert.True(b.IsBlocked(victim));
        Assert.True(b.Unblock(victim));
        Assert.False(a.IsBlocked(victim));
        Assert.Equal(0, a.PendingReceipts + b.PendingReceipts);
    }

    private sealed class ManualTime(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Running_reputation_sums_match_the_formula_over_the_whole_history_as_time_advances()
    {
        var time = new ManualTime(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        using var store = TrustStore.Open(_dir, time: time);
        var requester = NodeIds.FromPublicKey(_requester.PublicKey);
        var parameters = new ReputationParameters { HalfLife = TimeSpan.FromHours(6) };
        var random = new Random(7);
        for (var step = 0; step < 40; step++)
        {
            // A few receipts stamped up to an hour in the past, then time moves on by up to half a day.
            for (var i = 0; i < 5; i++)
            {
                var verdict = random.Next(10) switch { 0 => Verdict.Incorrect, 1 => Verdict.Timeout, 2 => Verdict.Inconclusive, _ => Verdict.Correct };
                var stamped = time.Now.AddSeconds(-random.Next(3600));
                Assert.True(store.AddReceipt(new Receipt
                {
                    JobId = $"job-{step}-{i}",
                    WorkerId = _worker,
                    RequesterId = requester,
                    QueryHash = "q",
                    ResultHash = "r",
                    Verdict = verdict,
                    Timestamp = (ulong)stamped.ToUnixTimeSeconds(),
                }.SignWith(_requester)));
            }
            time.Now = time.Now.AddSeconds(random.Next(43_200));
            var observations = store.Observations(_worker, requester);
            var expected = Reputation.Compute(observations, time.Now, parameters);
            var actual = store.Evaluate(_worker, TrustPolicy.Default, parameters, requesterId: requester);
            Assert.Equal(expected!.Value, actual.Reputation, 9);
            Assert.Equal(observations.Count, store.ObservationCount(_worker, requester));
        }
    }

    [Fact]
    public void Replayed_forged_and_tampered_receipts_are_rejected()
    {
        using var store = TrustStore.Open(_dir);
        var receipt = Signed("job-1", Verdict.Correct);
        Assert.True(store.AddReceipt(receipt));
        Assert.False(store.AddReceipt(receipt));
        Assert.False(store.AddReceipt(Signed("job-1", Verdict.Correct)));
        Assert.Throws<ArgumentException>(() => store.AddReceipt(receipt with { Verdict = Verdict.Incorrect, JobId = "job-2" }));
        using var forger = Ed25519Key.Generate();
        Assert.Throws<ArgumentException>(() => store.AddReceipt(receipt with { JobId = "job-3", RequesterPublicKey = forger.PublicKey.ToArray() }));
        Assert.Single(store.Receipts(_worker));
    }
}

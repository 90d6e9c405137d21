using Duckton.Core.Protocol;
using Duckton.Node.Grid;
using Duckton.Transport;
using Xunit;

namespace Duckton.Node.Tests;

/// <summary>The transport-free gossip rules: the adverts an exchange carries and whom a round asks.</summary>
public sealed class GossipRulesTests
{
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly DateTimeOffset Start = new(2026, 6, 1, 0, 0, 0, TimeSpan.Zero);

    private static AdvertMessage Signed(NodeIdentity id, int index, DateTimeOffset signedAt, ulong seq) =>
        new AdvertMessage(id.PublicKey.ToArray(), $"10.0.{index / 256}.{index % 256}:7411", 1 << 30, 2, 2, 0, true, [], [], "", 0, 0,
            (ulong)signedAt.ToUnixTimeMilliseconds(), seq).SignWith(b => id.Sign(b));

    [Fact]
    public void Fresh_adverts_are_the_32_most_recently_signed_of_live_alive_peers_as_a_full_sort_would_give()
    {
        var clock = new Clock(Start);
        var membership = new Membership("self", clock, minPowBits: 0) { Ttl = TimeSpan.FromSeconds(30) };
        var random = new Random(5);
        var ids = Enumerable.Range(0, 150).Select(_ => NodeIdentity.Create()).ToList();
        var seqs = new ulong[ids.Count];
        for (var step = 0; step < 1500; step++)
        {
            clock.Now += TimeSpan.FromMilliseconds(random.Next(0, 60));
            var i = random.Next(ids.Count);
            switch (random.Next(10))
            {
                case 0:
                    membership.MarkDead(ids[i].NodeId);
                    break;
                case 1:
                    membership.ObserveFailure(ids[i].NodeId);
                    membership.ObserveFailure(ids[i].NodeId);
                    break;
                case 2:
                    membership.Expire();
                    break;
                default:
                    // Signed a little in the past (relayed) or just now (direct); equal times exercise the tie order.
                    var signedAt = clock.Now - TimeSpan.FromSeconds(random.Next(0, 3) * 10);
                    Assert.Null(Gossip.TakeAdvert(membership, Signed(ids[i], i, signedAt, ++seqs[i]), random.Next(2) == 0 ? ids[i].NodeId : "relay"));
                    break;
            }
            if (step % 50 == 0)
            {
                // The definition by a full sort of the table: 8 newcomers' adverts first, then the freshest of the rest.
                var alive = membership.Live().Where(e => e.State == PeerState.Alive).Select(e => e.Advert)
                    .OrderByDescending(a => a.TimestampMs).ThenBy(a => a.NodeId, StringComparer.Ordinal).ToList();
                var newcomers = alive.Where(a => a.Seq <= Membership.NewcomerSeqs).Take(32 / Membership.NewcomerShare).ToList();
                var expected = newcomers.Concat(alive.Where(a => !newcomers.Contains(a)).Take(32 - newcomers.Count)).ToList();
                Assert.Equal(expected.Select(a => (a.NodeId, a.Seq)), membership.FreshAdverts(32).Select(a => (a.NodeId, a.Seq)));
            }
        }
        foreach (var id in ids)
        {
            id.Dispose();
        }
    }

    [Fact]
    public void A_newcomers_advert_is_passed_on_even_when_every_other_advert_was_signed_later()
    {
        var clock = new Clock(Start);
        var membership = new Membership("self", clock, minPowBits: 0) { Ttl = TimeSpan.FromSeconds(30) };
        var newcomer = NodeIdentity.Create();
        Assert.Null(Gossip.TakeAdvert(membership, Signed(newcomer, 0, clock.Now, 1), "relay"));
        // 100 long-running hosts (sequence numbers far past a newcomer's) re-sign after it: by signing time alone the
        // newcomer would not be among the 32 an exchange carries.
        var old = Enumerable.Range(1, 100).Select(_ => NodeIdentity.Create()).ToList();
        for (var i = 0; i < old.Count; i++)
        {
            clock.Now += TimeSpan.FromMilliseconds(10);
            Assert.Null(Gossip.TakeAdvert(membership, Signed(old[i], i + 1, clock.Now, 500), "relay"));
        }
        var shared = membership.FreshAdverts(Gossip.AdvertsPerExchange);
        Assert.Equal(Gossip.AdvertsPerExchange, shared.Count);
        Assert.Equal(newcomer.NodeId, shared[0].NodeId);
        Assert.Equal(old.AsEnumerable().Reverse().Take(31).Select(i => i.NodeId), shared.Skip(1).Select(a => a.NodeId));
        // Once its host has re-signed past the newcomer sequence numbers it competes by signing time like any other.
        Assert.Null(Gossip.TakeAdvert(membership, Signed(newcomer, 0, Start, Membership.NewcomerSeqs + 1), "relay"));
        Assert.DoesNotContain(membership.FreshAdverts(Gossip.AdvertsPerExchange), a => a.NodeId == newcomer.NodeId);
        foreach (var id in old.Append(newcomer))
        {
            id.Dispose();
        }
    }

    [Fact]
    public void A_round_asks_every_seed_while_joining_and_then_one_seed_with_probability_fanout_over_live_peers()
    {
        var clock = new Clock(Start);
        var membership = new Membership("self", clock, minPowBits: 0);
        string[] seeds = ["seed-a:1", "seed-b:1", "seed-c:1"];
        var random = new Random(9);
        var ids = Enumerable.Range(0, 100).Select(_ => NodeIdentity.Create()).ToList();
        for (var i = 0; i < 4; i++)
        {
            Gossip.TakeAdvert(membership, Signed(ids[i], i, clock.Now, 1), ids[i].NodeId);
        }
        // Fewer live peers than the fanout: every seed, and every known peer.
        var joining = Gossip.Targets(seeds, membership, fanout: 6, random);
        Assert.Equal(seeds, joining.Take(3).Select(t => t.Address));
        Assert.Equal(4, joining.Skip(3).Select(t => t.NodeId).Distinct().Count());
        for (var i = 4; i < ids.Count; i++)
        {
            Gossip.TakeAdvert(membership, Signed(ids[i], i, clock.Now, 1), ids[i].NodeId);
        }
        var seedRounds = 0;
        for (var round = 0; round < 2000; round++)
        {
            var targets = Gossip.Targets(seeds, membership, fanout: 6, random);
            var asked = targets.Count(t => t.NodeId is null);
            Assert.InRange(asked, 0, 1);
            seedRounds += asked;
            Assert.Equal(6, targets.Where(t => t.NodeId is not null).Select(t => t.NodeId).Distinct().Count());
        }
        // fanout / live = 6 / 100: about 120 of 2000 rounds.
        Assert.InRange(seedRounds, 70, 180);
        foreach (var id in ids)
        {
            id.Dispose();
        }
    }
}

using System.Diagnostics;
using Duckton.Core.Configuration;
using Duckton.Core.Protocol;
using Duckton.Core.Trust;
using Duckton.Node;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Simulation;

/// <summary>One simulated grid. Defaults are the product's (<c>discovery.gossip.*</c>, <c>scheduler.offer_timeout_ms</c>).</summary>
public sealed record SimulationOptions
{
    /// <summary>Hosts in the grid before the newcomer joins (the first <see cref="Seeds"/> of them are the seeds).</summary>
    public int Nodes { get; init; } = 1000;

    /// <summary>Random known peers each round exchanges with besides the seeds (<c>discovery.gossip.fanout</c>).</summary>
    public int Fanout { get; init; } = NodeConfig.Defaults.Discovery.Gossip.Fanout;

    public TimeSpan Heartbeat { get; init; } = NodeConfig.Defaults.Discovery.Gossip.Heartbeat;
    public TimeSpan AdvertTtl { get; init; } = NodeConfig.Defaults.Discovery.Gossip.CapabilityTtl;
    public int Seeds { get; init; } = 3;

    /// <summary>Probability that one exchange fails (a lost connection or a timeout): the initiator counts a failed contact.</summary>
    public double Loss { get; init; } = 0.01;

    /// <summary>One-way latency, uniform between these bounds, drawn per message.</summary>
    public TimeSpan MinLatency { get; init; } = TimeSpan.FromMilliseconds(5);
    public TimeSpan MaxLatency { get; init; } = TimeSpan.FromMilliseconds(150);

    /// <summary>How long a failed exchange holds its round up (<c>scheduler.offer_timeout_ms</c>).</summary>
    public TimeSpan ExchangeTimeout { get; init; } = NodeConfig.Defaults.Scheduler.OfferTimeout;

    /// <summary>Heartbeats simulated.</summary>
    public int Rounds { get; init; } = 40;

    /// <summary>The heartbeat at which one more host (the newcomer) joins through the seeds.</summary>
    public int JoinRound { get; init; } = 20;

    public int RandomSeed { get; init; } = 1;

    /// <summary>
    /// Proof-of-work bits of the simulated identities (minting 16 bits for 10,000 identities would take minutes and changes
    /// nothing measured here: an advert's size does not depend on it).
    /// </summary>
    public int PowBits { get; init; } = 8;

    /// <summary>Stop (and say so) when the managed heap grows beyond this: every node's table is O(n), the grid's O(n²).</summary>
    public long MaxManagedBytes { get; init; } = 6L << 30;
}

/// <summary>What the grid looked like at the end of one heartbeat.</summary>
/// <param name="MeanKnown">Mean over hosts of the share of the other hosts each knows alive.</param>
/// <param name="MinKnown">The least-informed host's share.</param>
/// <param name="BytesPerNode">Gossip bytes sent plus received per host during this heartbeat (frames with their 6-byte header).</param>
/// <param name="VerifiesPerNode">Advert signature checks per host during this heartbeat (each one Ed25519 verify on a real node).</param>
/// <param name="MeanTable">Mean membership table entries per host (live or not yet expired).</param>
public sealed record RoundSample(int Round, double MeanKnown, double MinKnown, double BytesPerNode, double MaxBytesPerNode, double SeedBytes, double VerifiesPerNode, double MeanTable);

public sealed record SimulationResult(
    SimulationOptions Options,
    IReadOnlyList<RoundSample> Samples,
    int? Mean99Round,
    int? AllKnowAllRound,
    double? NewcomerKnownBy50Seconds,
    double? NewcomerKnownBy99Seconds,
    double? NewcomerSelectableSeconds,
    double SteadyBytesPerNode,
    double SteadyMaxBytesPerNode,
    double SteadySeedBytes,
    double SteadyVerifiesPerNode,
    double SteadyMeanKnown,
    double SteadyTable,
    double AdvertShare,
    double ReceiptsPerExchange,
    double HostsReachedPerReceipt,
    TimeSpan Wall,
    long ManagedBytes,
    string? Stopped);

/// <summary>
/// An in-process grid of <see cref="SimulationOptions.Nodes"/> hosts on a virtual clock and a simulated network (latency,
/// loss). Every host runs the product's own membership code: <see cref="Membership"/> (ingest, signature and proof-of-work
/// checks, TTL expiry), <see cref="Gossip"/> (targets, adverts carried, advert refresh) and real signed, encoded adverts.
/// One requester runs the product's <see cref="TrustEngine"/> (on a real trust store) and <see cref="Coordinator"/>
/// selection: it issues signed receipts for a simulated job every round, which receipt gossip pushes like a real node's.
/// What is simulated: the network (no sockets, no TLS; an exchange is the frames a real one carries), the hosts' side of
/// receipt gossip (they decode and check each receipt but keep no trust store), no failure detector probes (no host
/// fails here), and each distinct advert is verified once and the outcome shared (see <see cref="Membership"/>).
/// </summary>
public sealed class GridSimulator
{
    private readonly SimulationOptions _o;
    private readonly Action<string>? _log;
    private readonly VirtualClock _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Random _rng;
    private readonly PriorityQueue<Action, (long At, long Seq)> _events = new();
    private long _seq;
    private readonly List<SimNode> _hosts = [];
    private readonly Dictionary<string, SimNode> _byAddress = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimNode> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<object, (int Size, string? Verdict)> _adverts = new(ReferenceEqualityComparer.Instance);
    private readonly int _pingBytes = FrameFormat.HeaderLength + new PingMessage(0, 0).Encode().Length;
    private long _verifies;
    private long _advertBytes;
    private long _otherBytes;
    private long _receiptsPushed;
    private long _receiptExchanges;

    public GridSimulator(SimulationOptions options, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Nodes < 2 || options.Seeds < 1 || options.Seeds > options.Nodes || options.Fanout < 0 || options.Rounds < 1)
        {
            throw new ArgumentException("need at least 2 nodes, 1..nodes seeds, fanout ≥ 0 and at least one round", nameof(options));
        }
        _o = options;
        _log = log;
        _rng = new Random(options.RandomSeed);
    }

    private sealed class SimNode(int index, NodeIdentity identity, string address, Membership membership, IGossipParticipant gossip, bool hosts)
    {
        public int Index { get; } = index;
        public NodeIdentity Identity { get; } = identity;
        public string Id { get; } = identity.NodeId;
        public string Address { get; } = address;
        public Membership Membership { get; } = membership;
        public IGossipParticipant Gossip { get; } = gossip;
        public bool Hosts { get; } = hosts;
        public List<string> Seeds { get; } = [];
        public AdvertMessage? Advert { get; set; }
        public ulong Seq { get; set; }
        public ulong PowNonce { get; set; }
        public int Pending { get; set; }
        public long Bytes { get; set; }
        public bool IsSeed { get; set; }
    }

    /// <summary>A host's side of receipt and vouch gossip: decodes and checks what it is pushed and remembers which receipts it holds.</summary>
    private sealed class HostGossip : IGossipParticipant
    {
        public HashSet<string> Held { get; } = new(StringComparer.Ordinal);

        public void IngestReceipt(ReadOnlyMemory<byte> payload, string fromPeer)
        {
            var receipt = ReceiptMessage.Decode(payload.Span);
            if (receipt.Problem() is null)
            {
                Held.Add(receipt.JobId + "/" + receipt.WorkerId);
            }
        }

        public IReadOnlyList<byte[]> ReceiptsToShare(string? peerNodeId) => [];

        public (ulong Count, byte[] Digest) ReceiptSummary() => (0, new byte[32]);

        public void IngestVouch(ReadOnlyMemory<byte> payload, string fromPeer)
        {
        }

        public IReadOnlyList<byte[]> VouchesToShare() => [];
    }

    /// <summary>Never asked: the simulated requester runs no canary queries.</summary>
    private sealed class NoCanaries : IKnownAnswers
    {
        public string ExpectedHash(string sql) => throw new NotSupportedException("the grid simulator runs no canary queries");
    }

    private string? Verify(AdvertMessage advert, int bits)
    {
        _verifies++;
        if (_adverts.TryGetValue(advert, out var known))
        {
            return known.Verdict;
        }
        var verdict = advert.Verify(bits);
        _adverts[advert] = (advert.Encode().Length, verdict);
        return verdict;
    }

    private int SizeOf(AdvertMessage advert)
    {
        if (!_adverts.TryGetValue(advert, out var known))
        {
            known = (advert.Encode().Length, advert.Verify(_o.PowBits));
            _adverts[advert] = known;
        }
        return FrameFormat.HeaderLength + known.Size;
    }

    private DateTimeOffset Now => _clock.GetUtcNow();

    private void At(DateTimeOffset when, Action action) => _events.Enqueue(action, (when.UtcTicks, _seq++));

    private TimeSpan Latency() => _o.MinLatency + ((_o.MaxLatency - _o.MinLatency) * _rng.NextDouble());

    private SimNode NewNode(int index, bool hosts, IGossipParticipant? gossip = null)
    {
        Span<byte> seed = stackalloc byte[32];
        _rng.NextBytes(seed);
        var identity = NodeIdentity.FromSeed(seed);
        var membership = new Membership(identity.NodeId, _clock, _o.PowBits, Verify) { Ttl = _o.AdvertTtl };
        var address = $"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}:7411";
        var node = new SimNode(index, identity, address, membership, gossip ?? new HostGossip(), hosts);
        if (hosts)
        {
            node.PowNonce = ProofOfWork.Mint(identity.PublicKey.Span, _o.PowBits);
            _byAddress[address] = node;
            _byId[node.Id] = node;
        }
        return node;
    }

    /// <summary>The host's signed advert, re-signed when stale (the same rule as GridRuntime.SelfAdverts).</summary>
    private IReadOnlyList<AdvertMessage> SelfAdverts(SimNode node)
    {
        if (!node.Hosts)
        {
            return [];
        }
        var now = (ulong)Now.ToUnixTimeMilliseconds();
        if (!Gossip.AdvertIsStale(node.Advert, now, _o.AdvertTtl))
        {
            return [node.Advert];
        }
        var summary = node.Gossip.ReceiptSummary();
        node.Advert = new AdvertMessage(node.Identity.PublicKey.ToArray(), node.Address, 8UL << 30, 4, 4, 0, true, [], [], "", node.PowNonce, (byte)_o.PowBits, now, ++node.Seq)
        {
            ReceiptCount = summary.Count,
            ReceiptDigest = summary.Digest,
        }.SignWith(b => node.Identity.Sign(b));
        return [node.Advert];
    }

    private void Count(SimNode from, SimNode to, long bytes)
    {
        from.Bytes += bytes;
        to.Bytes += bytes;
    }

    private void StartRound(SimNode node, Action<SimNode>? afterRound)
    {
        var targets = Gossip.Targets(node.Seeds, node.Membership, _o.Fanout, _rng);
        node.Pending = targets.Count;
        if (targets.Count == 0)
        {
            EndRound(node, afterRound);
            return;
        }
        foreach (var (address, nodeId) in targets)
        {
            var started = Now;
            if (!_byAddress.TryGetValue(address, out var peer) || _rng.NextDouble() < _o.Loss)
            {
                At(started + _o.ExchangeTimeout, () =>
                {
                    if (nodeId is not null)
                    {
                        node.Membership.ObserveFailure(nodeId);
                    }
                    Done(node, afterRound);
                });
                continue;
            }
            // What GridRuntime's exchange sends: adverts, receipts for this peer, vouches, then a Ping.
            var adverts = Gossip.AdvertsToShare(SelfAdverts(node), node.Membership);
            var receipts = node.Gossip.ReceiptsToShare(peer.Id);
            var vouches = node.Gossip.VouchesToShare();
            long advertBytes = adverts.Sum(SizeOf);
            long other = receipts.Sum(r => FrameFormat.HeaderLength + (long)r.Length) + vouches.Sum(v => FrameFormat.HeaderLength + (long)v.Length) + _pingBytes;
            _advertBytes += advertBytes;
            _otherBytes += other;
            Count(node, peer, advertBytes + other);
            if (receipts.Count > 0)
            {
                _receiptsPushed += receipts.Count;
                _receiptExchanges++;
            }
            At(started + Latency(), () =>
            {
                // The host's side (Worker): take in each frame in order, then answer the Ping with its adverts, vouches and a Pong.
                foreach (var a in adverts)
                {
                    Gossip.TakeAdvert(peer.Membership, a, node.Id);
                }
                foreach (var r in receipts)
                {
                    peer.Gossip.IngestReceipt(r, node.Id);
                }
                foreach (var v in vouches)
                {
                    peer.Gossip.IngestVouch(v, node.Id);
                }
                var back = Gossip.AdvertsToShare(SelfAdverts(peer), peer.Membership);
                var backVouches = peer.Gossip.VouchesToShare();
                long backAdvertBytes = back.Sum(SizeOf);
                long backOther = backVouches.Sum(v => FrameFormat.HeaderLength + (long)v.Length) + _pingBytes;
                _advertBytes += backAdvertBytes;
                _otherBytes += backOther;
                Count(node, peer, backAdvertBytes + backOther);
                At(Now + Latency(), () =>
                {
                    foreach (var a in back)
                    {
                        Gossip.TakeAdvert(node.Membership, a, peer.Id);
                    }
                    foreach (var v in backVouches)
                    {
                        node.Gossip.IngestVouch(v, peer.Id);
                    }
                    node.Membership.ObserveContact(peer.Id, (Now - started).TotalMilliseconds);
                    Done(node, afterRound);
                });
            });
        }
    }

    private void Done(SimNode node, Action<SimNode>? afterRound)
    {
        if (--node.Pending == 0)
        {
            EndRound(node, afterRound);
        }
    }

    private void EndRound(SimNode node, Action<SimNode>? afterRound)
    {
        node.Membership.Expire();
        afterRound?.Invoke(node);
        // GridRuntime's loop: wait a heartbeat after a round has finished, then run the next.
        At(Now + _o.Heartbeat, () => StartRound(node, afterRound));
    }

    private bool KnowsAlive(SimNode node, string id) =>
        node.Membership.Find(id) is { State: PeerState.Alive } e && Now - e.LastSeen <= node.Membership.Ttl;

    public SimulationResult Run()
    {
        var wall = Stopwatch.StartNew();
        // The requester's trust store is a DuckDB database (idempotent: a program that already loaded libduckdb keeps it).
        Duckton.DuckDB.Native.DuckDBNative.InitializeFromLibrary();
        for (var i = 0; i < _o.Nodes; i++)
        {
            _hosts.Add(NewNode(i, hosts: true));
        }
        var seedAddresses = _hosts.Take(_o.Seeds).Select(h => h.Address).ToList();
        foreach (var h in _hosts)
        {
            h.IsSeed = h.Index < _o.Seeds;
            h.Seeds.AddRange(seedAddresses.Where(a => a != h.Address));
            At(Now + (_o.Heartbeat * _rng.NextDouble()), () => StartRound(h, null));
        }
        _log?.Invoke($"n={_o.Nodes}: {_hosts.Count} identities in {wall.Elapsed.TotalSeconds:0.0} s");

        // The requester: the product's trust engine (on a real trust store) and coordinator selection.
        var storeDir = Directory.CreateTempSubdirectory("duckton-sim-");
        var config = NodeConfig.Defaults;
        TrustStore? store = null;
        ConnectionPool? pool = null;
        var samples = new List<RoundSample>();
        SimNode? newcomer = null;
        DateTimeOffset? joinedAt = null, knownBy50 = null, knownBy99 = null, selectable = null;
        string? stopped = null;
        var issuedReceipts = new List<string>();
        try
        {
            store = TrustStore.Open(storeDir.FullName, time: _clock);
            var requesterSeed = new byte[32];
            _rng.NextBytes(requesterSeed);
            var requesterIdentity = NodeIdentity.FromSeed(requesterSeed);
            var trust = new TrustEngine(() => store, requesterIdentity, () => config, new NoCanaries(), _clock, NullLogger.Instance);
            var requesterMembership = new Membership(requesterIdentity.NodeId, _clock, _o.PowBits, Verify) { Ttl = _o.AdvertTtl };
            var requester = new SimNode(-1, requesterIdentity, "requester", requesterMembership, trust, hosts: false);
            requester.Seeds.AddRange(seedAddresses);
            pool = new ConnectionPool(requesterIdentity, new TransportOptions { Time = _clock });
            var coordinator = new Coordinator(requesterIdentity, pool, requesterMembership, "sim", trust, trust, _clock, NullLogger.Instance);
            var job = 0;
            void RunJob(SimNode r)
            {
                // One verified job per round, chosen as the coordinator does: the replicas selection ranks first plus the
                // newcomers it checks as shadow replicas. Every host answers correctly, so each gets a receipt (and a
                // shadow's checked answer vets it, as in a real run).
                var jobId = $"sim-{_o.RandomSeed}-{job++}";
                var eligible = coordinator.Eligible(config, QueryOverrides.None);
                var context = new CandidateContext(jobId, "SELECT 42", config, QueryOverrides.None);
                var picked = trust.Rank(eligible, context).Take(config.Scheduler.Replicas).ToList();
                var shadows = trust.Shadows(eligible.Where(p => !picked.Exists(x => x.NodeId == p.NodeId)).ToList(), context);
                var verdicts = picked.Select(p => new HostVerdict(p.NodeId, Verdict.Correct, "b3:" + new string('0', 64), 1, 20, 64, null))
                    .Concat(shadows.Select(p => new HostVerdict(p.NodeId, Verdict.Correct, "b3:" + new string('0', 64), 1, 20, 64, null) { Shadow = true }))
                    .ToList();
                if (verdicts.Count == 0)
                {
                    return;
                }
                trust.Issue(jobId, "b3:" + new string('1', 64), verdicts, config);
                issuedReceipts.AddRange(verdicts.Select(v => jobId + "/" + v.NodeId));
            }
            At(Now + (_o.Heartbeat * _rng.NextDouble()), () => StartRound(requester, RunJob));

            bool SelectableNow()
            {
                if (newcomer is null || coordinator.Eligible(config, QueryOverrides.None).FirstOrDefault(p => p.NodeId == newcomer.Id) is not { } entry)
                {
                    return false;
                }
                return trust.Usable([entry], config, QueryOverrides.None).Count == 1;
            }

            void Sample(int round)
            {
                var known = new double[_hosts.Count];
                var tables = 0L;
                for (var i = 0; i < _hosts.Count; i++)
                {
                    var h = _hosts[i];
                    var alive = h.Membership.SampleLive(int.MaxValue, _rng, e => e.State != PeerState.Alive || !_byId.ContainsKey(e.NodeId));
                    known[i] = (double)alive.Count / (_hosts.Count - 1);
                    tables += h.Membership.SampleLive(int.MaxValue, _rng).Count;
                }
                var bytes = _hosts.Select(h => (double)h.Bytes).ToArray();
                var seedBytes = _hosts.Where(h => h.IsSeed).Select(h => (double)h.Bytes).DefaultIfEmpty(0).Average();
                samples.Add(new RoundSample(round, known.Average(), known.Min(), bytes.Average(), bytes.Max(), seedBytes, (double)_verifies / (_hosts.Count + 1),
                    (double)tables / _hosts.Count));
                foreach (var h in _hosts)
                {
                    h.Bytes = 0;
                }
                _verifies = 0;
                var last = samples[^1];
                _log?.Invoke($"n={_o.Nodes} round {round}: known mean {last.MeanKnown:P1} min {last.MinKnown:P1}, {last.BytesPerNode / 1024:0.0} KiB/node, table {last.MeanTable:0}, {wall.Elapsed.TotalSeconds:0} s");
            }

            void CheckNewcomer()
            {
                if (newcomer is null)
                {
                    return;
                }
                var others = _hosts.Where(h => h != newcomer).ToList();
                var share = (double)others.Count(h => KnowsAlive(h, newcomer.Id)) / others.Count;
                knownBy50 ??= share >= 0.5 ? Now : null;
                knownBy99 ??= share >= 0.99 ? Now : null;
                selectable ??= SelectableNow() ? Now : null;
            }

            var start = Now;
            for (var round = 1; round <= _o.Rounds; round++)
            {
                var r = round;
                At(start + (_o.Heartbeat * r), () => Sample(r));
            }
            At(start + (_o.Heartbeat * _o.JoinRound), () =>
            {
                newcomer = NewNode(_hosts.Count, hosts: true);
                newcomer.Seeds.AddRange(seedAddresses);
                _hosts.Add(newcomer);
                joinedAt = Now;
                StartRound(newcomer, null);
            });
            for (var t = start + (_o.Heartbeat * _o.JoinRound); t <= start + (_o.Heartbeat * _o.Rounds); t += _o.Heartbeat / 10)
            {
                At(t, CheckNewcomer);
            }
            var end = start + (_o.Heartbeat * _o.Rounds);
            // Counted here, not by the events scheduled: an action may schedule several, skipping any multiple.
            var ran = 0L;
            while (_events.TryDequeue(out var action, out var when) && when.At <= end.UtcTicks)
            {
                _clock.AdvanceTo(new DateTimeOffset(when.At, TimeSpan.Zero));
                action();
                if ((++ran & 0x3FFF) == 0 && GC.GetTotalMemory(false) > _o.MaxManagedBytes)
                {
                    stopped = $"stopped at {(Now - start) / _o.Heartbeat:0.0} heartbeats: the managed heap passed {_o.MaxManagedBytes >> 20} MiB";
                    break;
                }
            }
        }
        finally
        {
            // The pool never dialled anyone (selection only reads the membership table): disposing it closes nothing.
            pool?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            store?.Dispose();
            try
            {
                storeDir.Delete(recursive: true);
            }
            catch (IOException)
            {
            }
        }

        int? FirstRound(Func<RoundSample, bool> reached) => samples.FirstOrDefault(reached)?.Round;
        var steady = samples.Where(s => s.Round > _o.Rounds / 2 && s.Round != _o.JoinRound).DefaultIfEmpty(samples.LastOrDefault() ?? new RoundSample(0, 0, 0, 0, 0, 0, 0, 0)).ToList();
        var hostsReached = _hosts.Select(h => ((HostGossip)h.Gossip).Held.Count).Sum();
        double? After(DateTimeOffset? at) => at is { } a && joinedAt is { } j ? (a - j).TotalSeconds : null;
        return new SimulationResult(_o, samples,
            FirstRound(s => s.MeanKnown >= 0.99), FirstRound(s => s.MinKnown >= 1.0),
            After(knownBy50), After(knownBy99), After(selectable),
            steady.Average(s => s.BytesPerNode), steady.Average(s => s.MaxBytesPerNode), steady.Average(s => s.SeedBytes), steady.Average(s => s.VerifiesPerNode),
            steady.Average(s => s.MeanKnown), steady.Average(s => s.MeanTable),
            _advertBytes + _otherBytes == 0 ? 0 : (double)_advertBytes / (_advertBytes + _otherBytes),
            _receiptExchanges == 0 ? 0 : (double)_receiptsPushed / _receiptExchanges,
            issuedReceipts.Count == 0 ? 0 : (double)hostsReached / issuedReceipts.Count,
            wall.Elapsed, GC.GetTotalMemory(false), stopped);
    }
}

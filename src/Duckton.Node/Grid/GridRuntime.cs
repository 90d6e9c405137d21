using System.Diagnostics;
using System.Net;
using Duckton.Core.Protocol;
using Duckton.Transport;
using Microsoft.Extensions.Logging;
using CoreConfig = Duckton.Core.Configuration;

namespace Duckton.Node.Grid;

/// <summary>
/// This node's part in the grid: identity, connection pool, membership (seeds plus gossip of signed adverts, failure
/// detection, expiry), the coordinator, and — once sharing — the worker behind a listener. Every background loop
/// runs on pool threads, so it never keeps a process alive.
/// </summary>
public sealed partial class GridRuntime : IAsyncDisposable, IAdvertExchange
{
    private readonly Func<CoreConfig.NodeConfig> _config;
    private readonly TimeProvider _time;
    private readonly ITrustGate _trust;
    private readonly IReceiptSink _receipts;
    private readonly IGossipParticipant _gossip;
    private readonly IJobFaults _faults;
    private readonly IJobObserver _jobs;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly List<string> _seeds = [];
    private Task? _gossipLoop;
    private PeerListener? _listener;
    private AdvertMessage? _advert;
    private ulong _powNonce;
    private int _powBits;
    private ulong _seq;

    /// <summary>
    /// Builds the runtime with every collaborator it needs; none may be null (a grid is never half-wired). It changes
    /// nothing process-wide: a program that blocks pool threads on grid work sizes its own thread pool (the CLI does).
    /// </summary>
    /// <param name="trust">Deny-list, bid attestation checks, ranking and shadow selection (fail closed).</param>
    /// <param name="receipts">Issues receipts from the coordinator's verdicts.</param>
    /// <param name="gossip">Receipts and vouches exchanged with peers.</param>
    /// <param name="faults">What a host started here deviates in (<see cref="IJobFaults.None"/>: honest).</param>
    /// <param name="jobs">Sees every job a host started here finished.</param>
    /// <param name="configDirectory">Where <c>known_peers</c> is kept; null: no pinning file.</param>
    public GridRuntime(NodeIdentity identity, Func<CoreConfig.NodeConfig> config, string engineVersion, ITrustGate trust, IReceiptSink receipts, IGossipParticipant gossip,
        IJobFaults faults, IJobObserver jobs, TimeProvider time, ILogger logger, string? configDirectory = null)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(engineVersion);
        ArgumentNullException.ThrowIfNull(trust);
        ArgumentNullException.ThrowIfNull(receipts);
        ArgumentNullException.ThrowIfNull(gossip);
        ArgumentNullException.ThrowIfNull(faults);
        ArgumentNullException.ThrowIfNull(jobs);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        Identity = identity;
        _config = config;
        _trust = trust;
        _receipts = receipts;
        _gossip = gossip;
        _faults = faults;
        _jobs = jobs;
        _time = time;
        _logger = logger;
        var c = config();
        // Every transport setting of the configuration (protocol versions included), then what only the runtime knows.
        TransportOptions = TransportOptions.FromConfig(c, "duckton-dotnet") with
        {
            KnownPeersPath = configDirectory is null ? null : Path.Combine(configDirectory, "known_peers"),
            Time = _time,
            IsBlocked = trust.IsBlocked,
            Logger = logger,
        };
        Pool = new ConnectionPool(identity, TransportOptions);
        Membership = new Membership(identity.NodeId, _time, c.Sybil.PowDifficultyBits) { Ttl = c.Discovery.Gossip.CapabilityTtl, Capacity = c.Limits.PeerCacheCapacity };
        Coordinator = new Coordinator(identity, Pool, Membership, engineVersion, trust, receipts, _time, logger);
    }

    public NodeIdentity Identity { get; }
    public TransportOptions TransportOptions { get; }
    public ConnectionPool Pool { get; }
    public Membership Membership { get; }
    public Coordinator Coordinator { get; }
    public Worker? Worker { get; private set; }

    /// <summary>The address peers reach this node's listener at (null until sharing).</summary>
    public string? ListenAddress { get; private set; }

    public IReadOnlyList<string> Seeds
    {
        get
        {
            lock (_gate)
            {
                return [.. _seeds];
            }
        }
    }

    /// <summary>Adds seeds, starts gossiping and runs one gossip round now, so peers are known when this returns.</summary>
    /// <param name="waitForEverySeed">
    /// False: return as soon as one seed has answered (hosts are known) and let the round finish in the background, so an
    /// unreachable seed does not cost its full connect timeout (used by the implicit join of a query).
    /// </param>
    public async Task JoinAsync(IEnumerable<string> seeds, CancellationToken cancellationToken = default, bool waitForEverySeed = true)
    {
        lock (_gate)
        {
            foreach (var s in seeds.Select(s => s.Trim()).Where(s => s.Length > 0))
            {
                if (!_seeds.Contains(s))
                {
                    _seeds.Add(s);
                }
            }
        }
        var firstAnswer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var round = GossipRoundAsync(cancellationToken, firstAnswer);
        if (waitForEverySeed)
        {
            await round.ConfigureAwait(false);
        }
        else
        {
            await Task.WhenAny(round, firstAnswer.Task).ConfigureAwait(false);
            if (round.IsCompleted)
            {
                await round.ConfigureAwait(false);
            }
            else
            {
                _ = round.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            }
        }
        // Pre-connect to the hosts just learned, so the first query pays no handshake (bounded: a slow peer does not hold up the join).
        await WarmConnectionsAsync(force: false, cancellationToken).WaitAsync(_config().Scheduler.OfferTimeout, _time, cancellationToken)
            .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        StartGossip();
    }

    /// <summary>Idle connections kept open to every live host while this node requests (one serves a query while another drains).</summary>
    public int WarmConnectionsPerPeer { get; init; } = 2;

    /// <summary>
    /// Tops the pool up to <see cref="WarmConnectionsPerPeer"/> idle connections per host for the hosts a query is likely to
    /// ask: at most <c>discovery.candidate_sample_size</c> of them (<see cref="WarmTargets"/>), not every live host, so a
    /// node that knows hundreds of hosts neither dials them all each heartbeat nor holds a connection on each. A pure host
    /// (one that has never requested) keeps none unless <paramref name="force"/>: it never dials other hosts for queries.
    /// </summary>
    public Task WarmConnectionsAsync(bool force, CancellationToken cancellationToken = default)
    {
        if (WarmConnectionsPerPeer <= 0 || (!force && Worker is not null && !Coordinator.HasRun))
        {
            return Task.CompletedTask;
        }
        var config = _config();
        var live = Membership.Live().Where(p => p.NodeId != Identity.NodeId && p.State == PeerState.Alive && p.Advert.Enabled).ToList();
        var hosts = WarmTargets(live, Pool.IdleTo, Math.Max(config.Discovery.CandidateSampleSize, config.Scheduler.Replicas));
        return Task.WhenAll(hosts.Select(p => Pool.WarmAsync(p.Address, p.NodeId, WarmConnectionsPerPeer, cancellationToken)));
    }

    /// <summary>
    /// The hosts to keep warm, at most <paramref name="limit"/>: first those the pool already holds idle connections to (hosts
    /// that recent queries or gossip rounds used, cheapest to keep), most first, so the set is sticky; then the fastest measured; then the rest in random order.
    /// </summary>
    internal static IReadOnlyList<PeerEntry> WarmTargets(IReadOnlyList<PeerEntry> live, Func<string, int> idleTo, int limit) =>
        live.Count <= limit
            ? live
            : live.Select(p => (Peer: p, Idle: idleTo(p.Address), Tie: Random.Shared.Next()))
                .OrderByDescending(x => x.Idle).ThenBy(x => x.Peer.RttMs ?? double.MaxValue).ThenBy(x => x.Tie)
                .Take(limit).Select(x => x.Peer).ToList();

    /// <summary>The worker's escrow check for paid jobs (set before hosting starts; see <see cref="Worker.EscrowCheck"/>).</summary>
    public Func<Economics.EscrowCheckRequest, CancellationToken, Task<string?>>? EscrowCheck { get; set; }

    /// <summary>Starts hosting (or updates what is donated when already hosting); returns the listen address.</summary>
    public async Task<string> ShareAsync(WorkerOptions options, string bindAddress, bool enabled, CancellationToken cancellationToken = default)
    {
        // Our own stamp meets the usual requirement even when this node accepts less, and what it is configured to ask.
        var bits = Math.Max(ProofOfWork.DefaultBits, _config().Sybil.PowDifficultyBits);
        if (_powBits < bits)
        {
            _powNonce = await Task.Run(() => ProofOfWork.Mint(Identity.PublicKey.Span, bits), cancellationToken).ConfigureAwait(false);
            _powBits = bits;
        }
        if (Worker is { } running && running.Options == options)
        {
            running.Enabled = enabled;
        }
        else
        {
            var worker = new Worker(Identity, options, _trust, _receipts, _gossip, this, _faults, _jobs, _time, _logger)
            {
                Enabled = enabled,
                // Read live: p2p_pricing and the economics switch apply to the next offer. Economics off: no paid jobs.
                Pricing = () => _config() is { Economics.Enabled: true } c ? Economics.Pricing.QuoteFor(c) : null,
                EscrowCheck = EscrowCheck,
            };
            var old = Worker;
            Worker = worker;
            old?.Dispose();
        }
        if (_listener is null)
        {
            var endPoint = ParseBind(bindAddress);
            _listener = await PeerListener.StartAsync(Identity, endPoint, TransportOptions, (c, ct) => Worker!.HandleConnectionAsync(c, ct), _stop.Token).ConfigureAwait(false);
            var advertised = _config().Network.AdvertisedAddr;
            ListenAddress = advertised.Length > 0 ? advertised : FormatEndPoint(_listener.LocalEndPoint);
        }
        _advert = null;
        StartGossip();
        return ListenAddress!;
    }

    public bool Hosting => Worker is not null;

    void IAdvertExchange.IngestAdvert(AdvertMessage advert, string fromPeer) => Gossip.TakeAdvert(Membership, advert, fromPeer);

    IReadOnlyList<AdvertMessage> IAdvertExchange.AdvertsToShare() => Gossip.AdvertsToShare(SelfAdverts(), Membership);

    async Task<bool> IAdvertExchange.ProbeForAsync(string nodeId, string address, TimeSpan timeout, string fromPeer, CancellationToken cancellationToken)
    {
        // Only a peer we know at that very address: a probe request must not make this host dial what a stranger names.
        if (nodeId == fromPeer || Membership.Find(nodeId) is not { } known || known.Address != address)
        {
            return false;
        }
        return await PingAsync(address, nodeId, timeout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The last failed gossip exchange (address and error), for p2p_status.</summary>
    public string? LastGossipError { get; private set; }

    public void SetEnabled(bool enabled)
    {
        if (Worker is { } w)
        {
            w.Enabled = enabled;
            _advert = null;
        }
    }

    private static IPEndPoint ParseBind(string address)
    {
        var colon = address.LastIndexOf(':');
        var host = address[..colon].Trim('[', ']');
        var port = int.Parse(address.AsSpan(colon + 1), System.Globalization.CultureInfo.InvariantCulture);
        var ip = host is "" or "*" or "0.0.0.0" ? IPAddress.Any : host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host);
        return new IPEndPoint(ip, port);
    }

    private static string FormatEndPoint(IPEndPoint ep) =>
        ep.Address.Equals(IPAddress.Any) ? $"127.0.0.1:{ep.Port}" : ep.ToString();

    /// <summary>This host's current signed advert (re-signed with a higher seq when stale or changed).</summary>
    public IReadOnlyList<AdvertMessage> SelfAdverts()
    {
        if (Worker is not { } w || ListenAddress is null)
        {
            return [];
        }
        var now = (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds();
        var current = _advert;
        if (Gossip.AdvertIsStale(current, now, Membership.Ttl))
        {
            var (mem, threads, _) = w.Free();
            current = new AdvertMessage(Identity.PublicKey.ToArray(), ListenAddress, (ulong)Math.Max(0, mem), (uint)Math.Max(0, threads), (uint)w.Options.MaxJobs, (byte)w.Options.SimulatedAttestation, w.Enabled,
                [.. w.Options.Networks], [.. w.Options.Groups], w.Options.Region, _powNonce, (byte)_powBits, now, Interlocked.Increment(ref _seq))
            {
                Tokens = w.Options.MembershipTokens,
            };
            var summary = _faults.AdvertisedReceipts(_gossip.ReceiptSummary());
            current = current with { ReceiptCount = summary.Count, ReceiptDigest = summary.Digest };
            current = current.SignWith(b => Identity.Sign(b));
            _advert = current;
        }
        return [current];
    }

    private void StartGossip()
    {
        lock (_gate)
        {
            if (_gossipLoop is not null)
            {
                return;
            }
            var token = _stop.Token;
            _gossipLoop = Task.Run(async () =>
            {
                while (!token.IsCancellationRequested)
                {
                    try
                    {
                        await Task.Delay(_config().Discovery.Gossip.Heartbeat, _time, token).ConfigureAwait(false);
                        await GossipRoundAsync(token).ConfigureAwait(false);
                        await WarmConnectionsAsync(force: false, token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                    catch (Exception e)
                    {
                        // One failed round is not fatal; the next one retries.
                        _logger.GossipRoundFailed(e);
                    }
                }
            }, CancellationToken.None);
        }
    }

    /// <summary>One gossip round: exchange adverts with every seed and a random sample of known peers, then expire stale peers.</summary>
    public Task GossipRoundAsync(CancellationToken cancellationToken = default) => GossipRoundAsync(cancellationToken, null);

    /// <param name="firstAnswer">Completed when the first exchange of the round has finished (adverts and Pong received).</param>
    private async Task GossipRoundAsync(CancellationToken cancellationToken, TaskCompletionSource? firstAnswer)
    {
        var config = _config();
        Membership.MinPowBits = config.Sybil.PowDifficultyBits;
        // The round a join starts (firstAnswer given) reaches every seed; later rounds follow the seed rule of Gossip.Targets.
        var targets = Gossip.Targets(Seeds, Membership, config.Discovery.Gossip.Fanout, Random.Shared, askEverySeed: firstAnswer is not null);
        await Task.WhenAll(targets.Select(t => ExchangeAsync(t.Address, t.NodeId, config.Scheduler.OfferTimeout, cancellationToken, firstAnswer))).ConfigureAwait(false);
        await DetectFailuresAsync(config, cancellationToken).ConfigureAwait(false);
        Membership.Expire();
    }

    private async Task ExchangeAsync(string address, string? nodeId, TimeSpan timeout, CancellationToken cancellationToken, TaskCompletionSource? answered = null)
    {
        PeerConnection? c = null;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            c = await Pool.RentAsync(address, nodeId, cts.Token).ConfigureAwait(false);
            var sw = Stopwatch.StartNew();
            foreach (var a in Gossip.AdvertsToShare(SelfAdverts(), Membership))
            {
                await c.SendAsync(MessageType.Advert, a.Encode(), cts.Token).ConfigureAwait(false);
            }
            foreach (var r in _gossip.ReceiptsToShare(c.RemoteNodeId))
            {
                await c.SendAsync(MessageType.Receipt, r, cts.Token).ConfigureAwait(false);
            }
            foreach (var v in _gossip.VouchesToShare())
            {
                await c.SendAsync(MessageType.Vouch, v, cts.Token).ConfigureAwait(false);
            }
            var nonce = (ulong)Random.Shared.NextInt64();
            await c.SendAsync(MessageType.Ping, new PingMessage(nonce, (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds()).Encode(), cts.Token).ConfigureAwait(false);
            var receive = Task.Run(async () =>
            {
                while (true)
                {
                    var f = await c.ReceiveAsync().ConfigureAwait(false);
                    if (f.Type == MessageType.Advert)
                    {
                        Gossip.TakeAdvert(Membership, AdvertMessage.Decode(f.Payload.Span), c.RemoteNodeId);
                    }
                    else if (f.Type == MessageType.Receipt)
                    {
                        _gossip.IngestReceipt(f.Payload.ToArray(), c.RemoteNodeId);
                    }
                    else if (f.Type == MessageType.Vouch)
                    {
                        _gossip.IngestVouch(f.Payload.ToArray(), c.RemoteNodeId);
                    }
                    else if (f.Type == MessageType.Pong && PingMessage.Decode(f.Payload.Span).Nonce == nonce)
                    {
                        return;
                    }
                }
            }, CancellationToken.None);
            if (!await TaskWaits.Within(receive, timeout, cancellationToken).ConfigureAwait(false))
            {
                throw new TimeoutException();
            }
            await receive.ConfigureAwait(false);
            Membership.ObserveContact(c.RemoteNodeId, sw.Elapsed.TotalMilliseconds);
            Pool.Return(c);
            c = null;
            answered?.TrySetResult();
        }
        catch (Exception e)
        {
            LastGossipError = $"{address}: {e.GetType().Name}: {e.Message}";
            if (nodeId is not null)
            {
                Membership.ObserveFailure(nodeId);
            }
        }
        finally
        {
            if (c is not null)
            {
                await c.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }
        await Pool.DisposeAsync().ConfigureAwait(false);
        Worker?.Dispose();
    }
}

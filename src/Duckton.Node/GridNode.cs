using System.Diagnostics;
using System.Security.Cryptography;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.Engine;
using Duckton.Node.Grid;
using Duckton.Node.Trust;
using Duckton.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Node;

/// <summary>Settings a <see cref="GridNode"/> is built with.</summary>
public sealed record GridNodeOptions
{
    /// <summary>Where the node keeps its keys, configuration and stores.</summary>
    public string? ConfigDirectory { get; init; }

    /// <summary>The layered configuration; by default the store of <see cref="ConfigDirectory"/>.</summary>
    public ConfigStore? Config { get; init; }
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// The node's one trust store (receipts, penalties, vouches, deny-list), shared with whoever else needs it (the
    /// SQL surface). Null: the node opens its own on first use.
    /// </summary>
    public Func<TrustStore>? TrustStore { get; init; }

    /// <summary>Sees the phases of this node's remote queries (the shell's spinner); null: nobody watches.</summary>
    public IGridProgressObserver? GridProgress { get; init; }

    /// <summary>Where the node explains its decisions, above all the fail-closed ones (a trust store that failed); none by default.</summary>
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>How a host started by this node deviates from the protocol: honest unless a demo program supplies SIMULATED faults.</summary>
    public IJobFaults JobFaults { get; init; } = IJobFaults.None;

    /// <summary>Sees every job a host started by this node finished (the host's job log).</summary>
    public IJobObserver JobObserver { get; init; } = IJobObserver.None;

    /// <summary>
    /// Where hosts' stake is read with economics on (the economics runtime supplies a <see cref="Economics.ChainStakeSource"/>);
    /// asked on every use, so it must return the same instance while its settings are unchanged. Never asked with
    /// economics off: the stake source is then the null source (stake 0, no chain client, no connection). Null: with
    /// economics on, stake is unknown (counts 0; stake requirements fail closed).
    /// </summary>
    public Func<NodeConfig, Economics.IStakeSource>? StakeSource { get; init; }

    /// <summary>
    /// Where the record keeper anchors sealed epoch roots when economics is on and this node is the keeper
    /// (economics.records.keeper); called only then. Null or returning null: roots are only stored locally.
    /// </summary>
    public Func<Duckton.Core.Records.IEpochAnchor?>? EpochAnchor { get; init; }

    /// <summary>
    /// Pays a verified paid job (the economics runtime opens and settles its escrow); called only for paid jobs. Null: a
    /// paid job's payment is reported as not settled.
    /// </summary>
    public Func<Economics.PaidJob, CancellationToken, Task<Economics.PaymentReport>>? SettlePaidJob { get; init; }

    /// <summary>
    /// The economics runtime's owner, shared with whoever else needs it (the SQL surface); the escrow steps and the
    /// evidence slasher use it. Null: the node keeps its own, which builds nothing (no chain client, no connection)
    /// while economics is off.
    /// </summary>
    public Economics.EconomicsHost? Economics { get; init; }
}

/// <summary>
/// The node: plans each query (local or grid), runs it and reports how it was verified. With no usable peers a
/// query runs in the locked-down local engine.
/// </summary>
public sealed class GridNode : IDisposable
{
    /// <summary>Join rounds a query tries against its persisted seeds while no host is known (each bounded by scheduler.offer_timeout_ms).</summary>
    private const int JoinRounds = 3;

    private readonly GridNodeOptions _options;
    private readonly Lock _engineGate = new();
    private LockedDownEngine? _engine;
    private readonly Lazy<NodeIdentity> _identity;
    private readonly Lock _gridGate = new();
    private readonly InflightGate _inflight = new();
    private GridRuntime? _grid;
    private string? _nodeId;
    private readonly Lazy<TrustStore>? _ownStore;
    private readonly Lazy<TrustEngine> _trust;
    private readonly Lazy<Records.RecordKeeper> _keeper;
    private readonly Economics.EconomicsHost _economics;
    private readonly bool _ownEconomics;
    private readonly Task _resume = Task.CompletedTask;
    private readonly Lazy<Economics.EvidenceSlasher> _slasher;

    public GridNode(GridNodeOptions? options = null)
    {
        _options = options ?? new GridNodeOptions();
        ArgumentNullException.ThrowIfNull(_options.Time);
        ArgumentNullException.ThrowIfNull(_options.Logger);
        ArgumentNullException.ThrowIfNull(_options.JobFaults);
        ArgumentNullException.ThrowIfNull(_options.JobObserver);
        Config = _options.Config ?? new ConfigStore(ConfigDirectory.Resolve(_options.ConfigDirectory));
        _identity = new Lazy<NodeIdentity>(() => NodeIdentity.LoadOrCreate(Config.ConfigDirectory), LazyThreadSafetyMode.ExecutionAndPublication);
        if (_options.TrustStore is null)
        {
            _ownStore = new Lazy<TrustStore>(() => Duckton.Node.Trust.TrustStore.Open(Config.ConfigDirectory, Config.Effective().Config.Trust.StorePath, _options.Time),
                LazyThreadSafetyMode.ExecutionAndPublication);
        }
        _trust = new Lazy<TrustEngine>(() => new TrustEngine(() => TrustStore, Identity, () => Config.Effective().Config, new LocalAnswers(this), _options.Time, _options.Logger)
            {
                Stakes = new Economics.StakeBook(() => StakeSourceFor(Config.Effective().Config), () => Config.Effective().Config.Economics.Stake.Refresh, _options.Time, _options.Logger),
            },
            LazyThreadSafetyMode.ExecutionAndPublication);
        _keeper = new Lazy<Records.RecordKeeper>(() => new Records.RecordKeeper(() => TrustStore, () => Config.Effective().Config, () => _options.EpochAnchor?.Invoke(),
            _options.Time, _options.Logger), LazyThreadSafetyMode.ExecutionAndPublication);
        _ = EngineFor(Config.Effective().Config);
        _ownEconomics = _options.Economics is null;
        _economics = _options.Economics ?? new Economics.EconomicsHost(Config, _options.Time, _options.Logger);
        _slasher = new Lazy<Economics.EvidenceSlasher>(() => new Economics.EvidenceSlasher(() => TrustStore, Trust, () => Config.Effective().Config,
            _economics.Runtime, Config.ConfigDirectory, EngineVersion, _options.Time, _options.Logger), LazyThreadSafetyMode.ExecutionAndPublication);
        _resume = StartEscrowResume(Config.Effective().Config);
    }

    /// <summary>
    /// Escrows a previous run of this node left open (a crash or kill between open and settle): resumed once, in the
    /// background, when economics is on with the on-chain rail — settled when the record says the rows verified,
    /// refunded past the deadline, marked closed or abandoned as the chain shows. Nothing pending: nothing runs.
    /// </summary>
    private Task StartEscrowResume(NodeConfig c)
    {
        if (!c.Economics.Enabled || c.Economics.Settlement != SettlementKind.Onchain || !HasPendingEscrows())
        {
            return Task.CompletedTask;
        }
        return Task.Run(async () =>
        {
            try
            {
                var settlement = new Economics.EscrowSettlement(_economics.Runtime(), _options.Logger);
                var resumed = await settlement.ResumeAsync().ConfigureAwait(false);
                _options.Logger.LogInformation("resumed {Count} pending escrow(s): {States}", resumed.Count, string.Join(", ", resumed.Select(e => $"{e.JobId} {e.State}")));
            }
            catch (Exception e) when (e is Economics.EconomicsException or Duckton.Ton.Rpc.ToncenterException or IOException or System.Text.Json.JsonException)
            {
                _options.Logger.LogWarning("pending escrows not resumed (the next start tries again): {Error}", e.Message);
            }
        });
    }

    private bool HasPendingEscrows()
    {
        var dir = Path.Combine(Config.ConfigDirectory, "escrows");
        try
        {
            return Directory.Exists(dir) && Directory.EnumerateFiles(dir, "*.json").Any(f => File.ReadAllText(f) is var t
                && (t.Contains("\"State\": \"open\"", StringComparison.Ordinal) || t.Contains("\"State\": \"opening\"", StringComparison.Ordinal)));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _options.Logger.LogWarning("pending escrows not read: {Error}", e.Message);
            return false;
        }
    }

    /// <summary>Completes when the start-up escrow resume (if any) has finished.</summary>
    public Task EscrowResume => _resume;

    /// <summary>The host side: the escrow of a paid job this host bills for, checked on chain (on-chain rail only).</summary>
    private async Task<string?> CheckEscrowAsync(Economics.EscrowCheckRequest request, CancellationToken ct)
    {
        var c = Config.Effective().Config;
        if (!c.Economics.Enabled || c.Economics.Settlement != SettlementKind.Onchain)
        {
            return null;
        }
        Economics.EconomicsRuntime runtime;
        try
        {
            runtime = _economics.Runtime();
        }
        catch (Economics.EconomicsException e)
        {
            return $"not funded as far as this host can tell: {e.Message}";
        }
        return await Economics.EscrowGate.ProblemAsync(runtime, Identity.PublicKey.ToArray(), request, ct).ConfigureAwait(false);
    }

    /// <summary>The requester side: funds a paid job's escrow after its quorum, before its rows are fetched.</summary>
    private Task<Economics.PendingEscrow> FundEscrowAsync(Economics.EscrowFunding funding, CancellationToken ct) =>
        new Economics.EscrowSettlement(_economics.Runtime(), _options.Logger).FundAsync(funding, ct);

    private static readonly Economics.UnavailableStakeSource s_noChainSource =
        new("economics is on but no chain stake source is wired (the economics runtime supplies it)");

    /// <summary>The stake source for <paramref name="c"/>: the null source with economics off, whatever else is configured.</summary>
    private Economics.IStakeSource StakeSourceFor(NodeConfig c) =>
        !c.Economics.Enabled ? Economics.NullStakeSource.Instance : _options.StakeSource?.Invoke(c) ?? s_noChainSource;

    /// <summary>Seals this node's job records into epochs (and anchors their roots on the keeper node with economics on).</summary>
    public Records.RecordKeeper RecordKeeper => _keeper.Value;

    /// <summary>Slashes hosts by the evidence this node holds (with economics on, on the vaults' slasher; idle otherwise).</summary>
    public Economics.EvidenceSlasher Slasher => _slasher.Value;

    /// <summary>The node's one persistent trust store (injected by the host, or opened here on first use).</summary>
    public TrustStore TrustStore => _options.TrustStore is { } shared ? shared() : _ownStore!.Value;

    /// <summary>The trust engine: receipts, ranking, floors, canaries.</summary>
    public TrustEngine Trust => _trust.Value;

    /// <summary>This node's Ed25519 identity, persisted owner-only in the configuration directory on first use.</summary>
    public NodeIdentity Identity => _identity.Value;

    /// <summary>The grid runtime if it was started (by joining or sharing), else null.</summary>
    public GridRuntime? GridIfStarted => _grid;

    /// <summary>The grid runtime (identity, membership, coordinator, worker), started on first use.</summary>
    public GridRuntime Grid
    {
        get
        {
            lock (_gridGate)
            {
                if (_grid is null)
                {
                    var trust = Trust;
                    var grid = new GridRuntime(Identity, () => Config.Effective().Config, EngineVersion, trust, trust, trust, _options.JobFaults, _options.JobObserver,
                        _options.Time, _options.Logger, Config.ConfigDirectory);
                    grid.Coordinator.SpillDirectory = Path.Combine(Config.ConfigDirectory, "tmp");
                    grid.Coordinator.Progress = _options.GridProgress;
                    grid.Coordinator.FundEscrow = FundEscrowAsync;
                    grid.EscrowCheck = CheckEscrowAsync;
                    Duckton.Core.Data.SpooledBatches.RemoveLeftovers(grid.Coordinator.SpillDirectory); // from a killed process
                    Trust.Grid = grid;
                    grid.Membership.Observed = RememberPeer;
                    _grid = grid;
                    RecordKeeper.Start(); // a node on the grid seals its job records at each epoch's end
                    Slasher.Start(); // and slashes by its evidence (economics on, this node the slasher; idle otherwise)
                }
                return _grid;
            }
        }
    }

    /// <summary>Canary answers computed in this node's own locked-down engine.</summary>
    private sealed class LocalAnswers(GridNode node) : IKnownAnswers
    {
        public string ExpectedHash(string sql) => ResultHashing.Compute(node.EngineFor(node.Config.Effective().Config).Execute(sql));
    }

    /// <summary>Persists a sighting of a peer (written behind), so <c>p2p_peers()</c> lists it in later sessions and other processes.</summary>
    private void RememberPeer(PeerEntry peer)
    {
        try
        {
            var a = peer.Advert;
            var now = peer.LastSeen;
            TrustStore.NotePeer(new KnownPeer(peer.NodeId, peer.Address, a.Attestation, a.FreeMemoryBytes, a.FreeThreads, a.MaxJobs, a.Region, a.Enabled, now, now, peer.RttMs)
            {
                Networks = a.Networks,
                Groups = a.Groups,
            });
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException or Duckton.DuckDB.DuckDBException)
        {
            // Gossip goes on; the next sighting is remembered.
        }
    }

    /// <summary>The engine identity folded into query hashes (hosts with another DuckDB version commit other hashes).</summary>
    public static string EngineVersion => "duckdb-" + Duckton.DuckDB.Native.DuckDBNative.LibraryVersion;

    /// <summary>Joins the grid through <paramref name="seeds"/> (one gossip round runs before this returns).</summary>
    public void Join(IEnumerable<string> seeds) => Grid.JoinAsync(seeds).GetAwaiter().GetResult();

    /// <summary>Starts hosting with the configured budget (budget.*, worker.*, membership.*, network.bind_addr); returns the listen address.</summary>
    public string StartHosting(WorkerOptions? options = null, string? bindAddress = null)
    {
        var c = Config.Effective().Config;
        var grid = Grid;
        var address = grid.ShareAsync(options ?? WorkerOptions.FromConfig(c), bindAddress ?? c.Network.BindAddr, c.Worker.Enabled).GetAwaiter().GetResult();
        var seeds = c.Discovery.Bootstrap.Where(s => !grid.Seeds.Contains(s)).ToList();
        if (seeds.Count > 0)
        {
            grid.JoinAsync(seeds).GetAwaiter().GetResult();
        }
        return address;
    }

    /// <summary>The node's layered configuration (defaults, file, environment, runtime SQL layer).</summary>
    public ConfigStore Config { get; }

    /// <summary>The local engine for the current limits; rebuilt when they change (e.g. after <c>p2p_set</c>).</summary>
    private LockedDownEngine EngineFor(NodeConfig config)
    {
        var wanted = LocalEngineOptions(config);
        lock (_engineGate)
        {
            if (_engine is null || _engine.Options != wanted)
            {
                _engine?.Dispose();
                _engine = new LockedDownEngine(wanted);
            }
            return _engine;
        }
    }

    /// <summary>
    /// Local queries get the memory limit of a hosted job (<c>budget.per_job_memory_bytes</c>), at most
    /// <c>planner.ram_fraction</c> of the machine's memory, and every core.
    /// </summary>
    private static EngineOptions LocalEngineOptions(NodeConfig config)
    {
        var ram = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return EngineOptions.Default with
        {
            MemoryLimitBytes = Math.Max(64L << 20, Math.Min(config.Budget.PerJobMemoryBytes, (long)(ram * config.Planner.RamFraction))),
            WarmInstances = Math.Clamp(config.Planner.MaxConcurrentLocalJobs, 1, 4),
        };
    }

    /// <summary>Local (in-process engine) queries executing right now; an interrupted one stops counting once its engine stopped.</summary>
    public int LocalQueriesRunning
    {
        get
        {
            lock (_engineGate)
            {
                return _engine?.Running ?? 0;
            }
        }
    }

    /// <summary>This node's id as shown in query metadata.</summary>
    public string NodeId
    {
        get => _nodeId ?? Identity.NodeId;
        init => _nodeId = value;
    }

    public GridNodeOptions Options => _options;

    /// <summary>
    /// Runs <paramref name="sql"/> and returns its verified result. Throws <see cref="QueryFailedException"/>
    /// (carrying the metadata) when the query fails.
    /// </summary>
    /// <param name="computeHash">Also compute the canonical result hash for the metadata (costs one pass over the rows).</param>
    public QueryOutcome Query(string sql, QueryOverrides? overrides = null, bool computeHash = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        overrides ??= QueryOverrides.None;
        var jobId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var started = Stopwatch.GetTimestamp();
        try
        {
            overrides.Validate();
            var effective = Config.Effective(overrides.ToConfigLayer());
            var config = effective.Config;
            overrides = overrides with { MinTrustSource = effective.SourceOf("trust.min_trust") };
            if (string.IsNullOrWhiteSpace(sql))
            {
                throw new ArgumentException("the SQL text is empty; pass a query, e.g. p2p_query('SELECT 42 AS answer')");
            }
            using var timeout = overrides.TimeoutMs is { } ms ? new CancellationTokenSource(TimeSpan.FromMilliseconds(ms), _options.Time) : null;
            using var linked = timeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            var grid = _grid;
            if (grid is null && config.Planner.Prefer != PlannerPreference.Local && config.Discovery.Bootstrap.Length > 0)
            {
                // Seeds persisted by an earlier p2p_join: join them now.
                grid = Grid;
                // A seed that does not answer one round in time (a loaded machine, a host still starting) gets two more
                // before the query is planned without it; a seed that answers costs no extra round.
                for (var round = 0; round < JoinRounds && grid.Membership.CountLive() == 0; round++)
                {
                    grid.JoinAsync(config.Discovery.Bootstrap, linked?.Token ?? cancellationToken, waitForEverySeed: false).GetAwaiter().GetResult();
                }
            }
            // auto goes to the grid only when it can meet the policy: enough usable hosts for the quorum this query needs.
            // Only auto asks (every host assessed once more): 'remote' and 'local' are decided by the caller.
            var usable = grid is null || config.Planner.Prefer != PlannerPreference.Auto ? 0 : Trust.Usable(grid.Coordinator.Eligible(config, overrides), config, overrides).Count;
            var needed = Coordinator.RequiredQuorum(sql, config);
            var remote = config.Planner.Prefer switch
            {
                PlannerPreference.Remote => true,
                PlannerPreference.Local => false,
                _ => usable >= needed || !config.Planner.LocalExecutionEnabled,
            };
            var plannerReason = config.Planner.Prefer switch
            {
                PlannerPreference.Local => "local: prefer => 'local'",
                PlannerPreference.Remote => "remote: prefer => 'remote'",
                _ when remote && usable >= needed => $"remote: {usable} usable host(s) for quorum {needed}",
                _ when remote => "remote: local execution is disabled",
                _ when grid is null => "local: no peers",
                _ => $"local: the grid cannot meet the policy ({usable} usable host(s) for quorum {needed})",
            };
            // Refused, never silently free: a paid query with economics off, or one this node would run itself (paid work is bought from hosts).
            if (Economics.PaymentPolicy.IsPaid(config, overrides) && !remote)
            {
                throw new InvalidOperationException($"a paid query runs on hosts, and the planner chose to run this one here ({plannerReason}); join hosts whose price fits the bid, "
                    + "pass prefer => 'remote', or use payment => 'free'");
            }
            if (remote)
            {
                if (grid is null)
                {
                    throw new InvalidOperationException(config.Planner.LocalExecutionEnabled
                        ? "prefer => 'remote' needs peers, and this node knows none; join a grid with p2p_join(bootstrap => [...]) or use prefer => 'local'"
                        : "local execution is disabled (planner.local_execution_enabled = false) and this node knows no peers; enable it with p2p_planner(local_execution => true) or join a grid");
                }
                if (grid.Membership.CountLive() == 0 && grid.Seeds.Count > 0 && grid.LastGossipError is { } why)
                {
                    throw new InvalidOperationException($"no hosts available: none of this node's bootstrap seeds ({string.Join(", ", grid.Seeds)}) answered "
                        + $"(last: {why}); check that a host runs there, or run it locally with prefer => 'local'");
                }
                var outcome = RunRemote(grid, sql, jobId, config, overrides, started, linked?.Token ?? cancellationToken);
                return outcome with { Meta = outcome.Meta with { Planner = plannerReason } };
            }
            if (!config.Planner.LocalExecutionEnabled)
            {
                throw new InvalidOperationException("local execution is disabled (planner.local_execution_enabled = false) and this node knows no peers; enable it with p2p_planner(local_execution => true) or join a grid");
            }
            // The local path has the limits of a hosted job: without timeout_ms, worker.job_timeout_ms ends it.
            var localTimeout = overrides.TimeoutMs is null && config.Worker.JobTimeout > TimeSpan.Zero ? config.Worker.JobTimeout : (TimeSpan?)null;
            using var defaultTimeout = localTimeout is { } d ? new CancellationTokenSource(d, _options.Time) : null;
            using var localLinked = defaultTimeout is null ? null : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, defaultTimeout.Token);
            ResultSet result;
            try
            {
                result = EngineFor(config).Execute(sql, localLinked?.Token ?? linked?.Token ?? cancellationToken);
            }
            catch (OperationCanceledException) when (defaultTimeout?.IsCancellationRequested == true && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"the local query exceeded the default timeout of {localTimeout!.Value.TotalMilliseconds:0} ms (worker.job_timeout_ms; pass timeout_ms => N to give it longer)");
            }
            var meta = new QueryMeta
            {
                JobId = jobId,
                ExecutedLocally = true,
                Verified = true,
                Agreement = 1,
                Quorum = 0,
                Winner = NodeId,
                Participants = 1,
                Receipts = 0,
                AgreedHash = computeHash ? ResultHashing.Compute(result) : null,
                ResultRows = result.RowCount,
                LatencyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
                ObservedResultBytes = BatchSize.Estimate(result),
                RowsDelivery = "local",
                Planner = plannerReason,
            };
            return new QueryOutcome(result, meta);
        }
        catch (Exception e) when (e is not QueryFailedException)
        {
            var message = e is OperationCanceledException && overrides.TimeoutMs is { } t && !cancellationToken.IsCancellationRequested
                ? $"the query exceeded timeout_ms => {t}"
                : e.Message;
            var meta = new QueryMeta
            {
                JobId = jobId,
                ExecutedLocally = e is not GridQueryException,
                Verified = false,
                Winner = null,
                LatencyMs = 0,
                Error = message,
            };
            throw new QueryFailedException(message, meta, e);
        }
    }

    /// <summary>The agreeing commits a remote run of <paramref name="sql"/> needs: one when it cannot be verified anyway.</summary>
    private QueryOutcome RunRemote(GridRuntime grid, string sql, string jobId, NodeConfig config, QueryOverrides overrides, long started, CancellationToken cancellationToken)
    {
        var eligible = grid.Coordinator.Eligible(config, overrides);
        var trusted = eligible.Where(p => Trust.Assess(p, config, overrides).Standing == Standing.Trusted).Select(p => p.NodeId).ToHashSet(StringComparer.Ordinal);
        var quorum = Coordinator.RequiredQuorum(sql, config);
        // Called directly (no Task.Run): the prefix up to the first network wait runs on this thread.
        var outcome = WaitWithoutSpinning(RemoteAsync());
        async Task<RemoteOutcome> RemoteAsync()
        {
            using var slot = await _inflight.EnterAsync(config.Scheduler.MaxInflightJobs, cancellationToken).ConfigureAwait(false);
            if (config.Economics.Settlement == SettlementKind.Onchain && Economics.PaymentPolicy.IsPaid(config, overrides))
            {
                // Before any host computes: a paid job this node cannot pay for is refused here, not after the quorum.
                await new Economics.EscrowSettlement(_economics.Runtime(), _options.Logger).PreflightAsync(cancellationToken).ConfigureAwait(false);
            }
            // A free query may start once a quorum of newcomers passed their canaries. A paid one waits for as many as it
            // asks (or the canary timeout): price can still rule out vetted hosts, and a host whose canary had not come
            // back yet would be left out although its price fits.
            var vetted = Economics.PaymentPolicy.IsPaid(config, overrides) ? Math.Max(config.Scheduler.Replicas, quorum) : quorum;
            await Trust.PrepareAsync(grid.Coordinator, eligible, config, overrides, vetted, cancellationToken).ConfigureAwait(false);
            Trust.BeginJob(jobId, TrustEngine.Floors(config, overrides).MinAttestation);
            try
            {
                return await grid.Coordinator.RunAsync(sql, jobId, config, overrides, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Trust.EndJob(jobId);
            }
        }
        var meta = new QueryMeta
        {
            JobId = jobId,
            ExecutedLocally = false,
            Verified = outcome.Verified,
            Agreement = outcome.Agreement,
            Quorum = outcome.Quorum,
            Winner = outcome.Winner,
            Participants = outcome.Participants,
            Receipts = outcome.Receipts,
            Probationary = outcome.Committed.Count(id => !trusted.Contains(id)),
            ShadowReplicas = outcome.Shadows,
            AgreedHash = outcome.AgreedHash,
            InputFingerprint = outcome.InputFingerprint,
            ResultRows = outcome.Result.RowCount,
            LatencyMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds,
            ObservedResultBytes = outcome.ResultBytes,
            RowsDelivery = outcome.RowsWithCommit ? "with_commit" : "fetched",
            Certificate = outcome.Certificate,
            Unverifiable = outcome.UnverifiableReason,
            Rejected = outcome.Rejected.Count == 0 ? null : string.Join(" | ", outcome.Rejected),
        };
        if (outcome.Verified && outcome.Certificate is { } certificate)
        {
            RecordJob(jobId, outcome.QueryHash, outcome.AgreedHash, certificate, outcome.Winner);
        }
        if (outcome.Paid)
        {
            meta = meta with { Payment = Pay(jobId, outcome, config, cancellationToken) };
        }
        return new QueryOutcome(outcome.Result, meta);
    }

    /// <summary>
    /// Settles a paid job after its result was verified: the rows are already the requester's, so a payment that fails is
    /// reported in <c>p2p_query_meta</c>'s payment group (with what is left to do), not thrown. An unverified result pays nobody.
    /// </summary>
    private Economics.PaymentReport Pay(string jobId, RemoteOutcome outcome, NodeConfig config, CancellationToken cancellationToken)
    {
        if (config.Economics.Settlement != SettlementKind.Onchain)
        {
            // Prices are still quoted, checked and claimed; only the on-chain rail moves TON.
            return new Economics.PaymentReport { State = $"not settled (economics.settlement = {config.Economics.Settlement.ToString().ToLowerInvariant()}: nothing is paid on chain)" };
        }
        if (!outcome.Verified)
        {
            return new Economics.PaymentReport { Error = "not settled: the result is not verified, so no escrow was opened and nothing was paid" };
        }
        var settle = _options.SettlePaidJob ?? ((j, ct) => new Economics.EscrowSettlement(_economics.Runtime(), _options.Logger).PayAsync(j, ct));
        var job = new Economics.PaidJob(jobId, outcome.AgreedHash, outcome.Winner, outcome.WinnerPublicKey, outcome.WinnerClaimNanoton, outcome.Verifiers)
        {
            Funded = outcome.Escrow,
        };
        try
        {
            return WaitWithoutSpinning(settle(job, cancellationToken));
        }
        catch (Exception e) when (e is Economics.EconomicsException or Duckton.Ton.Rpc.ToncenterException or IOException)
        {
            _options.Logger.LogWarning("job {JobId}: payment failed: {Error}", jobId, e.Message);
            return new Economics.PaymentReport { Error = e.Message };
        }
    }

    /// <summary>
    /// Stores the job record of a verified remote query (sealed into the next epoch). A store failure is logged, not
    /// thrown: the rows are verified and the caller gets them; only the record's anchoring is lost.
    /// </summary>
    private void RecordJob(string jobId, string queryHash, string agreedHash, string certificate, string winner)
    {
        try
        {
            TrustStore.AddJobRecord(jobId, queryHash, agreedHash,
                Duckton.Core.Records.JobRecord.HashCertificate(certificate), NodeId, winner, _options.Time.GetUtcNow());
            Slasher.OfferCertificate(jobId, certificate); // kept only for a job with evidence of a contradicting commit
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException or Duckton.DuckDB.DuckDBException or TimeoutException)
        {
            _options.Logger.LogWarning("job {JobId}: its record was not stored: {Error}", jobId, e.Message);
        }
    }

    /// <summary>
    /// Blocks until <paramref name="task"/> completes without the spin phase of <c>Task.Wait</c>: a grid query waits
    /// milliseconds for the network, and on a small machine spinning takes the core the hosts or the I/O need.
    /// </summary>
    private static T WaitWithoutSpinning<T>(Task<T> task)
    {
        if (!task.IsCompleted)
        {
            // Not disposed: the continuation may still be inside Set() when Wait() returns; without a kernel handle
            // (spinCount 0, no WaitHandle requested) there is nothing to release.
            var done = new ManualResetEventSlim(false, spinCount: 0);
            task.ContinueWith(static (_, state) => ((ManualResetEventSlim)state!).Set(), done, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            done.Wait();
        }
        return task.GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        // A resume in flight finishes first (each chain call is bounded by economics.rpc_timeout_ms): a record is never left half-done by an exit.
        if (!_resume.Wait(TimeSpan.FromMinutes(2)))
        {
            _options.Logger.LogWarning("the pending escrow resume did not finish before exit; the next start tries again");
        }
        if (_ownEconomics)
        {
            _economics.Dispose();
        }
        if (_keeper.IsValueCreated)
        {
            _keeper.Value.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        if (_slasher.IsValueCreated && _slasher.Value is { } slasher)
        {
            slasher.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        lock (_gridGate)
        {
            _grid?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            _grid = null;
        }
        if (_identity.IsValueCreated)
        {
            _identity.Value.Dispose();
        }
        lock (_engineGate)
        {
            _engine?.Dispose();
        }
        if (_ownStore is { IsValueCreated: true })
        {
            _ownStore.Value.Dispose();
        }
    }
}

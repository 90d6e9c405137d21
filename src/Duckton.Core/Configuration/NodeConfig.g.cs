// Generated from the key catalogue (ConfigCatalog.Keys.cs) by NodeConfigSource: do not edit.
// After changing a key: DUCKTON_REGENERATE_DOCS=1 dotnet test tests/Duckton.Core.Tests --filter ConfigDocsTests
#nullable enable
using System.Collections.Immutable;

namespace Duckton.Core.Configuration;

/// <summary>The <c>[protocol]</c> section.</summary>
public sealed partial record ProtocolConfig
{
    /// <summary>Protocol version this node speaks; the lower of two peers' versions is spoken between them (1.1 adds small results sent with the commit; "1.0.0" turns that off). (<c>protocol.version</c>)</summary>
    public string Version { get; init; } = "";
    /// <summary>Oldest peer protocol version accepted in the version handshake. (<c>protocol.min_supported_version</c>)</summary>
    public string MinSupportedVersion { get; init; } = "";

    internal static ProtocolConfig Bind(ConfigReader r, string p) => new()
    {
        Version = r.Text(p + "version"),
        MinSupportedVersion = r.Text(p + "min_supported_version"),
    };
}

/// <summary>The <c>[network]</c> section.</summary>
public sealed partial record NetworkConfig
{
    /// <summary>Address the node listens on (port 0 picks a free port). (<c>network.bind_addr</c>)</summary>
    public string BindAddr { get; init; } = "";
    /// <summary>Address announced to peers when it differs from the bind address (NAT, containers); empty = the bound address. (<c>network.advertised_addr</c>)</summary>
    public string AdvertisedAddr { get; init; } = "";
    /// <summary>Close a connection after this long without traffic. (<c>network.idle_timeout_ms</c>)</summary>
    public TimeSpan IdleTimeout { get; init; }
    /// <summary>Give up connecting to a peer after this long. (<c>network.connect_timeout_ms</c>)</summary>
    public TimeSpan ConnectTimeout { get; init; }
    /// <summary>Size of one result batch frame on the wire. (<c>network.result_chunk_bytes</c>)</summary>
    public long ResultChunkBytes { get; init; }
    /// <summary>Drop an inbound connection that has not finished TLS and the Hello exchange within this long (slow or silent sockets). (<c>network.handshake_timeout_ms</c>)</summary>
    public TimeSpan HandshakeTimeout { get; init; }
    /// <summary>Most inbound connections open at once; past it new peers are refused as busy. (<c>network.max_inbound_connections</c>)</summary>
    public int MaxInboundConnections { get; init; }
    /// <summary>Most inbound connections one peer identity may hold open at once (one identity may run many processes: each shell sharing a config directory keeps about three per host). (<c>network.max_connections_per_peer</c>)</summary>
    public int MaxConnectionsPerPeer { get; init; }
    /// <summary>Most inbound connections one source address (IPv6: its /64) may hold open at once. (<c>network.max_connections_per_address</c>)</summary>
    public int MaxConnectionsPerAddress { get; init; }
    /// <summary>Most inbound handshakes in flight at once. (<c>network.max_handshakes</c>)</summary>
    public int MaxHandshakes { get; init; }
    /// <summary>Most inbound handshakes in flight from one source address (IPv6: its /64); further sockets from it are closed at once. (<c>network.max_handshakes_per_address</c>)</summary>
    public int MaxHandshakesPerAddress { get; init; }
    /// <summary>Largest frame payload received or sent. (<c>network.max_frame_bytes</c>)</summary>
    public long MaxFrameBytes { get; init; }
    /// <summary>Memory all connections together may use for large frames being received (each frame above 64 KiB reserves its size). (<c>network.frame_memory_bytes</c>)</summary>
    public long FrameMemoryBytes { get; init; }
    /// <summary>Share of network.frame_memory_bytes one peer identity may hold at once. (<c>network.frame_memory_per_peer_bytes</c>)</summary>
    public long FrameMemoryPerPeerBytes { get; init; }
    /// <summary>How long a frame waits for frame memory (its peer's share or the node's total) before its connection is closed. (<c>network.frame_memory_wait_ms</c>)</summary>
    public TimeSpan FrameMemoryWait { get; init; }
    /// <summary>Largest SQL text sent to or accepted from a peer (the wire format's limit is 1 MiB). (<c>network.max_sql_bytes</c>)</summary>
    public long MaxSqlBytes { get; init; }

    internal static NetworkConfig Bind(ConfigReader r, string p) => new()
    {
        BindAddr = r.Text(p + "bind_addr"),
        AdvertisedAddr = r.Text(p + "advertised_addr"),
        IdleTimeout = r.Duration(p + "idle_timeout_ms"),
        ConnectTimeout = r.Duration(p + "connect_timeout_ms"),
        ResultChunkBytes = r.Int(p + "result_chunk_bytes"),
        HandshakeTimeout = r.Duration(p + "handshake_timeout_ms"),
        MaxInboundConnections = (int)r.Int(p + "max_inbound_connections"),
        MaxConnectionsPerPeer = (int)r.Int(p + "max_connections_per_peer"),
        MaxConnectionsPerAddress = (int)r.Int(p + "max_connections_per_address"),
        MaxHandshakes = (int)r.Int(p + "max_handshakes"),
        MaxHandshakesPerAddress = (int)r.Int(p + "max_handshakes_per_address"),
        MaxFrameBytes = r.Int(p + "max_frame_bytes"),
        FrameMemoryBytes = r.Int(p + "frame_memory_bytes"),
        FrameMemoryPerPeerBytes = r.Int(p + "frame_memory_per_peer_bytes"),
        FrameMemoryWait = r.Duration(p + "frame_memory_wait_ms"),
        MaxSqlBytes = r.Int(p + "max_sql_bytes"),
    };
}

/// <summary>The <c>[transport.result]</c> section.</summary>
public sealed partial record TransportResultConfig
{
    /// <summary>Largest result accepted from a host; a larger one is refused. (<c>transport.result.max_result_bytes</c>)</summary>
    public long MaxResultBytes { get; init; }
    /// <summary>Verified-before-returned result held in memory; beyond this the requester spills received frames to an owner-only temp file (0 = always spill). (<c>transport.result.max_buffer_bytes</c>)</summary>
    public long MaxBufferBytes { get; init; }

    internal static TransportResultConfig Bind(ConfigReader r, string p) => new()
    {
        MaxResultBytes = r.Int(p + "max_result_bytes"),
        MaxBufferBytes = r.Int(p + "max_buffer_bytes"),
    };
}

/// <summary>The <c>[transport]</c> section.</summary>
public sealed partial record TransportConfig
{
    /// <summary>The <c>[transport.result]</c> section.</summary>
    public TransportResultConfig Result { get; init; } = null!;

    internal static TransportConfig Bind(ConfigReader r, string p) => new()
    {
        Result = TransportResultConfig.Bind(r, p + "result."),
    };
}

/// <summary>The <c>[identity]</c> section.</summary>
public sealed partial record IdentityConfig
{
    /// <summary>How peer certificates are trusted: tofu pins the first key seen per node id; allowlist accepts only identity.allowlist. (<c>identity.pinning_mode</c>)</summary>
    public PinningMode PinningMode { get; init; }
    /// <summary>Node ids accepted when pinning_mode = allowlist. (<c>identity.allowlist</c>)</summary>
    public ImmutableArray<string> Allowlist { get; init; }

    internal static IdentityConfig Bind(ConfigReader r, string p) => new()
    {
        PinningMode = r.Enum<PinningMode>(p + "pinning_mode"),
        Allowlist = r.List(p + "allowlist"),
    };
}

/// <summary>The <c>[security]</c> section.</summary>
public sealed partial record SecurityConfig
{
    /// <summary>private = closed grid: allowlist pinning, token-checked groups, named networks only. (<c>security.mode</c>)</summary>
    public SecurityMode Mode { get; init; }

    internal static SecurityConfig Bind(ConfigReader r, string p) => new()
    {
        Mode = r.Enum<SecurityMode>(p + "mode"),
    };
}

/// <summary>The <c>[membership]</c> section.</summary>
public sealed partial record MembershipConfig
{
    /// <summary>Grids (network names) this node joins and serves. (<c>membership.networks</c>)</summary>
    public ImmutableArray<string> Networks { get; init; }
    /// <summary>Groups this node belongs to; jobs may target groups. (<c>membership.groups</c>)</summary>
    public ImmutableArray<string> Groups { get; init; }
    /// <summary>Declared region of this node (e.g. eu-west); empty = none. (<c>membership.region</c>)</summary>
    public string Region { get; init; } = "";
    /// <summary>soft trusts declared groups; token: groups =&gt; only routes to hosts holding a valid signed token for the group from an issuer in group_issuers. (<c>membership.group_enforcement</c>)</summary>
    public GroupEnforcement GroupEnforcement { get; init; }
    /// <summary>declared trusts declared regions (a token is still required for a region listed in region_issuers); attested: regions =&gt; also requires attestation ≥ L1. (<c>membership.region_trust</c>)</summary>
    public RegionTrust RegionTrust { get; init; }
    /// <summary>Trusted group-token issuers as group=&lt;Ed25519 public key hex&gt; (several per group allowed); tokens from them mark a host's group verified. (<c>membership.group_issuers</c>)</summary>
    public ImmutableArray<string> GroupIssuers { get; init; }
    /// <summary>Trusted region-token issuers as region=&lt;Ed25519 public key hex&gt;; regions =&gt; a listed region only routes to hosts holding a valid token from one of them. (<c>membership.region_issuers</c>)</summary>
    public ImmutableArray<string> RegionIssuers { get; init; }
    /// <summary>This host's signed group tokens (duckton token issue --kind group), separated by spaces; carried in its advert. (<c>membership.group_token</c>)</summary>
    public string GroupToken { get; init; } = "";
    /// <summary>This host's signed region token (duckton token issue --kind region); carried in its advert. (<c>membership.region_token</c>)</summary>
    public string RegionToken { get; init; } = "";

    internal static MembershipConfig Bind(ConfigReader r, string p) => new()
    {
        Networks = r.List(p + "networks"),
        Groups = r.List(p + "groups"),
        Region = r.Text(p + "region"),
        GroupEnforcement = r.Enum<GroupEnforcement>(p + "group_enforcement"),
        RegionTrust = r.Enum<RegionTrust>(p + "region_trust"),
        GroupIssuers = r.List(p + "group_issuers"),
        RegionIssuers = r.List(p + "region_issuers"),
        GroupToken = r.Text(p + "group_token"),
        RegionToken = r.Text(p + "region_token"),
    };
}

/// <summary>The <c>[discovery.gossip]</c> section.</summary>
public sealed partial record DiscoveryGossipConfig
{
    /// <summary>Gossip round interval. (<c>discovery.gossip.heartbeat_ms</c>)</summary>
    public TimeSpan Heartbeat { get; init; }
    /// <summary>Peers each gossip round forwards to. (<c>discovery.gossip.fanout</c>)</summary>
    public int Fanout { get; init; }
    /// <summary>A capability advert expires this long after it was signed. (<c>discovery.gossip.capability_ttl_secs</c>)</summary>
    public TimeSpan CapabilityTtl { get; init; }

    internal static DiscoveryGossipConfig Bind(ConfigReader r, string p) => new()
    {
        Heartbeat = r.Duration(p + "heartbeat_ms"),
        Fanout = (int)r.Int(p + "fanout"),
        CapabilityTtl = r.Duration(p + "capability_ttl_secs"),
    };
}

/// <summary>The <c>[discovery]</c> section.</summary>
public sealed partial record DiscoveryConfig
{
    /// <summary>Seed peers contacted to join the grid. (<c>discovery.bootstrap</c>)</summary>
    public ImmutableArray<string> Bootstrap { get; init; }
    /// <summary>Candidate hosts asked for offers per query (≥ scheduler.replicas); also how many hosts a requester keeps pre-connected (two idle connections each). (<c>discovery.candidate_sample_size</c>)</summary>
    public int CandidateSampleSize { get; init; }
    /// <summary>The <c>[discovery.gossip]</c> section.</summary>
    public DiscoveryGossipConfig Gossip { get; init; } = null!;

    internal static DiscoveryConfig Bind(ConfigReader r, string p) => new()
    {
        Bootstrap = r.List(p + "bootstrap"),
        CandidateSampleSize = (int)r.Int(p + "candidate_sample_size"),
        Gossip = DiscoveryGossipConfig.Bind(r, p + "gossip."),
    };
}

/// <summary>The <c>[scheduler]</c> section.</summary>
public sealed partial record SchedulerConfig
{
    /// <summary>Hosts each remote query runs on (k). (<c>scheduler.replicas</c>)</summary>
    public int Replicas { get; init; }
    /// <summary>Agreeing result hashes needed to accept an answer (q ≤ k). (<c>scheduler.quorum</c>)</summary>
    public int Quorum { get; init; }
    /// <summary>quorum waits for q agreeing commits; fast accepts the first commit (not verified). (<c>scheduler.verify_mode</c>)</summary>
    public VerifyMode VerifyMode { get; init; }
    /// <summary>How long to collect offers (bids) from candidates; 50 ms more for the bid of a dispatch sent with its offer (a host may hold that bid to send it with the job's answer). (<c>scheduler.offer_timeout_ms</c>)</summary>
    public TimeSpan OfferTimeout { get; init; }
    /// <summary>How long a dispatched host may take to commit. (<c>scheduler.dispatch_timeout_ms</c>)</summary>
    public TimeSpan DispatchTimeout { get; init; }
    /// <summary>Start streaming the first committed result into the verifying buffer before the quorum is reached (rows still reach the caller only after quorum and re-hash). (<c>scheduler.speculative_fetch</c>)</summary>
    public bool SpeculativeFetch { get; init; }
    /// <summary>Deadline of one dispatch attempt, streaming included. (<c>scheduler.attempt_deadline_ms</c>)</summary>
    public TimeSpan AttemptDeadline { get; init; }
    /// <summary>Re-dispatch attempts after a failed attempt; 0 = no limit (the retry budget still applies). (<c>scheduler.max_retries</c>)</summary>
    public int MaxRetries { get; init; }
    /// <summary>Deadline of a query across all attempts; 0 = none. (<c>scheduler.max_total_duration_ms</c>)</summary>
    public TimeSpan MaxTotalDuration { get; init; }
    /// <summary>First re-dispatch backoff. (<c>scheduler.backoff_initial_ms</c>)</summary>
    public TimeSpan BackoffInitial { get; init; }
    /// <summary>Largest re-dispatch backoff (≥ backoff_initial_ms). (<c>scheduler.backoff_max_ms</c>)</summary>
    public TimeSpan BackoffMax { get; init; }
    /// <summary>Random jitter added to each backoff, as a fraction of it. (<c>scheduler.backoff_jitter_frac</c>)</summary>
    public double BackoffJitterFrac { get; init; }
    /// <summary>Retry token bucket size shared by all queries; 0 = unlimited. (<c>scheduler.retry_budget_max_tokens</c>)</summary>
    public double RetryBudgetMaxTokens { get; init; }
    /// <summary>Retry tokens added per second. (<c>scheduler.retry_budget_refill_per_sec</c>)</summary>
    public double RetryBudgetRefillPerSec { get; init; }
    /// <summary>Expected interval of progress frames from a running host. (<c>scheduler.progress_interval_ms</c>)</summary>
    public TimeSpan ProgressInterval { get; init; }
    /// <summary>A host is stalled after this many progress intervals without progress. (<c>scheduler.progress_stall_multiplier</c>)</summary>
    public int ProgressStallMultiplier { get; init; }
    /// <summary>Most grid queries this node coordinates at once. (<c>scheduler.max_inflight_jobs</c>)</summary>
    public int MaxInflightJobs { get; init; }
    /// <summary>Select only hosts with stake. (<c>scheduler.require_staked_hosts</c>)</summary>
    public bool RequireStakedHosts { get; init; }

    internal static SchedulerConfig Bind(ConfigReader r, string p) => new()
    {
        Replicas = (int)r.Int(p + "replicas"),
        Quorum = (int)r.Int(p + "quorum"),
        VerifyMode = r.Enum<VerifyMode>(p + "verify_mode"),
        OfferTimeout = r.Duration(p + "offer_timeout_ms"),
        DispatchTimeout = r.Duration(p + "dispatch_timeout_ms"),
        SpeculativeFetch = r.Bool(p + "speculative_fetch"),
        AttemptDeadline = r.Duration(p + "attempt_deadline_ms"),
        MaxRetries = (int)r.Int(p + "max_retries"),
        MaxTotalDuration = r.Duration(p + "max_total_duration_ms"),
        BackoffInitial = r.Duration(p + "backoff_initial_ms"),
        BackoffMax = r.Duration(p + "backoff_max_ms"),
        BackoffJitterFrac = r.Float(p + "backoff_jitter_frac"),
        RetryBudgetMaxTokens = r.Float(p + "retry_budget_max_tokens"),
        RetryBudgetRefillPerSec = r.Float(p + "retry_budget_refill_per_sec"),
        ProgressInterval = r.Duration(p + "progress_interval_ms"),
        ProgressStallMultiplier = (int)r.Int(p + "progress_stall_multiplier"),
        MaxInflightJobs = (int)r.Int(p + "max_inflight_jobs"),
        RequireStakedHosts = r.Bool(p + "require_staked_hosts"),
    };
}

/// <summary>The <c>[worker]</c> section.</summary>
public sealed partial record WorkerConfig
{
    /// <summary>Serve jobs as a host (p2p_pause / p2p_resume switch it). (<c>worker.enabled</c>)</summary>
    public bool Enabled { get; init; }
    /// <summary>Cancel a job running longer than this (hosted jobs, and local queries given no timeout_ms); 0 = no limit. (<c>worker.job_timeout_ms</c>)</summary>
    public TimeSpan JobTimeout { get; init; }
    /// <summary>A bid stays valid for a dispatch this long; an offer never dispatched or cancelled is forgotten after it. (<c>worker.offer_expiry_ms</c>)</summary>
    public TimeSpan OfferExpiry { get; init; }
    /// <summary>Most bids awaiting dispatch at once, over all peers; past it offers are declined. (<c>worker.max_pending_offers</c>)</summary>
    public int MaxPendingOffers { get; init; }
    /// <summary>Most bids awaiting dispatch from one peer identity; past it its offers are declined. (<c>worker.max_pending_offers_per_peer</c>)</summary>
    public int MaxPendingOffersPerPeer { get; init; }
    /// <summary>Job slots one peer identity may hold at once (running or holding a result); 0 = all but one of budget.max_jobs (at least 1), so one requester never takes every slot. (<c>worker.max_jobs_per_peer</c>)</summary>
    public int MaxJobsPerPeer { get; init; }
    /// <summary>How long a committed result waits for the requester's next fetch credit before it is dropped and its slot freed. (<c>worker.result_hold_ms</c>)</summary>
    public TimeSpan ResultHold { get; init; }
    /// <summary>Results a peer may leave unfetched within worker.hold_penalty_ms before its offers are refused (and it gets a ResourceExceeded receipt). (<c>worker.hold_strikes</c>)</summary>
    public int HoldStrikes { get; init; }
    /// <summary>How long a peer that left worker.hold_strikes results unfetched is refused; also the window strikes are counted in. (<c>worker.hold_penalty_ms</c>)</summary>
    public TimeSpan HoldPenalty { get; init; }

    internal static WorkerConfig Bind(ConfigReader r, string p) => new()
    {
        Enabled = r.Bool(p + "enabled"),
        JobTimeout = r.Duration(p + "job_timeout_ms"),
        OfferExpiry = r.Duration(p + "offer_expiry_ms"),
        MaxPendingOffers = (int)r.Int(p + "max_pending_offers"),
        MaxPendingOffersPerPeer = (int)r.Int(p + "max_pending_offers_per_peer"),
        MaxJobsPerPeer = (int)r.Int(p + "max_jobs_per_peer"),
        ResultHold = r.Duration(p + "result_hold_ms"),
        HoldStrikes = (int)r.Int(p + "hold_strikes"),
        HoldPenalty = r.Duration(p + "hold_penalty_ms"),
    };
}

/// <summary>The <c>[liveness.phi]</c> section.</summary>
public sealed partial record LivenessPhiConfig
{
    /// <summary>Use the phi-accrual failure detector. (<c>liveness.phi.enabled</c>)</summary>
    public bool Enabled { get; init; }
    /// <summary>Phi above which a peer is considered down. (<c>liveness.phi.convict_threshold</c>)</summary>
    public double ConvictThreshold { get; init; }
    /// <summary>Heartbeat intervals kept per peer. (<c>liveness.phi.window_size</c>)</summary>
    public int WindowSize { get; init; }
    /// <summary>Lower bound of the interval standard deviation. (<c>liveness.phi.min_std_ms</c>)</summary>
    public double MinStdMs { get; init; }
    /// <summary>Pause tolerated before phi starts rising. (<c>liveness.phi.acceptable_pause_ms</c>)</summary>
    public double AcceptablePauseMs { get; init; }
    /// <summary>Assumed interval before any heartbeat was seen. (<c>liveness.phi.first_interval_ms</c>)</summary>
    public double FirstIntervalMs { get; init; }

    internal static LivenessPhiConfig Bind(ConfigReader r, string p) => new()
    {
        Enabled = r.Bool(p + "enabled"),
        ConvictThreshold = r.Float(p + "convict_threshold"),
        WindowSize = (int)r.Int(p + "window_size"),
        MinStdMs = r.Float(p + "min_std_ms"),
        AcceptablePauseMs = r.Float(p + "acceptable_pause_ms"),
        FirstIntervalMs = r.Float(p + "first_interval_ms"),
    };
}

/// <summary>The <c>[liveness.swim]</c> section.</summary>
public sealed partial record LivenessSwimConfig
{
    /// <summary>Confirm suspected failures with SWIM indirect probes. (<c>liveness.swim.enabled</c>)</summary>
    public bool Enabled { get; init; }
    /// <summary>Peers asked to probe a suspect indirectly. (<c>liveness.swim.indirect_probe_count</c>)</summary>
    public int IndirectProbeCount { get; init; }
    /// <summary>Timeout of a direct probe. (<c>liveness.swim.probe_timeout_ms</c>)</summary>
    public TimeSpan ProbeTimeout { get; init; }
    /// <summary>Timeout of an indirect probe. (<c>liveness.swim.indirect_probe_timeout_ms</c>)</summary>
    public TimeSpan IndirectProbeTimeout { get; init; }

    internal static LivenessSwimConfig Bind(ConfigReader r, string p) => new()
    {
        Enabled = r.Bool(p + "enabled"),
        IndirectProbeCount = (int)r.Int(p + "indirect_probe_count"),
        ProbeTimeout = r.Duration(p + "probe_timeout_ms"),
        IndirectProbeTimeout = r.Duration(p + "indirect_probe_timeout_ms"),
    };
}

/// <summary>The <c>[liveness]</c> section.</summary>
public sealed partial record LivenessConfig
{
    /// <summary>The <c>[liveness.phi]</c> section.</summary>
    public LivenessPhiConfig Phi { get; init; } = null!;
    /// <summary>The <c>[liveness.swim]</c> section.</summary>
    public LivenessSwimConfig Swim { get; init; } = null!;

    internal static LivenessConfig Bind(ConfigReader r, string p) => new()
    {
        Phi = LivenessPhiConfig.Bind(r, p + "phi."),
        Swim = LivenessSwimConfig.Bind(r, p + "swim."),
    };
}

/// <summary>The <c>[budget]</c> section.</summary>
public sealed partial record BudgetConfig
{
    /// <summary>Memory donated to hosted jobs in total. (<c>budget.memory_bytes</c>)</summary>
    public long MemoryBytes { get; init; }
    /// <summary>Threads donated to hosted jobs in total. (<c>budget.threads</c>)</summary>
    public int Threads { get; init; }
    /// <summary>Hosted jobs run at once. (<c>budget.max_jobs</c>)</summary>
    public int MaxJobs { get; init; }
    /// <summary>Memory limit of one hosted job, and of a local query. (<c>budget.per_job_memory_bytes</c>)</summary>
    public long PerJobMemoryBytes { get; init; }
    /// <summary>Threads of one hosted job. (<c>budget.per_job_threads</c>)</summary>
    public int PerJobThreads { get; init; }
    /// <summary>Data classes this host accepts. (<c>budget.data_classes</c>)</summary>
    public ImmutableArray<DataClass> DataClasses { get; init; }

    internal static BudgetConfig Bind(ConfigReader r, string p) => new()
    {
        MemoryBytes = r.Int(p + "memory_bytes"),
        Threads = (int)r.Int(p + "threads"),
        MaxJobs = (int)r.Int(p + "max_jobs"),
        PerJobMemoryBytes = r.Int(p + "per_job_memory_bytes"),
        PerJobThreads = (int)r.Int(p + "per_job_threads"),
        DataClasses = r.EnumList<DataClass>(p + "data_classes"),
    };
}

/// <summary>The <c>[trust.weights]</c> section.</summary>
public sealed partial record TrustWeightsConfig
{
    /// <summary>Weight α of reputation in effective trust. (<c>trust.weights.alpha_reputation</c>)</summary>
    public double AlphaReputation { get; init; }
    /// <summary>Weight β of identity age in effective trust. (<c>trust.weights.beta_age</c>)</summary>
    public double BetaAge { get; init; }
    /// <summary>Weight γ of vouchers in effective trust. (<c>trust.weights.gamma_voucher</c>)</summary>
    public double GammaVoucher { get; init; }
    /// <summary>Weight δ of stake in effective trust. (<c>trust.weights.delta_stake</c>)</summary>
    public double DeltaStake { get; init; }

    internal static TrustWeightsConfig Bind(ConfigReader r, string p) => new()
    {
        AlphaReputation = r.Float(p + "alpha_reputation"),
        BetaAge = r.Float(p + "beta_age"),
        GammaVoucher = r.Float(p + "gamma_voucher"),
        DeltaStake = r.Float(p + "delta_stake"),
    };
}

/// <summary>The <c>[trust]</c> section.</summary>
public sealed partial record TrustConfig
{
    /// <summary>Lowest effective trust a host needs to be selected. (<c>trust.min_trust</c>)</summary>
    public double MinTrust { get; init; }
    /// <summary>Lowest attestation tier a host needs to be selected. (<c>trust.min_attestation</c>)</summary>
    public AttestationLevel MinAttestation { get; init; }
    /// <summary>Age at which an observation counts half in reputation. (<c>trust.reputation_half_life_secs</c>)</summary>
    public TimeSpan ReputationHalfLife { get; init; }
    /// <summary>Share of dispatches that carry a known-answer canary query. (<c>trust.canary_rate</c>)</summary>
    public double CanaryRate { get; init; }
    /// <summary>Penalty subtracted from trust for a recent Incorrect receipt. (<c>trust.incorrect_penalty</c>)</summary>
    public double IncorrectPenalty { get; init; }
    /// <summary>Trust of a host with no history. (<c>trust.bootstrap_trust</c>)</summary>
    public double BootstrapTrust { get; init; }
    /// <summary>Newcomers (below min_trust) dispatched per query as shadow replicas: their answers are checked against the quorum's and earn them receipts, but never count toward it. (<c>trust.shadow_replicas</c>)</summary>
    public int ShadowReplicas { get; init; }
    /// <summary>While fewer than scheduler.replicas hosts are trusted, canary-vetted newcomers fill the remaining quorum seats (p2p_query_meta reports them as probationary); false = newcomers only ever run as shadow replicas. (<c>trust.probation_fills_quorum</c>)</summary>
    public bool ProbationFillsQuorum { get; init; }
    /// <summary>Directory of the persistent reputation and receipt store; empty = trust/ in the config directory. (<c>trust.store_path</c>)</summary>
    public string StorePath { get; init; } = "";
    /// <summary>Ed25519 public keys (64 hex) of the attestation authorities whose evidence this node trusts; empty = none, every claim above L0 counts as L0. (<c>trust.attestation_authorities</c>)</summary>
    public ImmutableArray<string> AttestationAuthorities { get; init; }
    /// <summary>Allowlisted software measurements per tier, as L1:&lt;hex&gt; or L2:&lt;hex&gt;; evidence must name one for its tier. (<c>trust.allowed_measurements</c>)</summary>
    public ImmutableArray<string> AllowedMeasurements { get; init; }
    /// <summary>The <c>[trust.weights]</c> section.</summary>
    public TrustWeightsConfig Weights { get; init; } = null!;

    internal static TrustConfig Bind(ConfigReader r, string p) => new()
    {
        MinTrust = r.Float(p + "min_trust"),
        MinAttestation = r.Enum<AttestationLevel>(p + "min_attestation"),
        ReputationHalfLife = r.Duration(p + "reputation_half_life_secs"),
        CanaryRate = r.Float(p + "canary_rate"),
        IncorrectPenalty = r.Float(p + "incorrect_penalty"),
        BootstrapTrust = r.Float(p + "bootstrap_trust"),
        ShadowReplicas = (int)r.Int(p + "shadow_replicas"),
        ProbationFillsQuorum = r.Bool(p + "probation_fills_quorum"),
        StorePath = r.Text(p + "store_path"),
        AttestationAuthorities = r.List(p + "attestation_authorities"),
        AllowedMeasurements = r.List(p + "allowed_measurements"),
        Weights = TrustWeightsConfig.Bind(r, p + "weights."),
    };
}

/// <summary>The <c>[sybil]</c> section.</summary>
public sealed partial record SybilConfig
{
    /// <summary>Leading zero bits of the proof-of-work identity stamp: the least this node accepts in a peer's advert, and what it mints for its own (about 2^bits hashes, once per identity and setting). (<c>sybil.pow_difficulty_bits</c>)</summary>
    public int PowDifficultyBits { get; init; }
    /// <summary>Stake (whole TON) a host needs to be selected; 0 = none. (<c>sybil.min_stake</c>)</summary>
    public long MinStake { get; init; }
    /// <summary>Trust one voucher adds. (<c>sybil.vouch_weight</c>)</summary>
    public double VouchWeight { get; init; }

    internal static SybilConfig Bind(ConfigReader r, string p) => new()
    {
        PowDifficultyBits = (int)r.Int(p + "pow_difficulty_bits"),
        MinStake = r.Int(p + "min_stake"),
        VouchWeight = r.Float(p + "vouch_weight"),
    };
}

/// <summary>The <c>[storage]</c> section.</summary>
public sealed partial record StorageConfig
{
    /// <summary>Local directories hosted jobs may read (empty = none). (<c>storage.allowed_local_paths</c>)</summary>
    public ImmutableArray<string> AllowedLocalPaths { get; init; }

    internal static StorageConfig Bind(ConfigReader r, string p) => new()
    {
        AllowedLocalPaths = r.List(p + "allowed_local_paths"),
    };
}

/// <summary>The <c>[planner]</c> section.</summary>
public sealed partial record PlannerConfig
{
    /// <summary>Allow running queries on this node's own locked-down engine. (<c>planner.local_execution_enabled</c>)</summary>
    public bool LocalExecutionEnabled { get; init; }
    /// <summary>Where queries run: local, remote (the grid), or auto: the grid when it has enough usable hosts for the quorum the query needs, else locally (p2p_query_meta's planner row says which and why). (<c>planner.prefer</c>)</summary>
    public PlannerPreference Prefer { get; init; }
    /// <summary>Cap on a local query's memory as a share of this machine's RAM (its limit is budget.per_job_memory_bytes, at most this share). (<c>planner.ram_fraction</c>)</summary>
    public double RamFraction { get; init; }
    /// <summary>Local queries run at once (≥ 1 when local execution is enabled). (<c>planner.max_concurrent_local_jobs</c>)</summary>
    public int MaxConcurrentLocalJobs { get; init; }

    internal static PlannerConfig Bind(ConfigReader r, string p) => new()
    {
        LocalExecutionEnabled = r.Bool(p + "local_execution_enabled"),
        Prefer = r.Enum<PlannerPreference>(p + "prefer"),
        RamFraction = r.Float(p + "ram_fraction"),
        MaxConcurrentLocalJobs = (int)r.Int(p + "max_concurrent_local_jobs"),
    };
}

/// <summary>The <c>[limits]</c> section.</summary>
public sealed partial record LimitsConfig
{
    /// <summary>Peers kept in the membership cache. (<c>limits.peer_cache_capacity</c>)</summary>
    public int PeerCacheCapacity { get; init; }
    /// <summary>Idle outbound peer connections kept open for reuse, over all peers (at most 4 per peer); a connection returned past it is closed; 0 = none kept. (<c>limits.connection_pool_size</c>)</summary>
    public int ConnectionPoolSize { get; init; }

    internal static LimitsConfig Bind(ConfigReader r, string p) => new()
    {
        PeerCacheCapacity = (int)r.Int(p + "peer_cache_capacity"),
        ConnectionPoolSize = (int)r.Int(p + "connection_pool_size"),
    };
}

/// <summary>The <c>[sandbox.limits]</c> section.</summary>
public sealed partial record SandboxLimitsConfig
{
    /// <summary>Kernel limits of a job's worker: inherit_budget = memory budget.per_job_memory_bytes, file size the same, 1024 open files, 256 processes, no CPU-time cap; explicit = the values below. (<c>sandbox.limits.mode</c>)</summary>
    public SandboxLimitsMode Mode { get; init; }
    /// <summary>Memory of a job's worker process (cgroup memory limit; under rlimits: address space beyond the worker's start-up size); 0 = no cap. (<c>sandbox.limits.memory_bytes</c>)</summary>
    public long MemoryBytes { get; init; }
    /// <summary>CPU time one job may use (RLIMIT_CPU; the worker is stopped past it); 0 = no cap. (<c>sandbox.limits.cpu_seconds</c>)</summary>
    public TimeSpan CpuTime { get; init; }
    /// <summary>Largest file a job's worker may write (RLIMIT_FSIZE); 0 = no cap. (<c>sandbox.limits.max_file_size_bytes</c>)</summary>
    public long MaxFileSizeBytes { get; init; }
    /// <summary>Open files of a job's worker (RLIMIT_NOFILE, raised to what the worker holds at start-up plus 16); 0 = no cap. (<c>sandbox.limits.max_open_files</c>)</summary>
    public int MaxOpenFiles { get; init; }
    /// <summary>Processes and threads of a job's worker (cgroup pids.max; under rlimits RLIMIT_NPROC, which counts per user and not for root); 0 = no cap. (<c>sandbox.limits.max_processes</c>)</summary>
    public int MaxProcesses { get; init; }

    internal static SandboxLimitsConfig Bind(ConfigReader r, string p) => new()
    {
        Mode = r.Enum<SandboxLimitsMode>(p + "mode"),
        MemoryBytes = r.Int(p + "memory_bytes"),
        CpuTime = r.Duration(p + "cpu_seconds"),
        MaxFileSizeBytes = r.Int(p + "max_file_size_bytes"),
        MaxOpenFiles = (int)r.Int(p + "max_open_files"),
        MaxProcesses = (int)r.Int(p + "max_processes"),
    };
}

/// <summary>The <c>[sandbox]</c> section.</summary>
public sealed partial record SandboxConfig
{
    /// <summary>Run hosted jobs in separate sandboxed worker processes (kernel memory/CPU limits, no network) as well as the DuckDB lock-down; needs a host started by the duckton program (inside the DuckDB extension jobs run in-process). (<c>sandbox.enabled</c>)</summary>
    public bool Enabled { get; init; }
    /// <summary>What enforces a worker's limits: auto = cgroups (v2, else v1) when this process can create them, else rlimits; cgroups = refuse to host without them; rlimit; none = worker processes without kernel limits. (<c>sandbox.backend</c>)</summary>
    public SandboxBackend Backend { get; init; }
    /// <summary>Where a hosted job spills what does not fit in its memory limit: ephemeral = every job starts with an empty directory no earlier job wrote to (under temp_dir when set, else the system temp directory); one that a job spilled into is deleted when that job ends; inherit = one directory for the host's (or sandbox worker's) process, deleted when it shuts down cleanly; custom = temp_dir. A job may read its spill directory but never write files itself. (<c>sandbox.temp_dir_policy</c>)</summary>
    public TempDirPolicy TempDirPolicy { get; init; }
    /// <summary>Spill directory when temp_dir_policy = custom; with ephemeral, where the per-job directories are made (empty = the system temp directory). (<c>sandbox.temp_dir</c>)</summary>
    public string TempDir { get; init; } = "";
    /// <summary>A fresh worker process for every job (else a worker whose job ended cleanly serves the next one; a cancelled, timed-out or failed job's worker is always killed). (<c>sandbox.process_per_job</c>)</summary>
    public bool ProcessPerJob { get; init; }
    /// <summary>The <c>[sandbox.limits]</c> section.</summary>
    public SandboxLimitsConfig Limits { get; init; } = null!;

    internal static SandboxConfig Bind(ConfigReader r, string p) => new()
    {
        Enabled = r.Bool(p + "enabled"),
        Backend = r.Enum<SandboxBackend>(p + "backend"),
        TempDirPolicy = r.Enum<TempDirPolicy>(p + "temp_dir_policy"),
        TempDir = r.Text(p + "temp_dir"),
        ProcessPerJob = r.Bool(p + "process_per_job"),
        Limits = SandboxLimitsConfig.Bind(r, p + "limits."),
    };
}

/// <summary>The <c>[economics.stake]</c> section.</summary>
public sealed partial record EconomicsStakeConfig
{
    /// <summary>Stake (whole TON) to serve public jobs. (<c>economics.stake.min_stake</c>)</summary>
    public long MinStake { get; init; }
    /// <summary>Stake (whole TON) to serve internal jobs. (<c>economics.stake.min_stake_internal</c>)</summary>
    public long MinStakeInternal { get; init; }
    /// <summary>Stake (whole TON) to serve sensitive jobs. (<c>economics.stake.min_stake_sensitive</c>)</summary>
    public long MinStakeSensitive { get; init; }
    /// <summary>Stake (whole TON) above which stake adds nothing to selection. (<c>economics.stake.stake_cap</c>)</summary>
    public long StakeCap { get; init; }
    /// <summary>Delay between unstake and withdrawal (≥ slashing.challenge_window_secs). (<c>economics.stake.unbonding_secs</c>)</summary>
    public TimeSpan Unbonding { get; init; }
    /// <summary>How long a host's stake read from its vault is used before it is read again (economics on). (<c>economics.stake.refresh_secs</c>)</summary>
    public TimeSpan Refresh { get; init; }
    /// <summary>Mint a stake receipt jetton. (<c>economics.stake.receipt_jetton</c>)</summary>
    public bool ReceiptJetton { get; init; }
    /// <summary>Stake receipt jettons cannot be transferred. (<c>economics.stake.receipt_transfer_locked</c>)</summary>
    public bool ReceiptTransferLocked { get; init; }

    internal static EconomicsStakeConfig Bind(ConfigReader r, string p) => new()
    {
        MinStake = r.Int(p + "min_stake"),
        MinStakeInternal = r.Int(p + "min_stake_internal"),
        MinStakeSensitive = r.Int(p + "min_stake_sensitive"),
        StakeCap = r.Int(p + "stake_cap"),
        Unbonding = r.Duration(p + "unbonding_secs"),
        Refresh = r.Duration(p + "refresh_secs"),
        ReceiptJetton = r.Bool(p + "receipt_jetton"),
        ReceiptTransferLocked = r.Bool(p + "receipt_transfer_locked"),
    };
}

/// <summary>The <c>[economics.ranking]</c> section.</summary>
public sealed partial record EconomicsRankingConfig
{
    /// <summary>Selection weight of quality (trust). (<c>economics.ranking.w_quality</c>)</summary>
    public double WQuality { get; init; }
    /// <summary>Selection weight of stake (reliability-gated). (<c>economics.ranking.w_stake</c>)</summary>
    public double WStake { get; init; }
    /// <summary>Selection weight of price. (<c>economics.ranking.w_price</c>)</summary>
    public double WPrice { get; init; }
    /// <summary>Selection weight of latency measured by the requester. (<c>economics.ranking.w_latency</c>)</summary>
    public double WLatency { get; init; }
    /// <summary>Selection weight of throughput measured by the requester. (<c>economics.ranking.w_throughput</c>)</summary>
    public double WThroughput { get; init; }
    /// <summary>Share of selections given to newcomers for exploration. (<c>economics.ranking.exploration_rate</c>)</summary>
    public double ExplorationRate { get; init; }
    /// <summary>Observations after which a host is no longer explored. (<c>economics.ranking.exploration_saturation</c>)</summary>
    public int ExplorationSaturation { get; init; }
    /// <summary>Selection weight of advertised capability. (<c>economics.ranking.capability_weight</c>)</summary>
    public double CapabilityWeight { get; init; }
    /// <summary>Highest quality score a newcomer can have; 1 = no cap. (<c>economics.ranking.newcomer_trust_ceiling</c>)</summary>
    public double NewcomerTrustCeiling { get; init; }
    /// <summary>Observations after which a host is no longer a newcomer. (<c>economics.ranking.newcomer_obs_threshold</c>)</summary>
    public int NewcomerObsThreshold { get; init; }
    /// <summary>Reliability below which stake counts for nothing. (<c>economics.ranking.stake_reliability_floor</c>)</summary>
    public double StakeReliabilityFloor { get; init; }

    internal static EconomicsRankingConfig Bind(ConfigReader r, string p) => new()
    {
        WQuality = r.Float(p + "w_quality"),
        WStake = r.Float(p + "w_stake"),
        WPrice = r.Float(p + "w_price"),
        WLatency = r.Float(p + "w_latency"),
        WThroughput = r.Float(p + "w_throughput"),
        ExplorationRate = r.Float(p + "exploration_rate"),
        ExplorationSaturation = (int)r.Int(p + "exploration_saturation"),
        CapabilityWeight = r.Float(p + "capability_weight"),
        NewcomerTrustCeiling = r.Float(p + "newcomer_trust_ceiling"),
        NewcomerObsThreshold = (int)r.Int(p + "newcomer_obs_threshold"),
        StakeReliabilityFloor = r.Float(p + "stake_reliability_floor"),
    };
}

/// <summary>The <c>[economics.quality]</c> section.</summary>
public sealed partial record EconomicsQualityConfig
{
    /// <summary>Quality weight of correct results. (<c>economics.quality.w_success</c>)</summary>
    public double WSuccess { get; init; }
    /// <summary>Quality weight of latency. (<c>economics.quality.w_latency</c>)</summary>
    public double WLatency { get; init; }
    /// <summary>Quality weight of throughput. (<c>economics.quality.w_throughput</c>)</summary>
    public double WThroughput { get; init; }
    /// <summary>Quality weight of completed jobs. (<c>economics.quality.w_completion</c>)</summary>
    public double WCompletion { get; init; }
    /// <summary>Latency that scores 0.5. (<c>economics.quality.latency_ref_ms</c>)</summary>
    public TimeSpan LatencyRef { get; init; }
    /// <summary>Result size used as the throughput reference. (<c>economics.quality.bytes_ref</c>)</summary>
    public long BytesRef { get; init; }
    /// <summary>Throughput that scores 0.5; 0 = bytes_ref / latency_ref_ms. (<c>economics.quality.throughput_ref_bytes_per_ms</c>)</summary>
    public double ThroughputRefBytesPerMs { get; init; }

    internal static EconomicsQualityConfig Bind(ConfigReader r, string p) => new()
    {
        WSuccess = r.Float(p + "w_success"),
        WLatency = r.Float(p + "w_latency"),
        WThroughput = r.Float(p + "w_throughput"),
        WCompletion = r.Float(p + "w_completion"),
        LatencyRef = r.Duration(p + "latency_ref_ms"),
        BytesRef = r.Int(p + "bytes_ref"),
        ThroughputRefBytesPerMs = r.Float(p + "throughput_ref_bytes_per_ms"),
    };
}

/// <summary>The <c>[economics.reputation]</c> section.</summary>
public sealed partial record EconomicsReputationConfig
{
    /// <summary>Beta prior α (successes) of reputation. (<c>economics.reputation.prior_alpha</c>)</summary>
    public double PriorAlpha { get; init; }
    /// <summary>Beta prior β (failures) of reputation. (<c>economics.reputation.prior_beta</c>)</summary>
    public double PriorBeta { get; init; }
    /// <summary>z of the Wilson lower bound. (<c>economics.reputation.confidence_z</c>)</summary>
    public double ConfidenceZ { get; init; }

    internal static EconomicsReputationConfig Bind(ConfigReader r, string p) => new()
    {
        PriorAlpha = r.Float(p + "prior_alpha"),
        PriorBeta = r.Float(p + "prior_beta"),
        ConfidenceZ = r.Float(p + "confidence_z"),
    };
}

/// <summary>The <c>[economics.selection]</c> section.</summary>
public sealed partial record EconomicsSelectionConfig
{
    /// <summary>Replicas of a paid public job (on-chain parameter). (<c>economics.selection.n_public</c>)</summary>
    public int NPublic { get; init; }
    /// <summary>Default replicas of a paid job (on-chain parameter). (<c>economics.selection.n_default</c>)</summary>
    public int NDefault { get; init; }
    /// <summary>Most replicas of a paid job (on-chain parameter). (<c>economics.selection.n_max</c>)</summary>
    public int NMax { get; init; }
    /// <summary>Requesters may choose their own replica count. (<c>economics.selection.requester_overridable</c>)</summary>
    public bool RequesterOverridable { get; init; }
    /// <summary>Fewest agreeing hosts for a paid job to settle. (<c>economics.selection.checksum_min</c>)</summary>
    public int ChecksumMin { get; init; }
    /// <summary>Settle with fewer agreeing hosts when not enough are available. (<c>economics.selection.checksum_allow_degraded</c>)</summary>
    public bool ChecksumAllowDegraded { get; init; }

    internal static EconomicsSelectionConfig Bind(ConfigReader r, string p) => new()
    {
        NPublic = (int)r.Int(p + "n_public"),
        NDefault = (int)r.Int(p + "n_default"),
        NMax = (int)r.Int(p + "n_max"),
        RequesterOverridable = r.Bool(p + "requester_overridable"),
        ChecksumMin = (int)r.Int(p + "checksum_min"),
        ChecksumAllowDegraded = r.Bool(p + "checksum_allow_degraded"),
    };
}

/// <summary>The <c>[economics.fees]</c> section.</summary>
public sealed partial record EconomicsFeesConfig
{
    /// <summary>Platform fee φ on top of the winner's base. (<c>economics.fees.platform_fee_pct</c>)</summary>
    public double PlatformFeePct { get; init; }
    /// <summary>Surcharge paid to each agreeing verifier. (<c>economics.fees.verification_surcharge_pct</c>)</summary>
    public double VerificationSurchargePct { get; init; }
    /// <summary>Commission κ per agreeing verifier. (<c>economics.fees.participation_commission_frac</c>)</summary>
    public double ParticipationCommissionFrac { get; init; }
    /// <summary>How strongly quality and speed bonuses grow. (<c>economics.fees.bonus_aggressiveness</c>)</summary>
    public double BonusAggressiveness { get; init; }
    /// <summary>Bonus share for quality (lambda_quality + lambda_speed = 1). (<c>economics.fees.lambda_quality</c>)</summary>
    public double LambdaQuality { get; init; }
    /// <summary>Bonus share for speed. (<c>economics.fees.lambda_speed</c>)</summary>
    public double LambdaSpeed { get; init; }

    internal static EconomicsFeesConfig Bind(ConfigReader r, string p) => new()
    {
        PlatformFeePct = r.Float(p + "platform_fee_pct"),
        VerificationSurchargePct = r.Float(p + "verification_surcharge_pct"),
        ParticipationCommissionFrac = r.Float(p + "participation_commission_frac"),
        BonusAggressiveness = r.Float(p + "bonus_aggressiveness"),
        LambdaQuality = r.Float(p + "lambda_quality"),
        LambdaSpeed = r.Float(p + "lambda_speed"),
    };
}

/// <summary>The <c>[economics.slashing]</c> section.</summary>
public sealed partial record EconomicsSlashingConfig
{
    /// <summary>Stake slashed for a wrong result. (<c>economics.slashing.slash_wrong_result_pct</c>)</summary>
    public double SlashWrongResultPct { get; init; }
    /// <summary>Stake slashed for proven cheating. (<c>economics.slashing.slash_cheat_pct</c>)</summary>
    public double SlashCheatPct { get; init; }
    /// <summary>Stake slashed for downtime. (<c>economics.slashing.slash_downtime_pct</c>)</summary>
    public double SlashDowntimePct { get; init; }
    /// <summary>Stake slashed for equivocation (commit one hash, stream other rows). (<c>economics.slashing.slash_equivocation_pct</c>)</summary>
    public double SlashEquivocationPct { get; init; }
    /// <summary>Stake slashed for a commitment not honoured. (<c>economics.slashing.slash_failed_commitment_pct</c>)</summary>
    public double SlashFailedCommitmentPct { get; init; }
    /// <summary>Time to challenge a settled job. (<c>economics.slashing.challenge_window_secs</c>)</summary>
    public TimeSpan ChallengeWindow { get; init; }
    /// <summary>Share of a slash paid to the challenger (the four shares sum to 1). (<c>economics.slashing.slash_to_challenger</c>)</summary>
    public double SlashToChallenger { get; init; }
    /// <summary>Share of a slash paid to the honest replicas. (<c>economics.slashing.slash_to_redundancy</c>)</summary>
    public double SlashToRedundancy { get; init; }
    /// <summary>Share of a slash burnt. (<c>economics.slashing.slash_to_burn</c>)</summary>
    public double SlashToBurn { get; init; }
    /// <summary>Share of a slash paid to the treasury. (<c>economics.slashing.slash_to_treasury</c>)</summary>
    public double SlashToTreasury { get; init; }

    internal static EconomicsSlashingConfig Bind(ConfigReader r, string p) => new()
    {
        SlashWrongResultPct = r.Float(p + "slash_wrong_result_pct"),
        SlashCheatPct = r.Float(p + "slash_cheat_pct"),
        SlashDowntimePct = r.Float(p + "slash_downtime_pct"),
        SlashEquivocationPct = r.Float(p + "slash_equivocation_pct"),
        SlashFailedCommitmentPct = r.Float(p + "slash_failed_commitment_pct"),
        ChallengeWindow = r.Duration(p + "challenge_window_secs"),
        SlashToChallenger = r.Float(p + "slash_to_challenger"),
        SlashToRedundancy = r.Float(p + "slash_to_redundancy"),
        SlashToBurn = r.Float(p + "slash_to_burn"),
        SlashToTreasury = r.Float(p + "slash_to_treasury"),
    };
}

/// <summary>The <c>[economics.records]</c> section.</summary>
public sealed partial record EconomicsRecordsConfig
{
    /// <summary>Length of a job-record epoch: at each window's end the job records received before it are sealed into one epoch and its Merkle root is computed (and anchored by the keeper). (<c>economics.records.epoch_secs</c>)</summary>
    public TimeSpan Epoch { get; init; }
    /// <summary>This node anchors its sealed epoch roots in the RecordAnchor contract (economics on; its wallet must be the anchor's keeper). (<c>economics.records.keeper</c>)</summary>
    public bool Keeper { get; init; }
    /// <summary>Share of anchors that must agree on an epoch root. (<c>economics.records.anchor_quorum_pct</c>)</summary>
    public double AnchorQuorumPct { get; init; }

    internal static EconomicsRecordsConfig Bind(ConfigReader r, string p) => new()
    {
        Epoch = r.Duration(p + "epoch_secs"),
        Keeper = r.Bool(p + "keeper"),
        AnchorQuorumPct = r.Float(p + "anchor_quorum_pct"),
    };
}

/// <summary>The <c>[economics.pricing]</c> section.</summary>
public sealed partial record EconomicsPricingConfig
{
    /// <summary>metered charges per second and GiB; fixed charges unit_price per job. (<c>economics.pricing.model</c>)</summary>
    public PricingModel Model { get; init; }
    /// <summary>Price of a job in whole TON (fixed model). (<c>economics.pricing.unit_price</c>)</summary>
    public long UnitPrice { get; init; }
    /// <summary>Most this node pays for a job, in whole TON; 0 = no cap. (<c>economics.pricing.max_bid</c>)</summary>
    public long MaxBid { get; init; }
    /// <summary>Metered price in nanoton per second; 0 = unit_price × 1e9. (<c>economics.pricing.rate_per_second</c>)</summary>
    public long RatePerSecond { get; init; }
    /// <summary>Metered price in nanoton per GiB processed. (<c>economics.pricing.rate_per_gb</c>)</summary>
    public long RatePerGb { get; init; }
    /// <summary>A metered bill is capped at this multiple of the quote. (<c>economics.pricing.cap_multiplier</c>)</summary>
    public int CapMultiplier { get; init; }
    /// <summary>Accepted ratio between metered and estimated usage. (<c>economics.pricing.metering_tolerance</c>)</summary>
    public double MeteringTolerance { get; init; }

    internal static EconomicsPricingConfig Bind(ConfigReader r, string p) => new()
    {
        Model = r.Enum<PricingModel>(p + "model"),
        UnitPrice = r.Int(p + "unit_price"),
        MaxBid = r.Int(p + "max_bid"),
        RatePerSecond = r.Int(p + "rate_per_second"),
        RatePerGb = r.Int(p + "rate_per_gb"),
        CapMultiplier = (int)r.Int(p + "cap_multiplier"),
        MeteringTolerance = r.Float(p + "metering_tolerance"),
    };
}

/// <summary>The <c>[economics.&lt;network&gt;.contracts]</c> section.</summary>
public sealed partial record TonContractsConfig
{
    /// <summary>Address of the stake vault contract (per network). (<c>economics.&lt;network&gt;.contracts.stake_vault</c>)</summary>
    public string StakeVault { get; init; } = "";
    /// <summary>Address of the job escrow contract (per network). (<c>economics.&lt;network&gt;.contracts.job_escrow</c>)</summary>
    public string JobEscrow { get; init; } = "";
    /// <summary>Address of the record anchor contract (per network). (<c>economics.&lt;network&gt;.contracts.record_anchor</c>)</summary>
    public string RecordAnchor { get; init; } = "";
    /// <summary>Address of the global params contract (per network). (<c>economics.&lt;network&gt;.contracts.global_params</c>)</summary>
    public string GlobalParams { get; init; } = "";

    internal static TonContractsConfig Bind(ConfigReader r, string p) => new()
    {
        StakeVault = r.Text(p + "stake_vault"),
        JobEscrow = r.Text(p + "job_escrow"),
        RecordAnchor = r.Text(p + "record_anchor"),
        GlobalParams = r.Text(p + "global_params"),
    };
}

/// <summary>The <c>[economics.&lt;network&gt;.wallet]</c> section.</summary>
public sealed partial record TonWalletConfig
{
    /// <summary>This node's wallet address (per network). (<c>economics.&lt;network&gt;.wallet.address</c>)</summary>
    public string Address { get; init; } = "";
    /// <summary>Owner-only file holding the wallet mnemonic (per network). (<c>economics.&lt;network&gt;.wallet.mnemonic_file</c>)</summary>
    public string MnemonicFile { get; init; } = "";

    internal static TonWalletConfig Bind(ConfigReader r, string p) => new()
    {
        Address = r.Text(p + "address"),
        MnemonicFile = r.Text(p + "mnemonic_file"),
    };
}

/// <summary>The <c>[economics.&lt;network&gt;]</c> section.</summary>
public sealed partial record TonNetworkConfig
{
    /// <summary>toncenter-compatible API endpoint (per network); empty = toncenter's public endpoint (local: http://127.0.0.1:8081/api/v2, what duckton chain up serves). (<c>economics.&lt;network&gt;.rpc</c>)</summary>
    public string Rpc { get; init; } = "";
    /// <summary>Block explorer used for links (per network); empty = tonviewer. (<c>economics.&lt;network&gt;.explorer</c>)</summary>
    public string Explorer { get; init; } = "";
    /// <summary>File holding the API key of the endpoint (per network). (<c>economics.&lt;network&gt;.api_key_file</c>)</summary>
    public string ApiKeyFile { get; init; } = "";
    /// <summary>API key of the endpoint (per network); prefer api_key_file. (<c>economics.&lt;network&gt;.api_key</c>)</summary>
    public string ApiKey { get; init; } = "";
    /// <summary>The <c>[economics.&lt;network&gt;.contracts]</c> section.</summary>
    public TonContractsConfig Contracts { get; init; } = null!;
    /// <summary>The <c>[economics.&lt;network&gt;.wallet]</c> section.</summary>
    public TonWalletConfig Wallet { get; init; } = null!;

    internal static TonNetworkConfig Bind(ConfigReader r, string p) => new()
    {
        Rpc = r.Text(p + "rpc"),
        Explorer = r.Text(p + "explorer"),
        ApiKeyFile = r.Text(p + "api_key_file"),
        ApiKey = r.Text(p + "api_key"),
        Contracts = TonContractsConfig.Bind(r, p + "contracts."),
        Wallet = TonWalletConfig.Bind(r, p + "wallet."),
    };
}

/// <summary>The <c>[economics]</c> section.</summary>
public sealed partial record EconomicsConfig
{
    /// <summary>Paid compute on TON; off = every job is free and no chain client is used. (<c>economics.enabled</c>)</summary>
    public bool Enabled { get; init; }
    /// <summary>Settlement rail of paid queries: onchain settles each verified paid job through a JobEscrow on the configured network; noop, mock and channel settle nothing on chain (the payment group of p2p_query_meta says not settled). (<c>economics.settlement</c>)</summary>
    public SettlementKind Settlement { get; init; }
    /// <summary>Custody model (only noncustodial exists). (<c>economics.custody</c>)</summary>
    public string Custody { get; init; } = "";
    /// <summary>Accounting unit (only ton exists). (<c>economics.accounting_unit</c>)</summary>
    public string AccountingUnit { get; init; } = "";
    /// <summary>Settlement chain (only ton exists). (<c>economics.chain</c>)</summary>
    public string Chain { get; init; } = "";
    /// <summary>TON network: local (the emulator of duckton chain up), testnet, or mainnet (also needs mainnet_confirmed = true). (<c>economics.network</c>)</summary>
    public TonNetwork Network { get; init; }
    /// <summary>Longest wait for one reply of the TON API; a call gives up after two such waits. (<c>economics.rpc_timeout_ms</c>)</summary>
    public TimeSpan RpcTimeout { get; init; }
    /// <summary>Explicit opt-in to real TON on mainnet. (<c>economics.mainnet_confirmed</c>)</summary>
    public bool MainnetConfirmed { get; init; }
    /// <summary>Payment of a query: free, paid, or auto (public data free, internal/sensitive paid). (<c>economics.default_payment</c>)</summary>
    public PaymentMode DefaultPayment { get; init; }
    /// <summary>TON address receiving platform fees (required for channel/onchain settlement). (<c>economics.fee_recipient</c>)</summary>
    public string FeeRecipient { get; init; } = "";
    /// <summary>The <c>[economics.stake]</c> section.</summary>
    public EconomicsStakeConfig Stake { get; init; } = null!;
    /// <summary>The <c>[economics.ranking]</c> section.</summary>
    public EconomicsRankingConfig Ranking { get; init; } = null!;
    /// <summary>The <c>[economics.quality]</c> section.</summary>
    public EconomicsQualityConfig Quality { get; init; } = null!;
    /// <summary>The <c>[economics.reputation]</c> section.</summary>
    public EconomicsReputationConfig Reputation { get; init; } = null!;
    /// <summary>The <c>[economics.selection]</c> section.</summary>
    public EconomicsSelectionConfig Selection { get; init; } = null!;
    /// <summary>The <c>[economics.fees]</c> section.</summary>
    public EconomicsFeesConfig Fees { get; init; } = null!;
    /// <summary>The <c>[economics.slashing]</c> section.</summary>
    public EconomicsSlashingConfig Slashing { get; init; } = null!;
    /// <summary>The <c>[economics.records]</c> section.</summary>
    public EconomicsRecordsConfig Records { get; init; } = null!;
    /// <summary>The <c>[economics.pricing]</c> section.</summary>
    public EconomicsPricingConfig Pricing { get; init; } = null!;
    /// <summary>The <c>[economics.testnet]</c> section.</summary>
    public TonNetworkConfig Testnet { get; init; } = null!;
    /// <summary>The <c>[economics.mainnet]</c> section.</summary>
    public TonNetworkConfig Mainnet { get; init; } = null!;
    /// <summary>The <c>[economics.local]</c> section.</summary>
    public TonNetworkConfig Local { get; init; } = null!;

    internal static EconomicsConfig Bind(ConfigReader r, string p) => new()
    {
        Enabled = r.Bool(p + "enabled"),
        Settlement = r.Enum<SettlementKind>(p + "settlement"),
        Custody = r.Text(p + "custody"),
        AccountingUnit = r.Text(p + "accounting_unit"),
        Chain = r.Text(p + "chain"),
        Network = r.Enum<TonNetwork>(p + "network"),
        RpcTimeout = r.Duration(p + "rpc_timeout_ms"),
        MainnetConfirmed = r.Bool(p + "mainnet_confirmed"),
        DefaultPayment = r.Enum<PaymentMode>(p + "default_payment"),
        FeeRecipient = r.Text(p + "fee_recipient"),
        Stake = EconomicsStakeConfig.Bind(r, p + "stake."),
        Ranking = EconomicsRankingConfig.Bind(r, p + "ranking."),
        Quality = EconomicsQualityConfig.Bind(r, p + "quality."),
        Reputation = EconomicsReputationConfig.Bind(r, p + "reputation."),
        Selection = EconomicsSelectionConfig.Bind(r, p + "selection."),
        Fees = EconomicsFeesConfig.Bind(r, p + "fees."),
        Slashing = EconomicsSlashingConfig.Bind(r, p + "slashing."),
        Records = EconomicsRecordsConfig.Bind(r, p + "records."),
        Pricing = EconomicsPricingConfig.Bind(r, p + "pricing."),
        Testnet = TonNetworkConfig.Bind(r, p + "testnet."),
        Mainnet = TonNetworkConfig.Bind(r, p + "mainnet."),
        Local = TonNetworkConfig.Bind(r, p + "local."),
    };
}

/// <summary>The node's whole configuration: one immutable, typed value per catalogue key.</summary>
public sealed partial record NodeConfig
{
    /// <summary>The <c>[protocol]</c> section.</summary>
    public ProtocolConfig Protocol { get; init; } = null!;
    /// <summary>The <c>[network]</c> section.</summary>
    public NetworkConfig Network { get; init; } = null!;
    /// <summary>The <c>[transport]</c> section.</summary>
    public TransportConfig Transport { get; init; } = null!;
    /// <summary>The <c>[identity]</c> section.</summary>
    public IdentityConfig Identity { get; init; } = null!;
    /// <summary>The <c>[security]</c> section.</summary>
    public SecurityConfig Security { get; init; } = null!;
    /// <summary>The <c>[membership]</c> section.</summary>
    public MembershipConfig Membership { get; init; } = null!;
    /// <summary>The <c>[discovery]</c> section.</summary>
    public DiscoveryConfig Discovery { get; init; } = null!;
    /// <summary>The <c>[scheduler]</c> section.</summary>
    public SchedulerConfig Scheduler { get; init; } = null!;
    /// <summary>The <c>[worker]</c> section.</summary>
    public WorkerConfig Worker { get; init; } = null!;
    /// <summary>The <c>[liveness]</c> section.</summary>
    public LivenessConfig Liveness { get; init; } = null!;
    /// <summary>The <c>[budget]</c> section.</summary>
    public BudgetConfig Budget { get; init; } = null!;
    /// <summary>The <c>[trust]</c> section.</summary>
    public TrustConfig Trust { get; init; } = null!;
    /// <summary>The <c>[sybil]</c> section.</summary>
    public SybilConfig Sybil { get; init; } = null!;
    /// <summary>The <c>[storage]</c> section.</summary>
    public StorageConfig Storage { get; init; } = null!;
    /// <summary>The <c>[planner]</c> section.</summary>
    public PlannerConfig Planner { get; init; } = null!;
    /// <summary>The <c>[limits]</c> section.</summary>
    public LimitsConfig Limits { get; init; } = null!;
    /// <summary>The <c>[sandbox]</c> section.</summary>
    public SandboxConfig Sandbox { get; init; } = null!;
    /// <summary>The <c>[economics]</c> section.</summary>
    public EconomicsConfig Economics { get; init; } = null!;

    internal static NodeConfig Bind(ConfigReader r, string p) => new()
    {
        Protocol = ProtocolConfig.Bind(r, p + "protocol."),
        Network = NetworkConfig.Bind(r, p + "network."),
        Transport = TransportConfig.Bind(r, p + "transport."),
        Identity = IdentityConfig.Bind(r, p + "identity."),
        Security = SecurityConfig.Bind(r, p + "security."),
        Membership = MembershipConfig.Bind(r, p + "membership."),
        Discovery = DiscoveryConfig.Bind(r, p + "discovery."),
        Scheduler = SchedulerConfig.Bind(r, p + "scheduler."),
        Worker = WorkerConfig.Bind(r, p + "worker."),
        Liveness = LivenessConfig.Bind(r, p + "liveness."),
        Budget = BudgetConfig.Bind(r, p + "budget."),
        Trust = TrustConfig.Bind(r, p + "trust."),
        Sybil = SybilConfig.Bind(r, p + "sybil."),
        Storage = StorageConfig.Bind(r, p + "storage."),
        Planner = PlannerConfig.Bind(r, p + "planner."),
        Limits = LimitsConfig.Bind(r, p + "limits."),
        Sandbox = SandboxConfig.Bind(r, p + "sandbox."),
        Economics = EconomicsConfig.Bind(r, p + "economics."),
    };
}

using System.Collections.Immutable;

namespace Duckton.Core.Configuration;

// The key catalogue: every configuration key of the node, as data. Parsing, validation,
// p2p_config(), config/duckton.example.toml and docs/CONFIGURATION.md all come from this table.
// Keys and defaults follow the original duckton (v0.6.x) where they fit this product; see
// docs/CONFIGURATION.md for what differs. The typed NodeConfig (NodeConfig.g.cs) is generated from it too
// (NodeConfigSource; DUCKTON_REGENERATE_DOCS=1 dotnet test rewrites it), so a key is written here only.
public static partial class ConfigCatalog
{
    private static ImmutableArray<ConfigKey> CreateKeys() =>
    [
        // [protocol]
        Text("protocol.version", "1.0.0", "Protocol version this node speaks.", StringRule.Semver),
        Text("protocol.min_supported_version", "1.0.0", "Oldest peer protocol version accepted in the version handshake.", StringRule.Semver),
        Bool("protocol.require_matching_engine_version", false, "Only accept commits from hosts whose DuckDB engine version equals ours."),
        // [network]
        Text("network.bind_addr", "127.0.0.1:0", "Address the node listens on (port 0 picks a free port).", StringRule.SocketAddress, env: ["P2P_BIND_ADDR"]),
        Text("network.advertised_addr", "", "Address announced to peers when it differs from the bind address (NAT, containers); empty = the bound address.", StringRule.SocketAddress, env: ["P2P_ADVERTISED_ADDR"]),
        Millis("network.idle_timeout_ms", 30000, 1, "Close a connection after this long without traffic.", env: ["P2P_IDLE_TIMEOUT_MS"]),
        Millis("network.connect_timeout_ms", 10000, 1, "Give up connecting to a peer after this long.", env: ["P2P_CONNECT_TIMEOUT_MS"]),
        Millis("network.keepalive_ms", 10000, 1, "Send a keep-alive this often on an idle connection (must be below idle_timeout_ms)."),
        Int("network.max_concurrent_bidi_streams", 256, 1, int.MaxValue, "Most request streams one connection carries at once."),
        Bytes("network.stream_receive_window", 8 * MiB, 1, long.MaxValue, "Flow-control window of one stream."),
        Bytes("network.receive_window", 64 * MiB, 1, long.MaxValue, "Flow-control window of one connection."),
        Bytes("network.result_chunk_bytes", 1024 * KiB, 1, long.MaxValue, "Size of one result batch frame on the wire."),
        // [network] resource budgets: what one peer (identity or source address) may hold on this node
        Millis("network.handshake_timeout_ms", 3000, 1, "Drop an inbound connection that has not finished TLS and the Hello exchange within this long (slow or silent sockets).", env: ["P2P_HANDSHAKE_TIMEOUT_MS"]),
        Int("network.max_inbound_connections", 1024, 1, int.MaxValue, "Most inbound connections open at once; past it new peers are refused as busy."),
        Int("network.max_connections_per_peer", 32, 1, int.MaxValue, "Most inbound connections one peer identity may hold open at once."),
        Int("network.max_connections_per_address", 256, 1, int.MaxValue, "Most inbound connections one source address (IPv6: its /64) may hold open at once."),
        Int("network.max_handshakes", 512, 1, int.MaxValue, "Most inbound handshakes in flight at once."),
        Int("network.max_handshakes_per_address", 64, 1, int.MaxValue, "Most inbound handshakes in flight from one source address (IPv6: its /64); further sockets from it are closed at once."),
        Bytes("network.max_frame_bytes", 16 * MiB, 4 * KiB, 1 * GiB, "Largest frame payload received or sent."),
        Bytes("network.frame_memory_bytes", 256 * MiB, 1 * MiB, long.MaxValue, "Memory all connections together may use for large frames being received (each frame above 64 KiB reserves its size)."),
        Bytes("network.frame_memory_per_peer_bytes", 64 * MiB, 64 * KiB, long.MaxValue, "Share of network.frame_memory_bytes one peer identity may hold at once."),
        Millis("network.frame_memory_wait_ms", 5000, 1, "How long a frame waits for frame memory (its peer's share or the node's total) before its connection is closed."),
        Bytes("network.max_sql_bytes", 1 * MiB, 1, 1 * MiB, "Largest SQL text sent to or accepted from a peer (the wire format's limit is 1 MiB)."),
        // [transport.result]
        Int("transport.result.parallelism", 1, 1, int.MaxValue, "Streams one result is fetched over in parallel (≤ network.max_concurrent_bidi_streams)."),
        Bytes("transport.result.chunk_bytes", 0, 0, long.MaxValue, "Frame size for parallel result fetches; 0 = network.result_chunk_bytes."),
        Bytes("transport.result.parallel_min_bytes", 1 * MiB, 0, long.MaxValue, "Results smaller than this are fetched over one stream."),
        Bytes("transport.result.max_result_bytes", 2 * GiB, 1, long.MaxValue, "Largest result accepted from a host; a larger one is refused."),
        Int("transport.result.max_result_parts", 1024, 1, int.MaxValue, "Most parts one result may be split into."),
        Bytes("transport.result.max_buffer_bytes", 256 * MiB, 0, long.MaxValue, "Verified-before-returned result held in memory; beyond this the requester spills received frames to an owner-only temp file (0 = always spill)."),
        // [transport.compression]
        Choice("transport.compression.algorithm", CompressionAlgorithm.None, "Compression of result frames.", env: ["P2P_TRANSPORT_COMPRESSION"]),
        Int("transport.compression.level", 3, 1, 22, "Compression level (zstd 1..22; lz4 uses 1..12)."),
        Bytes("transport.compression.min_size_bytes", 64 * KiB, 0, long.MaxValue, "Frames smaller than this are sent uncompressed."),
        // [identity]
        Text("identity.key_path", "", "Ed25519 identity key file (PKCS#8 PEM); empty = identity.pem in the config directory, created owner-only on first start.", StringRule.AbsolutePath),
        Choice("identity.pinning_mode", PinningMode.Tofu, "How peer certificates are trusted: tofu pins the first key seen per node id; allowlist accepts only identity.allowlist."),
        List("identity.allowlist", [], "Node ids accepted when pinning_mode = allowlist.", StringRule.NodeId),
        // [security]
        Choice("security.mode", SecurityMode.Public, "private = closed grid: allowlist pinning, token-checked groups, named networks only."),
        // [membership]
        List("membership.networks", ["default"], "Grids (network names) this node joins and serves.", StringRule.NonBlank),
        List("membership.groups", [], "Groups this node belongs to; jobs may target groups.", StringRule.NonBlank),
        Text("membership.region", "", "Declared region of this node (e.g. eu-west); empty = none."),
        Choice("membership.group_enforcement", GroupEnforcement.Soft, "soft trusts declared groups; token requires a signed group token from a listed issuer."),
        Choice("membership.region_trust", RegionTrust.Declared, "attested: region constraints also require attestation ≥ L1."),
        List("membership.group_issuers", [], "Trusted group-token issuers as group=<Ed25519 public key hex>.", StringRule.IssuerEntry),
        List("membership.region_issuers", [], "Trusted region-token issuers as region=<Ed25519 public key hex>.", StringRule.IssuerEntry),
        Text("membership.group_token", "", "Signed capability token proving this node's groups (JSON).", secret: true),
        Text("membership.region_token", "", "Signed capability token proving this node's region (JSON).", secret: true),
        // [discovery]
        Choice("discovery.mode", DiscoveryMode.Gossip, "gossip: seeds plus gossip of signed capability adverts; static: only the bootstrap peers."),
        List("discovery.bootstrap", [], "Seed peers contacted to join the grid.", StringRule.PeerAddress, env: ["P2P_BOOTSTRAP"]),
        Int("discovery.candidate_sample_size", 16, 1, int.MaxValue, "Candidate hosts asked for offers per query (≥ scheduler.replicas).", env: ["P2P_CANDIDATE_SAMPLE_SIZE"]),
        // [discovery.gossip]
        Text("discovery.gossip.topic", "duckdb-p2p/caps/1", "Gossip topic of capability adverts.", StringRule.NonBlank),
        Millis("discovery.gossip.heartbeat_ms", 5000, 1, "Gossip round interval."),
        Int("discovery.gossip.fanout", 6, 1, int.MaxValue, "Peers each gossip round forwards to."),
        Seconds("discovery.gossip.capability_ttl_secs", 30, 1, "A capability advert expires this long after it was signed.", env: ["P2P_DISCOVERY_CAPABILITY_TTL_SECS"]),
        // [scheduler]
        Int("scheduler.replicas", 3, 1, 64, "Hosts each remote query runs on (k).", env: ["P2P_REPLICAS"]),
        Int("scheduler.quorum", 2, 1, int.MaxValue, "Agreeing result hashes needed to accept an answer (q ≤ k).", allowedText: "1..scheduler.replicas", env: ["P2P_QUORUM"]),
        Choice("scheduler.verify_mode", VerifyMode.Quorum, "quorum waits for q agreeing commits; fast accepts the first commit (not verified)."),
        Millis("scheduler.offer_timeout_ms", 2000, 1, "How long to collect offers (bids) from candidates."),
        Millis("scheduler.dispatch_timeout_ms", 30000, 1, "How long a dispatched host may take to commit."),
        Bool("scheduler.speculative_fetch", true, "Start streaming the first committed result into the verifying buffer before the quorum is reached (rows still reach the caller only after quorum and re-hash)."),
        Millis("scheduler.attempt_deadline_ms", 60000, 1, "Deadline of one dispatch attempt, streaming included."),
        Int("scheduler.max_retries", 0, 0, int.MaxValue, "Re-dispatch attempts after a failed attempt; 0 = no limit (the retry budget still applies).", env: ["P2P_MAX_RETRIES"]),
        Millis("scheduler.max_total_duration_ms", 0, 0, "Deadline of a query across all attempts; 0 = none."),
        Millis("scheduler.backoff_initial_ms", 200, 0, "First re-dispatch backoff."),
        Millis("scheduler.backoff_max_ms", 5000, 0, "Largest re-dispatch backoff (≥ backoff_initial_ms)."),
        Float("scheduler.backoff_jitter_frac", 0.5, 0.0, 1.0, "Random jitter added to each backoff, as a fraction of it."),
        Float("scheduler.retry_budget_max_tokens", 32.0, 0.0, double.PositiveInfinity, "Retry token bucket size shared by all queries; 0 = unlimited."),
        Float("scheduler.retry_budget_refill_per_sec", 4.0, 0.0, double.PositiveInfinity, "Retry tokens added per second."),
        Millis("scheduler.progress_interval_ms", 2000, 0, "Expected interval of progress frames from a running host."),
        Int("scheduler.progress_stall_multiplier", 5, 1, int.MaxValue, "A host is stalled after this many progress intervals without progress."),
        Int("scheduler.max_inflight_jobs", 64, 1, int.MaxValue, "Most grid queries this node coordinates at once.", env: ["P2P_MAX_INFLIGHT_JOBS"]),
        Bool("scheduler.require_staked_hosts", false, "Select only hosts with stake.", env: ["P2P_REQUIRE_STAKED_HOSTS"]),
        // [worker]
        Bool("worker.enabled", true, "Serve jobs as a host (p2p_pause / p2p_resume switch it)."),
        Millis("worker.job_timeout_ms", 60000, 0, "Cancel a job running longer than this; 0 = no limit."),
        Millis("worker.progress_interval_ms", 2000, 0, "Send a progress frame this often while running; 0 = never."),
        Bool("worker.self_measure_capability", false, "Benchmark this machine at start and advertise the figures (never a trust input)."),
        Millis("worker.offer_expiry_ms", 10000, 1, "A bid stays valid for a dispatch this long; an offer never dispatched or cancelled is forgotten after it."),
        Int("worker.max_pending_offers", 4096, 1, int.MaxValue, "Most bids awaiting dispatch at once, over all peers; past it offers are declined."),
        Int("worker.max_pending_offers_per_peer", 64, 1, int.MaxValue, "Most bids awaiting dispatch from one peer identity; past it its offers are declined."),
        Int("worker.max_jobs_per_peer", 0, 0, int.MaxValue, "Job slots one peer identity may hold at once (running or holding a result); 0 = all but one of budget.max_jobs (at least 1), so one requester never takes every slot."),
        Millis("worker.result_hold_ms", 10000, 1, "How long a committed result waits for the requester's next fetch credit before it is dropped and its slot freed."),
        Int("worker.hold_strikes", 3, 1, int.MaxValue, "Results a peer may leave unfetched within worker.hold_penalty_ms before its offers are refused (and it gets a ResourceExceeded receipt)."),
        Millis("worker.hold_penalty_ms", 60000, 1, "How long a peer that left worker.hold_strikes results unfetched is refused; also the window strikes are counted in."),
        // [metadata]
        Seconds("metadata.refresh_interval_secs", 3600, 0, "Refresh the signed node metadata this often; 0 = once at start."),
        // [liveness.phi]
        Bool("liveness.phi.enabled", true, "Use the phi-accrual failure detector."),
        Float("liveness.phi.convict_threshold", 8.0, 0.0, double.PositiveInfinity, "Phi above which a peer is considered down.", minExclusive: true),
        Int("liveness.phi.window_size", 100, 1, int.MaxValue, "Heartbeat intervals kept per peer."),
        Float("liveness.phi.min_std_ms", 50.0, 0.0, double.PositiveInfinity, "Lower bound of the interval standard deviation.", minExclusive: true),
        Float("liveness.phi.acceptable_pause_ms", 0.0, 0.0, double.PositiveInfinity, "Pause tolerated before phi starts rising."),
        Float("liveness.phi.first_interval_ms", 5000.0, 0.0, double.PositiveInfinity, "Assumed interval before any heartbeat was seen.", minExclusive: true),
        // [liveness.swim]
        Bool("liveness.swim.enabled", true, "Confirm suspected failures with SWIM indirect probes."),
        Int("liveness.swim.indirect_probe_count", 3, 0, int.MaxValue, "Peers asked to probe a suspect indirectly."),
        Millis("liveness.swim.probe_timeout_ms", 1000, 1, "Timeout of a direct probe."),
        Millis("liveness.swim.indirect_probe_timeout_ms", 2000, 1, "Timeout of an indirect probe."),
        // [budget]
        Bytes("budget.memory_bytes", 4 * GiB, 1, long.MaxValue, "Memory donated to hosted jobs in total."),
        Int("budget.threads", 2, 1, int.MaxValue, "Threads donated to hosted jobs in total."),
        Int("budget.max_jobs", 3, 1, int.MaxValue, "Hosted jobs run at once."),
        Bytes("budget.per_job_memory_bytes", 1 * GiB, 1, long.MaxValue, "Memory limit of one hosted job."),
        Int("budget.per_job_threads", 1, 1, int.MaxValue, "Threads of one hosted job."),
        Bytes("budget.max_spill_bytes", 0, 0, long.MaxValue, "Disk a hosted job may spill to; 0 = no cap."),
        Float("budget.local_reserved_fraction", 0.1, 0.0, 1.0, "Share of the budget kept for this node's own local queries.", maxExclusive: true),
        EnumList("budget.data_classes", [DataClass.Public], "Data classes this host accepts.", minCount: 1),
        // [trust]
        Float("trust.min_trust", 0.7, 0.0, 1.0, "Lowest effective trust a host needs to be selected.", env: ["P2P_MIN_TRUST"]),
        Choice("trust.min_attestation", AttestationLevel.L0, "Lowest attestation tier a host needs to be selected.", env: ["P2P_MIN_ATTESTATION"]),
        Seconds("trust.reputation_half_life_secs", 604800, 1, "Age at which an observation counts half in reputation."),
        Float("trust.canary_rate", 0.05, 0.0, 1.0, "Share of dispatches that carry a known-answer canary query.", env: ["P2P_CANARY_RATE"]),
        Float("trust.incorrect_penalty", 0.5, 0.0, 1.0, "Penalty subtracted from trust for a recent Incorrect receipt."),
        Float("trust.bootstrap_trust", 0.1, 0.0, 1.0, "Trust of a host with no history."),
        Int("trust.shadow_replicas", 1, 0, 16, "Newcomers (below min_trust) dispatched per query as shadow replicas: their answers are checked against the quorum's and earn them receipts, but never count toward it."),
        Bool("trust.probation_fills_quorum", true, "While fewer than scheduler.replicas hosts are trusted, canary-vetted newcomers fill the remaining quorum seats (p2p_query_meta reports them as probationary); false = newcomers only ever run as shadow replicas."),
        Text("trust.store_path", "", "Directory of the persistent reputation and receipt store; empty = trust/ in the config directory.", StringRule.AbsolutePath),
        List("trust.attestation_authorities", [], "Ed25519 public keys (64 hex) of the attestation authorities whose evidence this node trusts; empty = none, every claim above L0 counts as L0.", StringRule.Ed25519PublicKey),
        List("trust.allowed_measurements", [], "Allowlisted software measurements per tier, as L1:<hex> or L2:<hex>; evidence must name one for its tier.", StringRule.MeasurementEntry),
        // [trust.weights]
        Float("trust.weights.alpha_reputation", 0.7, 0.0, 1.0, "Weight α of reputation in effective trust."),
        Float("trust.weights.beta_age", 0.1, 0.0, 1.0, "Weight β of identity age in effective trust."),
        Float("trust.weights.gamma_voucher", 0.1, 0.0, 1.0, "Weight γ of vouchers in effective trust."),
        Float("trust.weights.delta_stake", 0.1, 0.0, 1.0, "Weight δ of stake in effective trust."),
        // [sybil]
        Int("sybil.pow_difficulty_bits", 16, 0, 64, "Leading zero bits of the proof-of-work identity stamp a peer must present.", env: ["P2P_POW_DIFFICULTY_BITS"]),
        Int("sybil.min_stake", 0, 0, long.MaxValue, "Stake (whole TON) a host needs to be selected; 0 = none."),
        Float("sybil.vouch_weight", 0.05, 0.0, 1.0, "Trust one voucher adds."),
        // [storage]
        Text("storage.provider", "local-fake", "Object storage provider hosts read inputs from.", StringRule.NonBlank),
        Choice("storage.credential_mode", CredentialMode.Presigned, "How hosts get storage credentials: presigned URLs, scoped secrets or sealed credentials.", aliases: ["scoped-secret=scoped_secret"]),
        Text("storage.endpoint", "", "Storage endpoint (host or URL); empty = the provider's default."),
        Text("storage.region", "", "Storage region; empty = the provider's default."),
        Choice("storage.url_style", UrlStyle.Vhost, "S3 URL style."),
        Bool("storage.use_ssl", true, "Use TLS to reach storage."),
        Seconds("storage.credential_ttl_secs", 900, 1, "Lifetime of issued storage credentials."),
        Seconds("storage.key_ttl_secs", 900, 1, "Lifetime of sealing keys."),
        Bool("storage.enable_remote_access", false, "Let hosted jobs read remote storage (opens egress for the storage endpoint only)."),
        Bool("storage.temp_file_encryption", true, "Encrypt DuckDB spill files of hosted jobs."),
        Bool("storage.require_extensions", true, "Refuse jobs whose storage access needs an extension that is not preloaded."),
        List("storage.preload_extensions", [], "DuckDB extensions loaded into the job engine before lock-down.", StringRule.NonBlank),
        List("storage.enabled_formats", ["csv", "json", "parquet"], "File formats hosted jobs may read.", StringRule.NonBlank, minCount: 1),
        List("storage.enabled_providers", ["local-fake"], "Storage providers hosted jobs may read.", StringRule.NonBlank, minCount: 1),
        List("storage.allowed_local_paths", [], "Local directories hosted jobs may read (empty = none).", StringRule.AbsolutePath),
        // [planner]
        Bool("planner.enabled", true, "Decide per query between local and grid execution."),
        Bool("planner.local_execution_enabled", true, "Allow running queries on this node's own locked-down engine.", env: ["P2P_PLANNER_LOCAL_EXECUTION"]),
        Choice("planner.prefer", PlannerPreference.Auto, "Where queries run: local, remote (the grid) or auto."),
        Float("planner.ram_fraction", 0.6, 0.0, 1.0, "Share of this machine's RAM a local query may use.", minExclusive: true),
        Int("planner.max_concurrent_local_jobs", 4, 0, int.MaxValue, "Local queries run at once (≥ 1 when the planner is enabled)."),
        Bytes("planner.size_threshold_bytes", 256 * MiB, 0, long.MaxValue, "Estimated input above which auto prefers the grid."),
        Bytes("planner.spill_tolerance_bytes", 512 * MiB, 0, long.MaxValue, "Spill a local query may need before auto prefers the grid."),
        Millis("planner.max_local_latency_ms", 10000, 0, "Estimated local run time above which auto prefers the grid."),
        // [limits]
        Int("limits.receipt_cache_per_worker", 256, 1, int.MaxValue, "Receipts kept in memory per host."),
        Int("limits.trust_store_capacity", 100000, 1, int.MaxValue, "Hosts kept in the reputation store."),
        Int("limits.peer_cache_capacity", 50000, 1, int.MaxValue, "Peers kept in the membership cache."),
        Int("limits.worker_pool_size", 8, 1, int.MaxValue, "Hosted jobs run at once across all requesters (global cap).", env: ["P2P_WORKER_POOL_SIZE"]),
        Int("limits.connection_pool_size", 1024, 1, int.MaxValue, "Open peer connections kept."),
        // [sandbox]
        Bool("sandbox.enabled", false, "Run hosted jobs inside an OS sandbox as well as the DuckDB lock-down."),
        Choice("sandbox.backend", SandboxBackend.Auto, "OS sandbox mechanism.", aliases: ["cgroups=cgroups-seccomp", "cgroup=cgroups-seccomp", "seccomp=cgroups-seccomp", "linux=cgroups-seccomp", "macos=macos-seatbelt", "seatbelt=macos-seatbelt", "windows=windows-jobobject", "jobobject=windows-jobobject", "job-object=windows-jobobject"]),
        Choice("sandbox.egress_mode", EgressMode.InheritStorage, "Network egress of a sandboxed job: the storage endpoint only, or egress_allowlist.", aliases: ["inherit=inherit_storage"]),
        List("sandbox.egress_allowlist", [], "Hosts a sandboxed job may reach when egress_mode = explicit.", StringRule.NonBlank),
        Choice("sandbox.temp_dir_policy", TempDirPolicy.Ephemeral, "Spill directory of a job: a fresh one per job, the process's, or temp_dir."),
        Text("sandbox.temp_dir", "", "Spill directory when temp_dir_policy = custom.", StringRule.AbsolutePath),
        Bool("sandbox.process_per_job", false, "Run each hosted job in its own child process."),
        // [sandbox.limits]
        Choice("sandbox.limits.mode", SandboxLimitsMode.InheritBudget, "OS limits of a job: derived from [budget], or the explicit values below.", aliases: ["inherit=inherit_budget"]),
        Bytes("sandbox.limits.memory_bytes", 0, 0, long.MaxValue, "Address-space limit of a job process; 0 = no cap.", env: ["P2P_SANDBOX_MEMORY_BYTES"]),
        Seconds("sandbox.limits.cpu_seconds", 0, 0, "CPU time limit of a job process; 0 = no cap.", env: ["P2P_SANDBOX_CPU_SECONDS"], property: "CpuTime"),
        Bytes("sandbox.limits.max_file_size_bytes", 0, 0, long.MaxValue, "Largest file a job process may write; 0 = no cap.", env: ["P2P_SANDBOX_MAX_FILE_SIZE_BYTES"]),
        Int("sandbox.limits.max_open_files", 0, 0, int.MaxValue, "Open files of a job process; 0 = no cap.", env: ["P2P_SANDBOX_MAX_OPEN_FILES"]),
        Int("sandbox.limits.max_processes", 0, 0, int.MaxValue, "Processes a job may start; 0 = no cap.", env: ["P2P_SANDBOX_MAX_PROCESSES"]),
        // [economics]
        Bool("economics.enabled", false, "Paid compute on TON; off = every job is free and no chain client is used."),
        Choice("economics.settlement", SettlementKind.Noop, "Settlement rail.", aliases: ["free=noop", "off=noop", "test=mock", "ton=onchain", "on-chain=onchain"]),
        Choice("economics.custody", "noncustodial", ["noncustodial"], "Custody model (only noncustodial exists)."),
        Choice("economics.accounting_unit", "ton", ["ton"], "Accounting unit (only ton exists)."),
        Choice("economics.chain", "ton", ["ton"], "Settlement chain (only ton exists)."),
        Choice("economics.network", TonNetwork.Testnet, "TON network; mainnet also needs mainnet_confirmed = true."),
        Bool("economics.mainnet_confirmed", false, "Explicit opt-in to real TON on mainnet."),
        Choice("economics.default_payment", PaymentMode.Auto, "Payment of a query: free, paid, or auto (public data free, internal/sensitive paid)."),
        Text("economics.fee_recipient", "", "TON address receiving platform fees (required for channel/onchain settlement)."),
        // [economics.stake]
        Int("economics.stake.min_stake", 0, 0, long.MaxValue, "Stake (whole TON) to serve public jobs."),
        Int("economics.stake.min_stake_internal", 100, 0, long.MaxValue, "Stake (whole TON) to serve internal jobs."),
        Int("economics.stake.min_stake_sensitive", 1000, 0, long.MaxValue, "Stake (whole TON) to serve sensitive jobs."),
        Int("economics.stake.stake_cap", 100000, 0, long.MaxValue, "Stake (whole TON) above which stake adds nothing to selection."),
        Seconds("economics.stake.unbonding_secs", 604800, 0, "Delay between unstake and withdrawal (≥ slashing.challenge_window_secs)."),
        Bool("economics.stake.receipt_jetton", true, "Mint a stake receipt jetton."),
        Bool("economics.stake.receipt_transfer_locked", true, "Stake receipt jettons cannot be transferred."),
        // [economics.ranking]
        Float("economics.ranking.w_quality", 0.6, 0.0, double.PositiveInfinity, "Selection weight of quality (trust)."),
        Float("economics.ranking.w_stake", 0.3, 0.0, double.PositiveInfinity, "Selection weight of stake (reliability-gated)."),
        Float("economics.ranking.w_price", 0.25, 0.0, double.PositiveInfinity, "Selection weight of price."),
        Float("economics.ranking.w_latency", 0.15, 0.0, double.PositiveInfinity, "Selection weight of latency measured by the requester."),
        Float("economics.ranking.w_throughput", 0.15, 0.0, double.PositiveInfinity, "Selection weight of throughput measured by the requester."),
        Float("economics.ranking.exploration_rate", 0.0, 0.0, 1.0, "Share of selections given to newcomers for exploration."),
        Int("economics.ranking.exploration_saturation", 20, 0, int.MaxValue, "Observations after which a host is no longer explored."),
        Float("economics.ranking.capability_weight", 0.1, 0.0, double.PositiveInfinity, "Selection weight of advertised capability."),
        Float("economics.ranking.newcomer_trust_ceiling", 1.0, 0.0, 1.0, "Highest quality score a newcomer can have; 1 = no cap."),
        Int("economics.ranking.newcomer_obs_threshold", 20, 0, int.MaxValue, "Observations after which a host is no longer a newcomer."),
        Float("economics.ranking.stake_reliability_floor", 0.5, 0.0, 1.0, "Reliability below which stake counts for nothing."),
        // [economics.quality]
        Float("economics.quality.w_success", 0.5, 0.0, double.PositiveInfinity, "Quality weight of correct results."),
        Float("economics.quality.w_latency", 0.2, 0.0, double.PositiveInfinity, "Quality weight of latency."),
        Float("economics.quality.w_throughput", 0.2, 0.0, double.PositiveInfinity, "Quality weight of throughput."),
        Float("economics.quality.w_completion", 0.1, 0.0, double.PositiveInfinity, "Quality weight of completed jobs."),
        Millis("economics.quality.latency_ref_ms", 5000, 1, "Latency that scores 0.5."),
        Bytes("economics.quality.bytes_ref", 1 * GiB, 1, long.MaxValue, "Result size used as the throughput reference."),
        Float("economics.quality.throughput_ref_bytes_per_ms", 0.0, 0.0, double.PositiveInfinity, "Throughput that scores 0.5; 0 = bytes_ref / latency_ref_ms."),
        // [economics.reputation]
        Float("economics.reputation.prior_alpha", 1.0, 0.0, double.PositiveInfinity, "Beta prior α (successes) of reputation."),
        Float("economics.reputation.prior_beta", 2.0, 0.0, double.PositiveInfinity, "Beta prior β (failures) of reputation."),
        Float("economics.reputation.confidence_z", 1.96, 0.0, double.PositiveInfinity, "z of the Wilson lower bound."),
        // [economics.selection]
        Int("economics.selection.n_public", 3, 1, int.MaxValue, "Replicas of a paid public job (on-chain parameter)."),
        Int("economics.selection.n_default", 5, 1, int.MaxValue, "Default replicas of a paid job (on-chain parameter)."),
        Int("economics.selection.n_max", 10, 1, int.MaxValue, "Most replicas of a paid job (on-chain parameter)."),
        Bool("economics.selection.requester_overridable", true, "Requesters may choose their own replica count."),
        Int("economics.selection.checksum_min", 3, 1, int.MaxValue, "Fewest agreeing hosts for a paid job to settle."),
        Bool("economics.selection.checksum_allow_degraded", true, "Settle with fewer agreeing hosts when not enough are available."),
        // [economics.fees]
        Float("economics.fees.platform_fee_pct", 0.15, 0.0, 1.0, "Platform fee φ on top of the winner's base."),
        Float("economics.fees.verification_surcharge_pct", 0.05, 0.0, 1.0, "Surcharge paid to each agreeing verifier."),
        Float("economics.fees.participation_commission_frac", 0.05, 0.0, 0.1, "Commission κ per agreeing verifier."),
        Float("economics.fees.bonus_aggressiveness", 0.5, 0.0, 1.0, "How strongly quality and speed bonuses grow."),
        Float("economics.fees.lambda_quality", 0.5, 0.0, 1.0, "Bonus share for quality (lambda_quality + lambda_speed = 1)."),
        Float("economics.fees.lambda_speed", 0.5, 0.0, 1.0, "Bonus share for speed."),
        // [economics.slashing]
        Float("economics.slashing.slash_wrong_result_pct", 0.15, 0.0, 1.0, "Stake slashed for a wrong result."),
        Float("economics.slashing.slash_cheat_pct", 1.0, 0.0, 1.0, "Stake slashed for proven cheating."),
        Float("economics.slashing.slash_downtime_pct", 0.02, 0.0, 1.0, "Stake slashed for downtime."),
        Float("economics.slashing.slash_equivocation_pct", 0.5, 0.0, 1.0, "Stake slashed for equivocation (commit one hash, stream other rows)."),
        Float("economics.slashing.slash_failed_commitment_pct", 0.1, 0.0, 1.0, "Stake slashed for a commitment not honoured."),
        Seconds("economics.slashing.challenge_window_secs", 86400, 0, "Time to challenge a settled job."),
        Float("economics.slashing.slash_to_challenger", 0.4, 0.0, 1.0, "Share of a slash paid to the challenger (the four shares sum to 1)."),
        Float("economics.slashing.slash_to_redundancy", 0.3, 0.0, 1.0, "Share of a slash paid to the honest replicas."),
        Float("economics.slashing.slash_to_burn", 0.2, 0.0, 1.0, "Share of a slash burnt."),
        Float("economics.slashing.slash_to_treasury", 0.1, 0.0, 1.0, "Share of a slash paid to the treasury."),
        // [economics.records]
        Seconds("economics.records.epoch_secs", 60, 1, "Length of a job-record epoch whose Merkle root is anchored."),
        Float("economics.records.anchor_quorum_pct", 0.66, 0.0, 1.0, "Share of anchors that must agree on an epoch root."),
        // [economics.pricing]
        Choice("economics.pricing.model", PricingModel.Metered, "metered charges per second and GiB; fixed charges unit_price per job."),
        Int("economics.pricing.unit_price", 0, 0, long.MaxValue, "Price of a job in whole TON (fixed model)."),
        Int("economics.pricing.max_bid", 0, 0, long.MaxValue, "Most this node pays for a job, in whole TON; 0 = no cap."),
        Int("economics.pricing.rate_per_second", 0, 0, long.MaxValue, "Metered price in nanoton per second; 0 = unit_price × 1e9."),
        Int("economics.pricing.rate_per_gb", 0, 0, long.MaxValue, "Metered price in nanoton per GiB processed."),
        Int("economics.pricing.cap_multiplier", 5, 1, int.MaxValue, "A metered bill is capped at this multiple of the quote."),
        Float("economics.pricing.metering_tolerance", 1.5, 1.0, double.PositiveInfinity, "Accepted ratio between metered and estimated usage."),
        // [economics.testnet] and [economics.mainnet]: one shape (the typed TonNetworkConfig serves both)
        .. TonNetworkKeys("testnet"),
        .. TonNetworkKeys("mainnet"),
        // [antiabuse]
        Bool("antiabuse.enabled", true, "Anti-abuse protections as a whole."),
        // [antiabuse.fault_attribution]
        Bool("antiabuse.fault_attribution.enabled", true, "Blame a failed job on the requester when most hosts fail it alike."),
        Float("antiabuse.fault_attribution.job_consensus_fraction", 0.67, 0.0, 1.0, "Share of hosts failing alike that blames the job, not the hosts.", env: ["P2P_ANTIABUSE_JOB_CONSENSUS_FRACTION"]),
        // [antiabuse.requester_trust]
        Bool("antiabuse.requester_trust.enabled", false, "Hosts weigh requesters by their history."),
        Float("antiabuse.requester_trust.negative_floor_weight", 0.0, 0.0, 1.0, "Lowest weight of a badly behaved requester.", env: ["P2P_ANTIABUSE_REQUESTER_NEGATIVE_FLOOR"]),
        Float("antiabuse.requester_trust.positive_floor_weight", 0.5, 0.0, 1.0, "Weight of a new requester (≥ negative_floor_weight).", env: ["P2P_ANTIABUSE_REQUESTER_POSITIVE_FLOOR"]),
        Int("antiabuse.requester_trust.age_saturation", 50, 0, int.MaxValue, "Jobs after which a requester's history counts fully.", env: ["P2P_ANTIABUSE_REQUESTER_AGE_SATURATION"]),
        // [antiabuse.cost_gate]
        Bool("antiabuse.cost_gate.enabled", false, "Refuse jobs whose estimated cost exceeds the caps below."),
        Int("antiabuse.cost_gate.max_cost_hint_rows", 0, 0, long.MaxValue, "Most estimated rows of a job; 0 = no cap."),
        Float("antiabuse.cost_gate.max_working_set_factor", 1.0, 0.0, double.PositiveInfinity, "Most estimated working set as a multiple of the per-job memory."),
        // [antiabuse.nondeterminism]
        Bool("antiabuse.nondeterminism.enabled", true, "Report non-deterministic SQL (random(), now(), LIMIT without ORDER BY) as unverifiable."),
        // [antiabuse.free_rate_limit]
        Bool("antiabuse.free_rate_limit.enabled", false, "Rate-limit free jobs per requester.", env: ["P2P_ANTIABUSE_FREE_RATE_LIMIT_ENABLED"]),
        Int("antiabuse.free_rate_limit.max_free_per_window", 30, 0, int.MaxValue, "Free jobs per requester per window.", env: ["P2P_ANTIABUSE_FREE_RATE_MAX_PER_WINDOW"]),
        Seconds("antiabuse.free_rate_limit.window_secs", 60, 0, "Rate-limit window.", env: ["P2P_ANTIABUSE_FREE_RATE_WINDOW_SECS"]),
        Int("antiabuse.free_rate_limit.max_tracked_requesters", 10000, 0, int.MaxValue, "Requesters tracked by the rate limiter."),
        Int("antiabuse.free_rate_limit.require_pow_bits", 0, 0, 64, "Proof-of-work bits a free job must carry; 0 = none.", env: ["P2P_ANTIABUSE_FREE_RATE_REQUIRE_POW_BITS"]),
        Bool("antiabuse.free_rate_limit.prioritize_paid", true, "Paid jobs go before free ones when the host is busy."),
        // [antiabuse.blocklist]
        Bool("antiabuse.blocklist.auto_block_enabled", false, "Add hosts to the deny-list automatically when their trust falls below the floor.", env: ["P2P_ANTIABUSE_AUTO_BLOCK_ENABLED"]),
        Float("antiabuse.blocklist.auto_block_trust_floor", 0.0, 0.0, 1.0, "Trust below which a host is blocked automatically.", env: ["P2P_ANTIABUSE_AUTO_BLOCK_TRUST_FLOOR"]),
        Bool("antiabuse.blocklist.honor_gossip_signals", false, "Also block actors that peers' gossiped receipts show misbehaving.", env: ["P2P_ANTIABUSE_HONOR_GOSSIP_SIGNALS"]),
        Bool("antiabuse.blocklist.honor_global_params", false, "Also block actors listed in the on-chain parameters.", env: ["P2P_ANTIABUSE_HONOR_GLOBAL_PARAMS"]),
        // [antiabuse.gossip]
        Bool("antiabuse.gossip.peer_scoring", false, "Score gossip peers and drop misbehaving ones."),
        Bool("antiabuse.gossip.diverse_bootstrap", true, "Prefer seeds from different networks and regions."),
    ];

    /// <summary>The keys of one TON network's section (<c>economics.testnet</c>, <c>economics.mainnet</c>).</summary>
    private static ConfigKey[] TonNetworkKeys(string n) =>
    [
        // [economics.{n}]
        Text($"economics.{n}.rpc", "", $"toncenter-compatible API endpoint ({n}); empty = toncenter's public endpoint.", StringRule.HttpUrl),
        Text($"economics.{n}.explorer", "", $"Block explorer used for links ({n}); empty = tonviewer."),
        Text($"economics.{n}.api_key_file", "", $"File holding the API key of the endpoint ({n}).", StringRule.AbsolutePath),
        Text($"economics.{n}.api_key", "", $"API key of the endpoint ({n}); prefer api_key_file.", secret: true),
        // [economics.{n}.contracts]
        Text($"economics.{n}.contracts.stake_vault", "", $"Address of the stake vault contract ({n})."),
        Text($"economics.{n}.contracts.job_escrow", "", $"Address of the job escrow contract ({n})."),
        Text($"economics.{n}.contracts.record_anchor", "", $"Address of the record anchor contract ({n})."),
        Text($"economics.{n}.contracts.global_params", "", $"Address of the global params contract ({n})."),
        // [economics.{n}.wallet]
        Text($"economics.{n}.wallet.address", "", $"This node's wallet address ({n})."),
        Text($"economics.{n}.wallet.mnemonic_file", "", $"Owner-only file holding the wallet mnemonic ({n}).", StringRule.AbsolutePath),
    ];
}

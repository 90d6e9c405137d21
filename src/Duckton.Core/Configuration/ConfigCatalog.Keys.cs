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
        Text("protocol.version", "1.1.0", "Protocol version this node speaks; the lower of two peers' versions is spoken between them (1.1 adds small results sent with the commit; \"1.0.0\" turns that off).", StringRule.Semver),
        Text("protocol.min_supported_version", "1.0.0", "Oldest peer protocol version accepted in the version handshake.", StringRule.Semver),
        // [network]
        Text("network.bind_addr", "127.0.0.1:0", "Address the node listens on (port 0 picks a free port).", StringRule.SocketAddress, env: ["P2P_BIND_ADDR"]),
        Text("network.advertised_addr", "", "Address announced to peers when it differs from the bind address (NAT, containers); empty = the bound address.", StringRule.SocketAddress, env: ["P2P_ADVERTISED_ADDR"]),
        Millis("network.idle_timeout_ms", 30000, 1, "Close a connection after this long without traffic.", env: ["P2P_IDLE_TIMEOUT_MS"]),
        Millis("network.connect_timeout_ms", 10000, 1, "Give up connecting to a peer after this long.", env: ["P2P_CONNECT_TIMEOUT_MS"]),
        Bytes("network.result_chunk_bytes", 1024 * KiB, 4 * KiB, 8 * MiB, "Size of one result batch frame on the wire."),
        // [network] resource budgets: what one peer (identity or source address) may hold on this node
        Millis("network.handshake_timeout_ms", 10000, 1, "Drop an inbound connection that has not finished TLS and the Hello exchange within this long (slow or silent sockets).", env: ["P2P_HANDSHAKE_TIMEOUT_MS"]),
        Int("network.max_inbound_connections", 1024, 1, int.MaxValue, "Most inbound connections open at once; past it new peers are refused as busy."),
        Int("network.max_connections_per_peer", 128, 1, int.MaxValue, "Most inbound connections one peer identity may hold open at once (one identity may run many processes: each shell sharing a config directory keeps about three per host)."),
        Int("network.max_connections_per_address", 256, 1, int.MaxValue, "Most inbound connections one source address (IPv6: its /64) may hold open at once."),
        Int("network.max_handshakes", 512, 1, int.MaxValue, "Most inbound handshakes in flight at once."),
        Int("network.max_handshakes_per_address", 64, 1, int.MaxValue, "Most inbound handshakes in flight from one source address (IPv6: its /64); further sockets from it are closed at once."),
        Bytes("network.max_frame_bytes", 16 * MiB, 4 * KiB, 1 * GiB, "Largest frame payload received or sent."),
        Bytes("network.frame_memory_bytes", 256 * MiB, 1 * MiB, long.MaxValue, "Memory all connections together may use for large frames being received (each frame above 64 KiB reserves its size)."),
        Bytes("network.frame_memory_per_peer_bytes", 64 * MiB, 64 * KiB, long.MaxValue, "Share of network.frame_memory_bytes one peer identity may hold at once."),
        Millis("network.frame_memory_wait_ms", 5000, 1, "How long a frame waits for frame memory (its peer's share or the node's total) before its connection is closed."),
        Bytes("network.max_sql_bytes", 1 * MiB, 1, 1 * MiB, "Largest SQL text sent to or accepted from a peer (the wire format's limit is 1 MiB)."),
        // [transport.result]
        Bytes("transport.result.max_result_bytes", 2 * GiB, 1, long.MaxValue, "Largest result accepted from a host; a larger one is refused."),
        Bytes("transport.result.max_buffer_bytes", 256 * MiB, 0, long.MaxValue, "Verified-before-returned result held in memory; beyond this the requester spills received frames to an owner-only temp file (0 = always spill)."),
        // [identity]
        Choice("identity.pinning_mode", PinningMode.Tofu, "How peer certificates are trusted: tofu pins the first key seen per node id; allowlist accepts only identity.allowlist."),
        List("identity.allowlist", [], "Node ids accepted when pinning_mode = allowlist.", StringRule.NodeId),
        // [security]
        Choice("security.mode", SecurityMode.Public, "private = closed grid: allowlist pinning, token-checked groups, named networks only."),
        // [membership]
        List("membership.networks", ["default"], "Grids (network names) this node joins and serves.", StringRule.NonBlank),
        List("membership.groups", [], "Groups this node belongs to; jobs may target groups.", StringRule.NonBlank),
        Text("membership.region", "", "Declared region of this node (e.g. eu-west); empty = none."),
        Choice("membership.group_enforcement", GroupEnforcement.Soft, "soft trusts declared groups; token: groups => only routes to hosts holding a valid signed token for the group from an issuer in group_issuers."),
        Choice("membership.region_trust", RegionTrust.Declared, "declared trusts declared regions (a token is still required for a region listed in region_issuers); attested: regions => also requires attestation ≥ L1."),
        List("membership.group_issuers", [], "Trusted group-token issuers as group=<Ed25519 public key hex> (several per group allowed); tokens from them mark a host's group verified.", StringRule.IssuerEntry),
        List("membership.region_issuers", [], "Trusted region-token issuers as region=<Ed25519 public key hex>; regions => a listed region only routes to hosts holding a valid token from one of them.", StringRule.IssuerEntry),
        Text("membership.group_token", "", "This host's signed group tokens (duckton token issue --kind group), separated by spaces; carried in its advert.", StringRule.MembershipTokens, secret: true),
        Text("membership.region_token", "", "This host's signed region token (duckton token issue --kind region); carried in its advert.", StringRule.MembershipTokens, secret: true),
        // [discovery]
        List("discovery.bootstrap", [], "Seed peers contacted to join the grid.", StringRule.PeerAddress, env: ["P2P_BOOTSTRAP"]),
        Int("discovery.candidate_sample_size", 16, 1, int.MaxValue, "Candidate hosts asked for offers per query (≥ scheduler.replicas); also how many hosts a requester keeps pre-connected (two idle connections each).", env: ["P2P_CANDIDATE_SAMPLE_SIZE"]),
        // [discovery.gossip]
        Millis("discovery.gossip.heartbeat_ms", 5000, 1, "Gossip round interval."),
        Int("discovery.gossip.fanout", 6, 1, int.MaxValue, "Peers each gossip round forwards to."),
        Seconds("discovery.gossip.capability_ttl_secs", 30, 1, "A capability advert expires this long after it was signed.", env: ["P2P_DISCOVERY_CAPABILITY_TTL_SECS"]),
        // [scheduler]
        Int("scheduler.replicas", 3, 1, 64, "Hosts each remote query runs on (k).", env: ["P2P_REPLICAS"]),
        Int("scheduler.quorum", 2, 1, int.MaxValue, "Agreeing result hashes needed to accept an answer (q ≤ k).", allowedText: "1..scheduler.replicas", env: ["P2P_QUORUM"]),
        Choice("scheduler.verify_mode", VerifyMode.Quorum, "quorum waits for q agreeing commits; fast accepts the first commit (not verified)."),
        Millis("scheduler.offer_timeout_ms", 2000, 1, "How long to collect offers (bids) from candidates; 50 ms more for the bid of a dispatch sent with its offer (a host may hold that bid to send it with the job's answer)."),
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
        Millis("worker.job_timeout_ms", 60000, 0, "Cancel a job running longer than this (hosted jobs, and local queries given no timeout_ms); 0 = no limit."),
        Millis("worker.offer_expiry_ms", 10000, 1, "A bid stays valid for a dispatch this long; an offer never dispatched or cancelled is forgotten after it."),
        Int("worker.max_pending_offers", 4096, 1, int.MaxValue, "Most bids awaiting dispatch at once, over all peers; past it offers are declined."),
        Int("worker.max_pending_offers_per_peer", 64, 1, int.MaxValue, "Most bids awaiting dispatch from one peer identity; past it its offers are declined."),
        Int("worker.max_jobs_per_peer", 0, 0, int.MaxValue, "Job slots one peer identity may hold at once (running or holding a result); 0 = all but one of budget.max_jobs (at least 1), so one requester never takes every slot."),
        Millis("worker.result_hold_ms", 10000, 1, "How long a committed result waits for the requester's next fetch credit before it is dropped and its slot freed."),
        Int("worker.hold_strikes", 3, 1, int.MaxValue, "Results a peer may leave unfetched within worker.hold_penalty_ms before its offers are refused (and it gets a ResourceExceeded receipt)."),
        Millis("worker.hold_penalty_ms", 60000, 1, "How long a peer that left worker.hold_strikes results unfetched is refused; also the window strikes are counted in."),
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
        Bytes("budget.per_job_memory_bytes", 1 * GiB, 1, long.MaxValue, "Memory limit of one hosted job, and of a local query."),
        Int("budget.per_job_threads", 1, 1, int.MaxValue, "Threads of one hosted job."),
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
        Int("sybil.pow_difficulty_bits", 16, 0, 28, "Leading zero bits of the proof-of-work identity stamp: the least this node accepts in a peer's advert, and what it mints for its own (about 2^bits hashes, once per identity and setting).", env: ["P2P_POW_DIFFICULTY_BITS"]),
        Int("sybil.min_stake", 0, 0, long.MaxValue, "Stake (whole TON) a host needs to be selected; 0 = none."),
        Float("sybil.vouch_weight", 0.05, 0.0, 1.0, "Trust one voucher adds."),
        // [storage]
        List("storage.allowed_local_paths", [], "Local directories hosted jobs may read (empty = none).", StringRule.AbsolutePath),
        // [planner]
        Bool("planner.local_execution_enabled", true, "Allow running queries on this node's own locked-down engine.", env: ["P2P_PLANNER_LOCAL_EXECUTION"]),
        Choice("planner.prefer", PlannerPreference.Auto, "Where queries run: local, remote (the grid), or auto: the grid when it has enough usable hosts for the quorum the query needs, else locally (p2p_query_meta's planner row says which and why)."),
        Float("planner.ram_fraction", 0.6, 0.0, 1.0, "Cap on a local query's memory as a share of this machine's RAM (its limit is budget.per_job_memory_bytes, at most this share).", minExclusive: true),
        Int("planner.max_concurrent_local_jobs", 4, 0, int.MaxValue, "Local queries run at once (≥ 1 when local execution is enabled)."),
        // [limits]
        Int("limits.peer_cache_capacity", 50000, 1, int.MaxValue, "Peers kept in the membership cache."),
        Int("limits.connection_pool_size", 1024, 0, int.MaxValue, "Idle outbound peer connections kept open for reuse, over all peers (at most 4 per peer); a connection returned past it is closed; 0 = none kept."),
        // [sandbox]
        Bool("sandbox.enabled", true, "Run hosted jobs in separate sandboxed worker processes (kernel memory/CPU limits, no network) as well as the DuckDB lock-down; needs a host started by the duckton program (inside the DuckDB extension jobs run in-process)."),
        Choice("sandbox.backend", SandboxBackend.Auto, "What enforces a worker's limits: auto = cgroups (v2, else v1) when this process can create them, else rlimits; cgroups = refuse to host without them; rlimit; none = worker processes without kernel limits.", aliases: ["cgroup=cgroups", "linux=cgroups", "rlimits=rlimit"]),
        Choice("sandbox.temp_dir_policy", TempDirPolicy.Ephemeral, "Where a hosted job spills what does not fit in its memory limit: ephemeral = every job starts with an empty directory no earlier job wrote to (under temp_dir when set, else the system temp directory); one that a job spilled into is deleted when that job ends; inherit = one directory for the host's (or sandbox worker's) process, deleted when it shuts down cleanly; custom = temp_dir. A job may read its spill directory but never write files itself."),
        Text("sandbox.temp_dir", "", "Spill directory when temp_dir_policy = custom; with ephemeral, where the per-job directories are made (empty = the system temp directory).", StringRule.AbsolutePath),
        Bool("sandbox.process_per_job", false, "A fresh worker process for every job (else a worker whose job ended cleanly serves the next one; a cancelled, timed-out or failed job's worker is always killed)."),
        // [sandbox.limits]
        Choice("sandbox.limits.mode", SandboxLimitsMode.InheritBudget, "Kernel limits of a job's worker: inherit_budget = memory budget.per_job_memory_bytes, file size the same, 1024 open files, 256 processes, no CPU-time cap; explicit = the values below.", aliases: ["inherit=inherit_budget"]),
        Bytes("sandbox.limits.memory_bytes", 0, 0, long.MaxValue, "Memory of a job's worker process (cgroup memory limit; under rlimits: address space beyond the worker's start-up size); 0 = no cap.", env: ["P2P_SANDBOX_MEMORY_BYTES"]),
        Seconds("sandbox.limits.cpu_seconds", 0, 0, "CPU time one job may use (RLIMIT_CPU; the worker is stopped past it); 0 = no cap.", env: ["P2P_SANDBOX_CPU_SECONDS"], property: "CpuTime"),
        Bytes("sandbox.limits.max_file_size_bytes", 0, 0, long.MaxValue, "Largest file a job's worker may write (RLIMIT_FSIZE); 0 = no cap.", env: ["P2P_SANDBOX_MAX_FILE_SIZE_BYTES"]),
        Int("sandbox.limits.max_open_files", 0, 0, int.MaxValue, "Open files of a job's worker (RLIMIT_NOFILE, raised to what the worker holds at start-up plus 16); 0 = no cap.", env: ["P2P_SANDBOX_MAX_OPEN_FILES"]),
        Int("sandbox.limits.max_processes", 0, 0, int.MaxValue, "Processes and threads of a job's worker (cgroup pids.max; under rlimits RLIMIT_NPROC, which counts per user and not for root); 0 = no cap.", env: ["P2P_SANDBOX_MAX_PROCESSES"]),
        // [economics]
        Bool("economics.enabled", false, "Paid compute on TON; off = every job is free and no chain client is used."),
        Choice("economics.settlement", SettlementKind.Noop, "Settlement rail of paid queries: onchain settles each verified paid job through a JobEscrow on the configured network; noop, mock and channel settle nothing on chain (the payment group of p2p_query_meta says not settled).", aliases: ["free=noop", "off=noop", "test=mock", "ton=onchain", "on-chain=onchain"]),
        Choice("economics.custody", "noncustodial", ["noncustodial"], "Custody model (only noncustodial exists)."),
        Choice("economics.accounting_unit", "ton", ["ton"], "Accounting unit (only ton exists)."),
        Choice("economics.chain", "ton", ["ton"], "Settlement chain (only ton exists)."),
        Choice("economics.network", TonNetwork.Testnet, "TON network: local (the emulator of duckton chain up), testnet, or mainnet (also needs mainnet_confirmed = true)."),
        Millis("economics.rpc_timeout_ms", 10000, 100, "Longest wait for one reply of the TON API; a call gives up after two such waits."),
        Bool("economics.mainnet_confirmed", false, "Explicit opt-in to real TON on mainnet."),
        Choice("economics.default_payment", PaymentMode.Auto, "Payment of a query: free, paid, or auto (public data free, internal/sensitive paid)."),
        Text("economics.fee_recipient", "", "TON address receiving platform fees (required for channel/onchain settlement)."),
        // [economics.stake]
        Int("economics.stake.min_stake", 0, 0, long.MaxValue, "Stake (whole TON) to serve public jobs."),
        Int("economics.stake.min_stake_internal", 100, 0, long.MaxValue, "Stake (whole TON) to serve internal jobs."),
        Int("economics.stake.min_stake_sensitive", 1000, 0, long.MaxValue, "Stake (whole TON) to serve sensitive jobs."),
        Int("economics.stake.stake_cap", 100000, 0, long.MaxValue, "Stake (whole TON) above which stake adds nothing to selection."),
        Seconds("economics.stake.unbonding_secs", 604800, 0, "Delay between unstake and withdrawal (≥ slashing.challenge_window_secs)."),
        Seconds("economics.stake.refresh_secs", 300, 1, "How long a host's stake read from its vault is used before it is read again (economics on)."),
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
        Seconds("economics.records.epoch_secs", 60, 1, "Length of a job-record epoch: at each window's end the job records received before it are sealed into one epoch and its Merkle root is computed (and anchored by the keeper)."),
        Bool("economics.records.keeper", false, "This node anchors its sealed epoch roots in the RecordAnchor contract (economics on; its wallet must be the anchor's keeper)."),
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
        .. TonNetworkKeys("local"),
    ];

    /// <summary>The keys of one TON network's section (<c>economics.testnet</c>, <c>economics.mainnet</c>).</summary>
    private static ConfigKey[] TonNetworkKeys(string n) =>
    [
        // [economics.{n}]
        Text($"economics.{n}.rpc", "", $"toncenter-compatible API endpoint ({n}); empty = toncenter's public endpoint (local: http://127.0.0.1:8081/api/v2, what duckton chain up serves).", StringRule.HttpUrl),
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

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;
using Duckton.Core.Data;
using Duckton.Core.Hashing;
using Duckton.Core.Protocol;
using Duckton.Engine;
using Duckton.Node.Grid.Execution;
using Duckton.Transport;
using Microsoft.Extensions.Logging;
using CoreConfig = Duckton.Core.Configuration;

namespace Duckton.Node.Grid;

/// <summary>What a host donates and how it behaves.</summary>
public sealed record WorkerOptions
{
    public long MemoryBytes { get; init; } = CoreConfig.NodeConfig.Defaults.Budget.MemoryBytes;
    public int Threads { get; init; } = CoreConfig.NodeConfig.Defaults.Budget.Threads;
    public int MaxJobs { get; init; } = CoreConfig.NodeConfig.Defaults.Budget.MaxJobs;
    public long PerJobMemoryBytes { get; init; } = CoreConfig.NodeConfig.Defaults.Budget.PerJobMemoryBytes;
    public int PerJobThreads { get; init; } = CoreConfig.NodeConfig.Defaults.Budget.PerJobThreads;
    public IReadOnlyList<CoreConfig.DataClass> DataClasses { get; init; } = CoreConfig.NodeConfig.Defaults.Budget.DataClasses;
    public IReadOnlyList<string> Networks { get; init; } = CoreConfig.NodeConfig.Defaults.Membership.Networks;
    public IReadOnlyList<string> Groups { get; init; } = [];
    public string Region { get; init; } = "";

    /// <summary>Signed membership tokens this host carries in its advert (<c>membership.group_token</c>, <c>region_token</c>).</summary>
    public IReadOnlyList<MembershipToken> MembershipTokens { get; init; } = [];
    public TimeSpan JobTimeout { get; init; } = CoreConfig.NodeConfig.Defaults.Worker.JobTimeout;
    public long MaxResultBytes { get; init; } = CoreConfig.NodeConfig.Defaults.Transport.Result.MaxResultBytes;
    public int ChunkBytes { get; init; } = (int)CoreConfig.NodeConfig.Defaults.Network.ResultChunkBytes;
    public int MaxFrameBytes { get; init; } = 16 << 20;
    /// <summary>How long a committed result waits for the requester's next fetch credit (<c>worker.result_hold_ms</c>).</summary>
    public TimeSpan ResultHold { get; init; } = CoreConfig.NodeConfig.Defaults.Worker.ResultHold;

    /// <summary>An inbound connection with no frame and no job for this long is closed (<c>network.idle_timeout_ms</c>).</summary>
    public TimeSpan IdleTimeout { get; init; } = CoreConfig.NodeConfig.Defaults.Network.IdleTimeout;

    /// <summary>Largest SQL text accepted in a dispatch (<c>network.max_sql_bytes</c>).</summary>
    public long MaxSqlBytes { get; init; } = CoreConfig.NodeConfig.Defaults.Network.MaxSqlBytes;

    /// <summary>Per-requester budgets: pending offers, job slots, unfetched results.</summary>
    public AdmissionOptions Admission { get; init; } = new();

    /// <summary>Read-only local directories hosted jobs may read (<c>storage.allowed_local_paths</c>); empty = no files.</summary>
    public IReadOnlyList<string> AllowedLocalPaths { get; init; } = [];

    /// <summary>How jobs are isolated: sandboxed worker processes and their kernel limits (<c>[sandbox]</c>).</summary>
    public SandboxOptions Sandbox { get; init; } = new();

    /// <summary>TEST/DEMO ONLY: claim this tier with evidence from the SIMULATED demo authority, bound to each offer's nonce.</summary>
    public CoreConfig.AttestationLevel SimulatedAttestation { get; init; }

    /// <summary>Where a job spills beyond its memory limit (<c>sandbox.temp_dir_policy</c>); null = no spilling.</summary>
    public CoreConfig.TempDirPolicy? TempDirPolicy { get; init; } = CoreConfig.NodeConfig.Defaults.Sandbox.TempDirPolicy;

    /// <summary><c>sandbox.temp_dir</c>: the custom spill directory, or the parent of ephemeral ones (empty = system temp).</summary>
    public string TempDir { get; init; } = CoreConfig.NodeConfig.Defaults.Sandbox.TempDir;

    public static WorkerOptions FromConfig(CoreConfig.NodeConfig c) => new()
    {
        MemoryBytes = c.Budget.MemoryBytes,
        Threads = c.Budget.Threads,
        MaxJobs = c.Budget.MaxJobs,
        PerJobMemoryBytes = Math.Min(c.Budget.PerJobMemoryBytes, c.Budget.MemoryBytes),
        PerJobThreads = Math.Min(c.Budget.PerJobThreads, c.Budget.Threads),
        DataClasses = c.Budget.DataClasses,
        Networks = c.Membership.Networks,
        Groups = c.Membership.Groups,
        Region = c.Membership.Region,
        MembershipTokens = InstalledTokens(c.Membership),
        JobTimeout = c.Worker.JobTimeout,
        MaxResultBytes = c.Transport.Result.MaxResultBytes,
        ChunkBytes = (int)Math.Clamp(c.Network.ResultChunkBytes, 4 << 10, 8 << 20),
        AllowedLocalPaths = c.Storage.AllowedLocalPaths,
        TempDirPolicy = c.Sandbox.TempDirPolicy,
        TempDir = c.Sandbox.TempDir,
        Sandbox = new SandboxOptions
        {
            Enabled = c.Sandbox.Enabled,
            Backend = c.Sandbox.Backend,
            ProcessPerJob = c.Sandbox.ProcessPerJob,
            Limits = SandboxOptions.LimitsFromConfig(c.Sandbox.Limits, Math.Min(c.Budget.PerJobMemoryBytes, c.Budget.MemoryBytes)),
            WarmWorkers = Math.Clamp(c.Budget.MaxJobs, 1, 2),
            MaxWorkers = Math.Clamp(c.Budget.MaxJobs, 1, 16),
        },
        MaxFrameBytes = (int)Math.Clamp(c.Network.MaxFrameBytes, 4 << 10, 1 << 30),
        ResultHold = c.Worker.ResultHold,
        IdleTimeout = c.Network.IdleTimeout,
        MaxSqlBytes = c.Network.MaxSqlBytes,
        Admission = AdmissionOptions.FromConfig(c),
    };

    /// <summary>
    /// The installed group and region tokens (validated when set, so a parse failure here means a hand-edited store;
    /// then none are carried rather than failing the host). At most <see cref="MembershipToken.MaxPerAdvert"/>.
    /// </summary>
    private static IReadOnlyList<MembershipToken> InstalledTokens(CoreConfig.MembershipConfig m)
    {
        try
        {
            return [.. MembershipToken.ParseList(m.GroupToken).Concat(MembershipToken.ParseList(m.RegionToken)).Take(MembershipToken.MaxPerAdvert)];
        }
        catch (FormatException)
        {
            return [];
        }
    }
}

/// <summary>
/// The host side of the job protocol: bids on offers within the donated budget, runs only dispatches it bid on for
/// that authenticated peer in the locked-down engine, commits (signed) before any row, streams batches on Fetch with
/// credit-based flow control, and interrupts the engine at once on Cancel or disconnect.
/// </summary>
public sealed class Worker : IDisposable
{
    private readonly NodeIdentity _identity;
    private readonly IJobExecutor _executor;
    private readonly HostAdmission _admission;
    private readonly Lock _budgetGate = new();
    private readonly TimeProvider _time;
    private long _usedMemory;
    private int _usedThreads;
    private int _usedSlots;
    private readonly IDenyList _denyList;
    private readonly IReceiptSink _receipts;
    private readonly IGossipParticipant _gossip;
    private readonly IAdvertExchange _adverts;

    // An indirect probe holds this connection's frame loop while it runs: bounded whatever the asker requests.
    private const uint MaxProbeTimeoutMs = 5000;
    private readonly IJobFaults _faults;
    private readonly IJobObserver _observer;
    private readonly ILogger _logger;
    private long _jobsServed;

    /// <param name="faults">Deviations from the protocol (a demo program's SIMULATED hosts); <see cref="IJobFaults.None"/> for an honest host.</param>
    /// <param name="receipts">Receipts against requesters that hold job slots without fetching.</param>
    public Worker(NodeIdentity identity, WorkerOptions options, IDenyList denyList, IReceiptSink receipts, IGossipParticipant gossip, IAdvertExchange adverts, IJobFaults faults,
        IJobObserver observer, TimeProvider time, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(denyList);
        ArgumentNullException.ThrowIfNull(receipts);
        ArgumentNullException.ThrowIfNull(gossip);
        ArgumentNullException.ThrowIfNull(adverts);
        ArgumentNullException.ThrowIfNull(faults);
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(logger);
        _identity = identity;
        Options = options;
        _denyList = denyList;
        _receipts = receipts;
        _admission = new HostAdmission(options.Admission, options.MaxJobs, time);
        _gossip = gossip;
        _adverts = adverts;
        _faults = faults;
        _observer = observer;
        _time = time;
        _logger = logger;
        _executor = JobExecutors.Create(EngineOptions.Default with
        {
            MemoryLimitBytes = options.PerJobMemoryBytes,
            Threads = Math.Max(1, options.PerJobThreads),
            WarmInstances = Math.Clamp(options.MaxJobs, 1, 4),
            MaxResultBytes = options.MaxResultBytes,
            AllowedDirectories = options.AllowedLocalPaths,
            SpillPolicy = options.TempDirPolicy,
            SpillDirectory = options.TempDir,
        }, options.Sandbox, Math.Max(1, options.PerJobThreads), logger);
    }

    /// <summary>How this host isolates jobs, in words (also in its start-up log).</summary>
    public string Isolation => _executor.Isolation;

    /// <summary>The job executor (sandboxed worker processes, or in-process).</summary>
    internal IJobExecutor Executor => _executor;

    public WorkerOptions Options { get; private set; }

    /// <summary>Serving jobs (false = paused: offers are declined).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// This host's price, read on every offer and dispatch (the runtime passes the live configuration, so
    /// <c>p2p_pricing</c> applies without re-sharing). Null: it takes no paid jobs (economics off, the default).
    /// </summary>
    public Func<PriceQuote?> Pricing { get; init; } = static () => null;

    private const string NoPaidJobs = "this host takes no paid jobs (economics off; it serves the free grid only)";

    /// <summary>
    /// Checks the escrow of a paid job this host bills for before it streams a row: null when the rows may go, else why
    /// not (sent to the requester as a not-authorized error). Read on every such Fetch; the function itself returns null at
    /// once when this host is not on the on-chain rail. Null: no check (no paid jobs settle on chain here).
    /// </summary>
    public Func<Economics.EscrowCheckRequest, CancellationToken, Task<string?>>? EscrowCheck { get; init; }

    public int RunningJobs => Volatile.Read(ref _usedSlots);

    /// <summary>Per-requester bookkeeping (pending offers, slots, strikes).</summary>
    public HostAdmission Admission => _admission;
    public long JobsServed => Interlocked.Read(ref _jobsServed);

    public (long Memory, int Threads, int Slots) Free()
    {
        lock (_budgetGate)
        {
            return (Options.MemoryBytes - _usedMemory, Options.Threads - _usedThreads, Options.MaxJobs - _usedSlots);
        }
    }

    private bool TryAdmit(long memory, int threads)
    {
        lock (_budgetGate)
        {
            if (_usedSlots >= Options.MaxJobs || _usedMemory + memory > Options.MemoryBytes || _usedThreads + threads > Options.Threads)
            {
                return false;
            }
            _usedSlots++;
            _usedMemory += memory;
            _usedThreads += threads;
            return true;
        }
    }

    private void ReleaseThreads(int threads)
    {
        lock (_budgetGate)
        {
            _usedThreads -= threads;
        }
    }

    private void Release(string peer, long memory, int threads)
    {
        _admission.ReleaseSlot(peer);
        lock (_budgetGate)
        {
            _usedSlots--;
            _usedMemory -= memory;
            _usedThreads -= threads;
        }
    }

    private string? DeclineReason(OfferMessage offer)
    {
        if (!Enabled)
        {
            return "host is paused (p2p_pause)";
        }
        if (offer.Paid && (Pricing() is { } quote ? PriceProblem(quote, offer.MaxBidNanoton) : NoPaidJobs) is { } price)
        {
            return price;
        }
        var cls = (CoreConfig.DataClass)(int)offer.DataClass;
        if (!Options.DataClasses.Contains(cls))
        {
            return $"data class {cls.ToString().ToLowerInvariant()} not served";
        }
        if (offer.Network.Length > 0 && !Options.Networks.Contains(offer.Network))
        {
            return "host is not in the requested network";
        }
        if (offer.Groups.Count > 0 && !offer.Groups.Any(Options.Groups.Contains))
        {
            return "requester shares none of the host's groups";
        }
        if (offer.Regions.Count > 0 && !offer.Regions.Contains(Options.Region))
        {
            return "host region not in the requested set";
        }
        var (mem, threads, slots) = Free();
        if (slots <= 0 || mem < Options.PerJobMemoryBytes || threads < Options.PerJobThreads)
        {
            return $"at capacity (free: {slots} job slot(s), {threads} thread(s), {mem >> 20} MiB; a job needs 1, {Options.PerJobThreads}, {Options.PerJobMemoryBytes >> 20} MiB)";
        }
        return null;
    }

    /// <summary>
    /// Why a paid job at <paramref name="offered"/> nanoton is below this host's price, or null. An offer carries the
    /// requester's max bid (compared with the least this host bills: its unit price, or one metered second); a dispatch
    /// carries the agreed price (compared with this host's cap for the job's time bound).
    /// </summary>
    internal static string? PriceProblem(PriceQuote quote, ulong offered, uint? timeoutMs = null)
    {
        var needed = timeoutMs is { } t ? quote.JobCap(t) : quote.UnitNanoton;
        return offered >= needed ? null
            : $"price: this host charges {quote}" + (timeoutMs is { } ms && quote.Model == WirePriceModel.Metered ? $" ({PriceQuote.Describe(needed)} for a {ms} ms time bound)" : "")
              + $"; the requester offers {PriceQuote.Describe(offered)} — a paid job never runs below the host's price" + AsksSuffix(needed);
    }

    /// <summary>The machine-readable end of a price decline: <c> (asks N nanoton)</c>, so a requester can name the cheapest host.</summary>
    internal static string AsksSuffix(ulong nanoton) => $" (asks {nanoton.ToString(System.Globalization.CultureInfo.InvariantCulture)} nanoton)";

    /// <summary>What a price decline asks, in nanoton, or null when <paramref name="reason"/> is not one.</summary>
    internal static ulong? AskedBy(string? reason)
    {
        const string open = " (asks ";
        if (reason is null || !reason.EndsWith(" nanoton)", StringComparison.Ordinal))
        {
            return null;
        }
        var i = reason.LastIndexOf(open, StringComparison.Ordinal);
        if (i < 0)
        {
            return null;
        }
        var digits = reason.AsSpan(i + open.Length, reason.Length - i - open.Length - " nanoton)".Length);
        return ulong.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) ? n : null;
    }

    /// <summary>Serves one authenticated connection until it closes.</summary>
    public async Task HandleConnectionAsync(PeerConnection connection, CancellationToken cancellationToken)
    {
        var jobs = new ConcurrentDictionary<string, HostJob>(StringComparer.Ordinal);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                LeasedFrame leased;
                try
                {
                    leased = await ReceiveOrIdleAsync(connection, jobs, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception) when (!connection.IsOpen || cancellationToken.IsCancellationRequested)
                {
                    return;
                }
                // Pooled payloads: a stream of large (even malformed) frames reuses buffers instead of leaving each one to the GC.
                // Every decoder copies what it keeps, so the buffer goes back once the frame is handled.
                using (leased)
                {
                    try
                    {
                        await HandleFrameAsync(connection, new Frame(leased.Type, leased.Payload), jobs, cancellationToken).ConfigureAwait(false);
                    }
                    catch (ProtocolException)
                    {
                        return; // a malformed frame ends the connection
                    }
                }
            }
        }
        finally
        {
            foreach (var job in jobs.Values)
            {
                job.Cancel();
            }
        }
    }

    /// <summary>
    /// The next frame; while the connection carries no job, at most <see cref="WorkerOptions.IdleTimeout"/> is waited for it and
    /// the connection is then closed, so idle connections cannot pile up. A job in flight has its own bounds (job timeout,
    /// result hold).
    /// </summary>
    private async ValueTask<LeasedFrame> ReceiveOrIdleAsync(PeerConnection connection, ConcurrentDictionary<string, HostJob> jobs, CancellationToken ct)
    {
        if (!jobs.IsEmpty)
        {
            return await connection.ReceiveLeasedAsync(ct).ConfigureAwait(false);
        }
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(ct);
        idle.CancelAfter(Options.IdleTimeout);
        try
        {
            return await connection.ReceiveLeasedAsync(idle.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (idle.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            _logger.IdleConnectionClosed(connection.RemoteNodeId, Options.IdleTimeout.TotalMilliseconds);
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task HandleFrameAsync(PeerConnection connection, Frame frame, ConcurrentDictionary<string, HostJob> jobs, CancellationToken ct)
    {
        var peer = connection.RemoteNodeId;
        switch (frame.Type)
        {
            case MessageType.Offer:
            {
                var offer = OfferMessage.Decode(frame.Payload.Span);
                // Checked on every offer, so a block also applies to connections opened before it.
                if ((_denyList.IsBlocked(peer) ? "the requester is on this host's deny-list" : DeclineReason(offer) ?? _admission.TryAddOffer(peer, offer.JobId)) is { } why)
                {
                    await connection.SendAsync(MessageType.Decline, new ReasonMessage(offer.JobId, why).Encode(), ct).ConfigureAwait(false);
                    return;
                }
                var (mem, threads, slots) = Free();
                var quote = Pricing();
                var bid = new BidMessage(offer.JobId, (ulong)Math.Max(0, mem), (uint)Math.Max(0, threads), (uint)Math.Max(0, slots), (byte)Options.SimulatedAttestation, 10)
                {
                    Quote = quote is { IsFree: false } ? quote : null,
                };
                if (Options.SimulatedAttestation > CoreConfig.AttestationLevel.L0)
                {
                    var nonce = new byte[8];
                    System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(nonce, offer.Nonce);
                    bid = bid with
                    {
                        Evidence = Duckton.Core.Trust.SimulatedAttestationAuthority.Demo.Issue(Options.SimulatedAttestation,
                            Duckton.Core.Trust.SimulatedAttestationAuthority.SimulatedMeasurement, nonce, _identity.PublicKey.Span).Encode(),
                    };
                }
                if (connection.NextBufferedFrameType == MessageType.Dispatch)
                {
                    // The requester wrote its Dispatch with the Offer: the Bid rides with this job's answer (one write and one
                    // wake-up of the requester instead of two), or goes alone if the job still runs when the hold ends. An
                    // Offer followed by anything else (or by nothing yet) is answered at once: its requester may be waiting.
                    await connection.SendDeferredAsync(MessageType.Bid, bid.Encode(), ProtoLimits.PipelinedBidHold, ct).ConfigureAwait(false);
                }
                else
                {
                    await connection.SendAsync(MessageType.Bid, bid.Encode(), ct).ConfigureAwait(false);
                }
                return;
            }
            case MessageType.Dispatch:
            {
                var dispatch = DispatchMessage.Decode(frame.Payload.Span);
                if (!_admission.TryTakeOffer(peer, dispatch.JobId))
                {
                    await SendError(connection, dispatch.JobId, JobErrorCode.NotAuthorized, "dispatch not authorized: no bid from this host to this peer for this job", ct).ConfigureAwait(false);
                    return;
                }
                if (!Enabled)
                {
                    await SendError(connection, dispatch.JobId, JobErrorCode.Paused, "host is paused (p2p_pause)", ct).ConfigureAwait(false);
                    return;
                }
                // Priced now, not at the offer: the price may have changed in between, and the host never runs below the current one.
                var price = Pricing();
                if (dispatch.AgreedPriceNanoton is { } agreed && (price is { } p ? PriceProblem(p, agreed, dispatch.TimeoutMs) : NoPaidJobs) is { } belowPrice)
                {
                    await SendError(connection, dispatch.JobId, JobErrorCode.NotAuthorized, belowPrice, ct).ConfigureAwait(false);
                    return;
                }
                // The query hash binds the SQL to the engine that runs it: a host signs only a hash it computed itself, so a
                // host on another DuckDB version (or a requester hashing other text) is refused instead of committing.
                if (JobIds.QueryHash(GridNode.EngineVersion, dispatch.Sql) != dispatch.QueryHash)
                {
                    await SendError(connection, dispatch.JobId, JobErrorCode.Execution,
                        $"query hash mismatch: this host runs {GridNode.EngineVersion}, and the dispatched query hash is not BLAKE3 of this engine version and the SQL", ct).ConfigureAwait(false);
                    return;
                }
                var memory = (long)Math.Min(dispatch.MemoryLimitBytes == 0 ? (ulong)Options.PerJobMemoryBytes : dispatch.MemoryLimitBytes, (ulong)Options.PerJobMemoryBytes);
                var threads = (int)Math.Clamp(dispatch.Threads == 0 ? (uint)Options.PerJobThreads : dispatch.Threads, 1u, (uint)Math.Max(1, Options.PerJobThreads));
                // An Execution error: the query's own fault, so a requester stops at once with this message instead of retrying elsewhere.
                var sqlBytes = System.Text.Encoding.UTF8.GetByteCount(dispatch.Sql);
                if (sqlBytes > Options.MaxSqlBytes)
                {
                    await SendError(connection, dispatch.JobId, JobErrorCode.Execution, SqlTooLarge(sqlBytes, Options.MaxSqlBytes), ct).ConfigureAwait(false);
                    return;
                }
                if (_admission.TryTakeSlot(peer) is { } refused)
                {
                    await SendError(connection, dispatch.JobId, JobErrorCode.Busy, refused, ct).ConfigureAwait(false);
                    return;
                }
                if (!TryAdmit(memory, threads))
                {
                    _admission.ReleaseSlot(peer);
                    await SendError(connection, dispatch.JobId, JobErrorCode.Busy, "at capacity", ct).ConfigureAwait(false);
                    return;
                }
                var job = new HostJob(this, connection, dispatch, threads, memory, price ?? default);
                if (!jobs.TryAdd(dispatch.JobId, job))
                {
                    Release(peer, memory, threads);
                    await SendError(connection, dispatch.JobId, JobErrorCode.Protocol, "job already dispatched on this connection", ct).ConfigureAwait(false);
                    return;
                }
                // Started here, not queued: the job runs on this thread only until it waits for its executor (a warm
                // sandbox worker takes the job with one pipe write; the in-process engine and input hashing move to the
                // pool themselves), so the frame loop is free again at once, and the thread pool is not woken to start it.
                _ = RunJobAsync(job, jobs);
                return;
            }
            case MessageType.Fetch:
            {
                var fetch = FetchMessage.Decode(frame.Payload.Span);
                if (jobs.TryGetValue(fetch.JobId, out var job))
                {
                    job.NameEscrow(fetch.Escrow);
                    job.AddCredit((int)Math.Min(fetch.Credit, 1024u));
                }
                return;
            }
            case MessageType.Cancel:
            {
                var cancel = ReasonMessage.Decode(frame.Payload.Span);
                _admission.CancelOffer(peer, cancel.JobId);
                if (jobs.TryGetValue(cancel.JobId, out var job))
                {
                    job.Cancel();
                }
                return;
            }
            case MessageType.Advert:
            {
                var advert = AdvertMessage.Decode(frame.Payload.Span);
                _adverts.IngestAdvert(advert, peer);
                return;
            }
            case MessageType.Receipt:
                _gossip.IngestReceipt(frame.Payload.ToArray(), peer);
                return;
            case MessageType.Vouch:
                _gossip.IngestVouch(frame.Payload.ToArray(), peer);
                return;
            case MessageType.ProbeRequest:
            {
                var probe = ProbeRequestMessage.Decode(frame.Payload.Span);
                var timeout = TimeSpan.FromMilliseconds(Math.Clamp(probe.TimeoutMs, 1, MaxProbeTimeoutMs));
                var reached = await _adverts.ProbeForAsync(probe.NodeId, probe.Address, timeout, peer, ct).ConfigureAwait(false);
                await connection.SendAsync(MessageType.ProbeResult, new ProbeResultMessage(probe.Nonce, reached).Encode(), ct).ConfigureAwait(false);
                return;
            }
            case MessageType.Ping:
            {
                var ping = PingMessage.Decode(frame.Payload.Span);
                foreach (var a in _adverts.AdvertsToShare())
                {
                    await connection.SendAsync(MessageType.Advert, a.Encode(), ct).ConfigureAwait(false);
                }
                // Vouches flow back too, so a requester that never hosts (and is never dialled) still learns them.
                foreach (var v in _gossip.VouchesToShare())
                {
                    await connection.SendAsync(MessageType.Vouch, v, ct).ConfigureAwait(false);
                }
                await connection.SendAsync(MessageType.Pong, new PingMessage(ping.Nonce, (ulong)_time.GetUtcNow().ToUnixTimeMilliseconds()).Encode(), ct).ConfigureAwait(false);
                return;
            }
            default:
                throw new ProtocolException($"unexpected {frame.Type} frame on a host connection");
        }
    }

    /// <summary>The error for SQL over the limit, naming the bound (both sides say the same).</summary>
    public static string SqlTooLarge(long bytes, long limit) =>
        $"SQL text is {Size(bytes)}; the limit is {Size(limit)} (network.max_sql_bytes)";

    /// <summary>Bytes for a message: "1.2 MiB", "900 KiB", "512 bytes".</summary>
    public static string Size(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.#} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.#} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.#} KiB",
        _ => $"{bytes} bytes",
    };

    /// <summary>A requester let a committed result expire unfetched: one strike; over the limit it is refused and receipted once.</summary>
    private void ResultAbandoned(string peer, DispatchMessage dispatch, string resultHash, ulong rows)
    {
        if (!_admission.Strike(peer))
        {
            return;
        }
        _logger.RequesterRateLimited(peer, _admission.Options.HoldStrikes, _admission.Options.HoldPenalty.TotalSeconds);
        try
        {
            _receipts.Issue(dispatch.JobId, dispatch.QueryHash, [new HostVerdict(peer, Duckton.Core.Trust.Verdict.ResourceExceeded, resultHash, rows, 0, 0,
                $"left {_admission.Options.HoldStrikes} committed results unfetched within {_admission.Options.HoldPenalty.TotalSeconds:0} s")]);
        }
        catch (Exception e)
        {
            _logger.JobObserverFailed(dispatch.JobId, e);
        }
    }

    private static ValueTask SendError(PeerConnection c, string jobId, JobErrorCode code, string message, CancellationToken ct) =>
        c.SendAsync(MessageType.Error, new ErrorMessage(jobId, code, message).Encode(), ct);

    public void Dispose() => _executor.Dispose();

    /// <summary>A result batch that cannot fit in one frame (the requester is told plainly, with <c>ResultTooLarge</c>).</summary>
    internal sealed class ResultTooLargeException(string message) : Exception(message);

    /// <summary>Runs a dispatched job to its end, then frees its slot and reports it (an observer's failure is logged, never thrown).</summary>
    private async Task RunJobAsync(HostJob job, ConcurrentDictionary<string, HostJob> jobs)
    {
        try
        {
            await job.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            jobs.TryRemove(job.JobId, out _);
            job.FreeSlot();
            job.Dispose();
            try
            {
                _observer.Finished(job.Report());
            }
            catch (Exception e)
            {
                _logger.JobObserverFailed(job.JobId, e);
            }
        }
    }

    /// <summary>One dispatched job on one connection: execute, commit, hold, stream on credit, end.</summary>
    private sealed class HostJob(Worker worker, PeerConnection connection, DispatchMessage dispatch, int threads, long memory, PriceQuote price) : IDisposable
    {
        private int _slotFreed;

        public string JobId => dispatch.JobId;

        /// <summary>
        /// Returns the job's slot, memory and remaining threads to the budget, once. Called before a cancelled or failed
        /// job answers (so a requester that reads End can place its next job here at once) and when the job ends.
        /// </summary>
        public void FreeSlot()
        {
            if (Interlocked.Exchange(ref _slotFreed, 1) == 0)
            {
                worker.Release(connection.RemoteNodeId, memory, ThreadsHeld);
                ThreadsHeld = 0;
            }
        }

        /// <summary>Threads still reserved: returned as soon as the engine is done (holding a result needs none).</summary>
        public int ThreadsHeld { get; private set; } = threads;

        private readonly CancellationTokenSource _cancel = new();
        private readonly SemaphoreSlim _credit = new(0, int.MaxValue);
        private int _cancelled;

        public void Cancel()
        {
            if (Interlocked.Exchange(ref _cancelled, 1) == 0)
            {
                try
                {
                    _cancel.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        private FetchEscrow? _escrow;

        /// <summary>The escrow the requester names (the first Fetch that names one counts; later ones cannot swap it).</summary>
        public void NameEscrow(FetchEscrow? escrow)
        {
            if (escrow is not null)
            {
                Interlocked.CompareExchange(ref _escrow, escrow, null);
            }
        }

        public void AddCredit(int n)
        {
            if (n > 0)
            {
                _credit.Release(n);
            }
        }

        public async Task RunAsync()
        {
            var token = _cancel.Token;
            var fault = worker._faults.ForJob();
            try
            {
                var started = Stopwatch.GetTimestamp();
                using var timeout = new CancellationTokenSource();
                var jobTimeout = dispatch.TimeoutMs > 0 ? TimeSpan.FromMilliseconds(dispatch.TimeoutMs) : worker.Options.JobTimeout;
                if (worker.Options.JobTimeout > TimeSpan.Zero && worker.Options.JobTimeout < jobTimeout)
                {
                    jobTimeout = worker.Options.JobTimeout;
                }
                if (jobTimeout > TimeSpan.Zero)
                {
                    timeout.CancelAfter(jobTimeout);
                }
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, timeout.Token);
                ExecutedJob executed;
                var inputs = InputSnapshot.None;
                try
                {
                    // Fingerprint the inputs first: a host whose copy differs from the requester's pin refuses before any work.
                    // (Off the frame loop only when there are files to hash: a host that shares none has nothing to read.)
                    inputs = worker._executor.Inputs.Enabled
                        ? await Task.Run(() => worker._executor.Inputs.Snapshot(dispatch.Sql, linked.Token), CancellationToken.None).ConfigureAwait(false)
                        : InputSnapshot.None;
                    if (dispatch.InputPin.Length > 0 && !dispatch.InputPin.AsSpan().SequenceEqual(inputs.Fingerprint))
                    {
                        throw new InvalidOperationException(
                            $"input drift: this host's input fingerprint {(inputs.Fingerprint.Length == 0 ? "<none>" : Convert.ToHexStringLower(inputs.Fingerprint))} differs from input_pin {Convert.ToHexStringLower(dispatch.InputPin)}");
                    }
                    executed = await worker._executor.ExecuteAsync(dispatch.Sql, linked.Token).ConfigureAwait(false);
                    if (!inputs.Unchanged())
                    {
                        executed.Result.Dispose();
                        throw new InvalidOperationException("input drift: a file the query reads changed while it ran; retry");
                    }
                }
                catch (OperationCanceledException) when (timeout.IsCancellationRequested && !token.IsCancellationRequested)
                {
                    FreeSlot();
                    await Send(MessageType.Error, new ErrorMessage(dispatch.JobId, JobErrorCode.Timeout, $"job exceeded the host's timeout of {jobTimeout.TotalMilliseconds:0} ms").Encode()).ConfigureAwait(false);
                    return;
                }
                catch (OperationCanceledException)
                {
                    await EndCancelled().ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    FreeSlot();
                    await Send(MessageType.Error, new ErrorMessage(dispatch.JobId, JobErrorCode.Execution, e.Message).Encode()).ConfigureAwait(false);
                    return;
                }
                using var result = executed.Result; // its batches may live in a spill file
                worker.ReleaseThreads(ThreadsHeld);
                ThreadsHeld = 0;
                var (sent, committed) = fault.Answer(result);
                string hash;
                if (ReferenceEquals(committed, result) && executed.Hash is { } streamed)
                {
                    hash = streamed; // hashed as the rows arrived from the sandbox worker
                }
                else
                {
                    // Hash batch by batch so a cancel (this host lost the race) stops the work at once instead of burning CPU.
                    var hasher = new CanonicalResultHasher(committed.Schema);
                    foreach (var batch in committed.Batches)
                    {
                        if (token.IsCancellationRequested)
                        {
                            await EndCancelled().ConfigureAwait(false);
                            return;
                        }
                        hasher.Add(batch);
                    }
                    hash = hasher.Finish().ToString();
                }
                var execMicros = (ulong)Stopwatch.GetElapsedTime(started).TotalMicroseconds;
                var commit = new CommitMessage(dispatch.JobId, dispatch.QueryHash, connection.RemoteNodeId, worker._identity.PublicKey.ToArray(), inputs.Fingerprint, hash,
                    (ulong)committed.RowCount, BatchCodec.EncodeSchema(committed.Schema), execMicros)
                {
                    // A paid job's bill under the quote it was dispatched at; a free job claims nothing.
                    ClaimedPriceNanoton = dispatch.AgreedPriceNanoton is null ? 0 : fault.ClaimedPrice(price.Bill(dispatch.TimeoutMs, execMicros)),
                }.SignWith(b => worker._identity.Sign(b));
                bool commitNow;
                try
                {
                    commitNow = await fault.BeforeCommitAsync(token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    commitNow = false;
                }
                if (!commitNow || token.IsCancellationRequested)
                {
                    await EndCancelled().ConfigureAwait(false);
                    return;
                }
                if (InlineRows(sent, commit, fault) is { } inline)
                {
                    Interlocked.Increment(ref worker._jobsServed);
                    await SendWithRowsAsync(commit, inline, (ulong)sent.RowCount, fault, token).ConfigureAwait(false);
                    return;
                }
                await Send(MessageType.Commit, commit.Encode()).ConfigureAwait(false);
                Interlocked.Increment(ref worker._jobsServed);

                // Hold the result until the requester fetches or releases it.
                using var hold = CancellationTokenSource.CreateLinkedTokenSource(token);
                hold.CancelAfter(worker.Options.ResultHold);
                uint frames = 0;
                try
                {
                    try
                    {
                        await _credit.WaitAsync(hold.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!token.IsCancellationRequested)
                    {
                        // Never fetched within worker.result_hold_ms: the slot is freed now and the requester gets a strike.
                        worker.ResultAbandoned(connection.RemoteNodeId, dispatch, hash, committed.RowCount > 0 ? (ulong)committed.RowCount : 0);
                        throw;
                    }
                    // A job this host bills for: no row leaves before its escrow is seen funded on chain (off the frame loop: this is the job's task).
                    if (commit.ClaimedPriceNanoton > 0 && worker.EscrowCheck is { } check
                        && await check(new Economics.EscrowCheckRequest(dispatch.JobId, commit.ClaimedPriceNanoton, hash, Volatile.Read(ref _escrow)), token).ConfigureAwait(false) is { } unpaid)
                    {
                        worker._logger.LogWarning("job {JobId}: rows withheld from {Requester}: {Reason}", dispatch.JobId, connection.RemoteNodeId, unpaid);
                        FreeSlot();
                        await Send(MessageType.Error, new ErrorMessage(dispatch.JobId, JobErrorCode.NotAuthorized, "escrow: " + unpaid).Encode()).ConfigureAwait(false);
                        return;
                    }
                    // Encode on one task while this one sends: a small bounded channel keeps both busy and memory flat.
                    var encoded = Channel.CreateBounded<PooledFrame>(new BoundedChannelOptions(3) { SingleReader = true, SingleWriter = true });
                    using var stopEncoding = CancellationTokenSource.CreateLinkedTokenSource(token);
                    var encoder = Task.Run(async () =>
                    {
                        try
                        {
                            foreach (var frame in Frames(sent))
                            {
                                try
                                {
                                    await encoded.Writer.WriteAsync(frame, stopEncoding.Token).ConfigureAwait(false);
                                }
                                catch
                                {
                                    frame.Dispose();
                                    throw;
                                }
                            }
                            encoded.Writer.TryComplete();
                        }
                        catch (Exception e)
                        {
                            encoded.Writer.TryComplete(e);
                        }
                    }, CancellationToken.None);
                    try
                    {
                        while (await encoded.Reader.WaitToReadAsync(token).ConfigureAwait(false))
                        {
                            while (encoded.Reader.TryRead(out var frame))
                            {
                                using (frame)
                                {
                                    if (frames > 0 && !await _credit.WaitAsync(worker.Options.ResultHold, token).ConfigureAwait(false))
                                    {
                                        // A requester that stops granting credit mid-stream holds the slot as surely as one that never fetches.
                                        worker.ResultAbandoned(connection.RemoteNodeId, dispatch, hash, (ulong)committed.RowCount);
                                        throw new OperationCanceledException("no fetch credit within worker.result_hold_ms");
                                    }
                                    await Send(MessageType.Batch, frame.Payload).ConfigureAwait(false);
                                }
                                frames++;
                                await fault.AfterBatchAsync(token).ConfigureAwait(false);
                            }
                        }
                    }
                    finally
                    {
                        await stopEncoding.CancelAsync().ConfigureAwait(false);
                        await encoder.ConfigureAwait(false);
                        while (encoded.Reader.TryRead(out var unsent))
                        {
                            unsent.Dispose();
                        }
                    }
                }
                catch (OperationCanceledException)
                {
                    await EndCancelled().ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (e is ResultTooLargeException || e.InnerException is ResultTooLargeException)
                {
                    // Said plainly, so the requester neither waits for rows that cannot come nor blames this host.
                    FreeSlot();
                    await Send(MessageType.Error, new ErrorMessage(dispatch.JobId, JobErrorCode.ResultTooLarge, (e as ResultTooLargeException ?? e.InnerException!).Message).Encode()).ConfigureAwait(false);
                    return;
                }
                await Send(MessageType.End, new EndMessage(dispatch.JobId, EndStatus.Complete, frames, (ulong)sent.RowCount).Encode()).ConfigureAwait(false);
            }
            catch (Exception) when (!connection.IsOpen)
            {
                // The requester went away; nothing to tell it.
            }
        }

        /// <summary>
        /// The rows to send with the commit, unasked: when the dispatch asked for them (a free job, on a connection that
        /// speaks 1.1) and all their Batch frames fit in its <c>inline_limit</c>. Null: commit and hold them for a Fetch.
        /// </summary>
        private List<PooledFrame>? InlineRows(ResultSet sent, CommitMessage commit, IJobFault fault)
        {
            var allowed = dispatch.InlineLimit > 0 && dispatch.AgreedPriceNanoton is null && commit.ClaimedPriceNanoton == 0 && connection.SpeaksAtLeast(1, 1)
                ? Math.Min(dispatch.InlineLimit, ProtoLimits.MaxInlineRowBytes)
                : 0;
            var limit = fault.InlineLimit(allowed);
            return limit > 0 ? ResultFrames.BuildIfWithin(dispatch.JobId, sent, worker.Options.ChunkBytes, worker.Options.MaxFrameBytes, limit) : null;
        }

        /// <summary>
        /// CommitRows, every Batch frame and End(complete): one write when honest. The job is then over on this host: nothing
        /// is held, so no Fetch, credit or Cancel is needed (a Cancel that crosses it finds no job and is ignored).
        /// </summary>
        private async Task SendWithRowsAsync(CommitMessage commit, List<PooledFrame> rows, ulong rowCount, IJobFault fault, CancellationToken token)
        {
            // The job holds nothing once these frames are written: its slot is free before the requester reads End.
            FreeSlot();
            try
            {
                var end = new EndMessage(dispatch.JobId, EndStatus.Complete, (uint)rows.Count, rowCount).Encode();
                if (ReferenceEquals(fault, IJobFaults.None))
                {
                    var frames = new List<(MessageType, ReadOnlyMemory<byte>)>(rows.Count + 2) { (MessageType.CommitRows, commit.Encode()) };
                    frames.AddRange(rows.Select(r => (MessageType.Batch, r.Payload)));
                    frames.Add((MessageType.End, end));
                    if (connection.IsOpen)
                    {
                        await connection.SendManyAsync(frames, CancellationToken.None).ConfigureAwait(false); // as Send: a frame is never cut short
                        foreach (var (type, payload) in frames)
                        {
                            Observe(type, payload);
                        }
                    }
                    return;
                }
                // A simulated fault acts between the frames, as on a fetched stream.
                await Send(MessageType.CommitRows, commit.Encode()).ConfigureAwait(false);
                foreach (var frame in rows)
                {
                    await Send(MessageType.Batch, frame.Payload).ConfigureAwait(false);
                    await fault.AfterBatchAsync(token).ConfigureAwait(false);
                }
                await Send(MessageType.End, end).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                await EndCancelled().ConfigureAwait(false);
            }
            finally
            {
                rows.ForEach(f => f.Dispose());
            }
        }

        private Task EndCancelled()
        {
            FreeSlot(); // the engine has stopped (or never ran): the slot is free before the requester hears End
            return Send(MessageType.End, new EndMessage(dispatch.JobId, EndStatus.Cancelled, 0, 0).Encode());
        }

        private async Task Send(MessageType type, ReadOnlyMemory<byte> payload)
        {
            if (connection.IsOpen)
            {
                await connection.SendAsync(type, payload).ConfigureAwait(false);
                Observe(type, payload);
            }
        }

        // What the requester was told, for the job log: the last word (End or Error) is the outcome.
        private readonly long _started = Stopwatch.GetTimestamp();
        private JobOutcome _outcome = JobOutcome.Abandoned;
        private string? _detail;
        private ulong _rows;
        private long _bytes;

        private void Observe(MessageType type, ReadOnlyMemory<byte> payload)
        {
            switch (type)
            {
                case MessageType.Batch:
                    _bytes += payload.Length;
                    break;
                case MessageType.End:
                    var end = EndMessage.Decode(payload.Span);
                    (_outcome, _rows) = end.Status == EndStatus.Complete ? (JobOutcome.Served, end.Rows) : (JobOutcome.Cancelled, 0UL);
                    break;
                case MessageType.Error:
                    var error = ErrorMessage.Decode(payload.Span);
                    (_outcome, _detail) = (JobOutcome.Failed, $"{error.Code}: {error.Message}");
                    break;
            }
        }

        public JobReport Report() => new(dispatch.JobId, connection.RemoteNodeId, _outcome, _rows, _bytes, Stopwatch.GetElapsedTime(_started), _detail);

        private IEnumerable<PooledFrame> Frames(ResultSet result) =>
            ResultFrames.Build(dispatch.JobId, result, worker.Options.ChunkBytes, worker.Options.MaxFrameBytes);

        public void Dispose()
        {
            _cancel.Dispose();
            _credit.Dispose();
        }
    }
}

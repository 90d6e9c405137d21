namespace Duckton.Node.Grid;

/// <summary>What one requester may hold on a host, and for how long (the <c>worker.*</c> budget keys).</summary>
public sealed record AdmissionOptions
{
    /// <summary>A bid stays valid for a dispatch this long (<c>worker.offer_expiry_ms</c>).</summary>
    public TimeSpan OfferExpiry { get; init; } = Core.Configuration.NodeConfig.Defaults.Worker.OfferExpiry;

    /// <summary>Bids awaiting dispatch over all peers (<c>worker.max_pending_offers</c>).</summary>
    public int MaxPendingOffers { get; init; } = Core.Configuration.NodeConfig.Defaults.Worker.MaxPendingOffers;

    /// <summary>Bids awaiting dispatch from one peer (<c>worker.max_pending_offers_per_peer</c>).</summary>
    public int MaxPendingOffersPerPeer { get; init; } = Core.Configuration.NodeConfig.Defaults.Worker.MaxPendingOffersPerPeer;

    /// <summary>Job slots one peer may hold; 0 = all but one of the host's slots, at least 1 (<c>worker.max_jobs_per_peer</c>).</summary>
    public int MaxJobsPerPeer { get; init; } = Core.Configuration.NodeConfig.Defaults.Worker.MaxJobsPerPeer;

    /// <summary>Unfetched results a peer may leave within <see cref="HoldPenalty"/> before it is refused (<c>worker.hold_strikes</c>).</summary>
    public int HoldStrikes { get; init; } = Core.Configuration.NodeConfig.Defaults.Worker.HoldStrikes;

    /// <summary>How long a peer over <see cref="HoldStrikes"/> is refused; also the window strikes count in (<c>worker.hold_penalty_ms</c>).</summary>
    public TimeSpan HoldPenalty { get; init; } = Core.Configuration.NodeConfig.Defaults.Worker.HoldPenalty;

    public static AdmissionOptions FromConfig(Core.Configuration.NodeConfig c) => new()
    {
        OfferExpiry = c.Worker.OfferExpiry,
        MaxPendingOffers = c.Worker.MaxPendingOffers,
        MaxPendingOffersPerPeer = c.Worker.MaxPendingOffersPerPeer,
        MaxJobsPerPeer = c.Worker.MaxJobsPerPeer,
        HoldStrikes = c.Worker.HoldStrikes,
        HoldPenalty = c.Worker.HoldPenalty,
    };
}

/// <summary>
/// A host's per-requester bookkeeping: bids awaiting dispatch (bounded per peer and in total, forgotten after
/// <see cref="AdmissionOptions.OfferExpiry"/>), job slots held per peer (fair share), and strikes against peers that leave
/// committed results unfetched (refused for <see cref="AdmissionOptions.HoldPenalty"/> once over the limit).
/// Thread-safe; every operation is O(1) amortised, so a flood of offers costs bounded memory and time.
/// </summary>
public sealed class HostAdmission
{
    private readonly Lock _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<(string Peer, string Job), DateTimeOffset> _offers = [];
    private readonly Dictionary<string, int> _offersByPeer = new(StringComparer.Ordinal);
    private readonly Queue<(DateTimeOffset Expires, string Peer, string Job)> _offerOrder = new();
    private readonly Dictionary<string, int> _slotsByPeer = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<DateTimeOffset>> _strikes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _penalised = new(StringComparer.Ordinal);

    public HostAdmission(AdmissionOptions options, int maxJobs, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        Options = options;
        _time = time;
        SlotsPerPeer = options.MaxJobsPerPeer > 0 ? Math.Min(options.MaxJobsPerPeer, Math.Max(1, maxJobs)) : Math.Max(1, maxJobs - 1);
    }

    public AdmissionOptions Options { get; }

    /// <summary>Job slots one peer may hold at once.</summary>
    public int SlotsPerPeer { get; }

    /// <summary>Bids currently awaiting dispatch.</summary>
    public int PendingOffers
    {
        get
        {
            lock (_gate)
            {
                Expire(_time.GetUtcNow());
                return _offers.Count;
            }
        }
    }

    /// <summary>Null when this peer may be sent a bid now (it is then remembered), else why the offer is declined.</summary>
    public string? TryAddOffer(string peer, string jobId)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            Expire(now);
            if (PenaltyReason(peer, now) is { } penalty)
            {
                return penalty;
            }
            var held = _slotsByPeer.GetValueOrDefault(peer);
            if (held >= SlotsPerPeer)
            {
                return $"this requester already holds {held} of its {SlotsPerPeer} job slot(s) on this host (worker.max_jobs_per_peer); fetch or cancel a job first";
            }
            if (_offers.ContainsKey((peer, jobId)))
            {
                return null; // a repeated offer renews nothing: the first bid's expiry stands
            }
            var pending = _offersByPeer.GetValueOrDefault(peer);
            if (pending >= Options.MaxPendingOffersPerPeer)
            {
                return $"this requester has {pending} offers awaiting dispatch (worker.max_pending_offers_per_peer = {Options.MaxPendingOffersPerPeer}); dispatch or cancel them";
            }
            if (_offers.Count >= Options.MaxPendingOffers)
            {
                return $"host has {_offers.Count} offers awaiting dispatch (worker.max_pending_offers); try again shortly";
            }
            var expires = now + Options.OfferExpiry;
            _offers[(peer, jobId)] = expires;
            _offersByPeer[peer] = pending + 1;
            _offerOrder.Enqueue((expires, peer, jobId));
            return null;
        }
    }

    /// <summary>True when this peer had an unexpired bid for the job (it is used up).</summary>
    public bool TryTakeOffer(string peer, string jobId)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            Expire(now);
            return RemoveOffer(peer, jobId) is { } expires && expires >= now;
        }
    }

    /// <summary>Forgets a bid (the requester cancelled).</summary>
    public void CancelOffer(string peer, string jobId)
    {
        lock (_gate)
        {
            RemoveOffer(peer, jobId);
        }
    }

    /// <summary>Takes one of this peer's job slots, or says why not.</summary>
    public string? TryTakeSlot(string peer)
    {
        lock (_gate)
        {
            if (PenaltyReason(peer, _time.GetUtcNow()) is { } penalty)
            {
                return penalty;
            }
            var held = _slotsByPeer.GetValueOrDefault(peer);
            if (held >= SlotsPerPeer)
            {
                return $"at capacity for this requester: it holds {held} of its {SlotsPerPeer} job slot(s) (worker.max_jobs_per_peer)";
            }
            _slotsByPeer[peer] = held + 1;
            return null;
        }
    }

    public void ReleaseSlot(string peer)
    {
        lock (_gate)
        {
            var left = _slotsByPeer.GetValueOrDefault(peer) - 1;
            if (left <= 0)
            {
                _slotsByPeer.Remove(peer);
            }
            else
            {
                _slotsByPeer[peer] = left;
            }
        }
    }

    /// <summary>
    /// Records that <paramref name="peer"/> left a committed result unfetched. Returns true exactly when this strike puts the
    /// peer over <see cref="AdmissionOptions.HoldStrikes"/> within the window: it is refused from now on, for
    /// <see cref="AdmissionOptions.HoldPenalty"/> (the caller receipts it once).
    /// </summary>
    public bool Strike(string peer)
    {
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            if (!_strikes.TryGetValue(peer, out var times))
            {
                _strikes[peer] = times = new Queue<DateTimeOffset>();
            }
            while (times.Count > 0 && times.Peek() + Options.HoldPenalty < now)
            {
                times.Dequeue();
            }
            times.Enqueue(now);
            if (times.Count < Options.HoldStrikes || PenaltyReason(peer, now) is not null)
            {
                return false;
            }
            _penalised[peer] = now + Options.HoldPenalty;
            times.Clear();
            // Forget idle peers' history so thousands of throwaway identities cost nothing lasting.
            if (_strikes.Count > 4096)
            {
                foreach (var stale in _strikes.Where(s => s.Value.Count == 0).Select(s => s.Key).ToList())
                {
                    _strikes.Remove(stale);
                }
            }
            return true;
        }
    }

    /// <summary>Why this peer is refused now, or null.</summary>
    public string? Penalty(string peer)
    {
        lock (_gate)
        {
            return PenaltyReason(peer, _time.GetUtcNow());
        }
    }

    private string? PenaltyReason(string peer, DateTimeOffset now)
    {
        if (!_penalised.TryGetValue(peer, out var until))
        {
            return null;
        }
        if (until <= now)
        {
            _penalised.Remove(peer);
            return null;
        }
        return $"rate-limited: this requester left {Options.HoldStrikes} committed results unfetched (worker.hold_strikes); refused for another {(until - now).TotalSeconds:0} s";
    }

    private DateTimeOffset? RemoveOffer(string peer, string jobId)
    {
        if (!_offers.Remove((peer, jobId), out var expires))
        {
            return null;
        }
        var left = _offersByPeer.GetValueOrDefault(peer) - 1;
        if (left <= 0)
        {
            _offersByPeer.Remove(peer);
        }
        else
        {
            _offersByPeer[peer] = left;
        }
        return expires;
    }

    /// <summary>Drops expired bids, oldest first (the queue is in expiry order: every bid lives equally long).</summary>
    private void Expire(DateTimeOffset now)
    {
        while (_offerOrder.Count > 0 && _offerOrder.Peek().Expires < now)
        {
            var (expires, peer, job) = _offerOrder.Dequeue();
            if (_offers.TryGetValue((peer, job), out var current) && current == expires)
            {
                RemoveOffer(peer, job);
            }
        }
        // Entries whose bid was dispatched or cancelled linger in the queue until they expire; bound them by the live count.
        if (_offerOrder.Count > (2 * _offers.Count) + 1024)
        {
            var live = _offerOrder.Where(e => _offers.TryGetValue((e.Peer, e.Job), out var x) && x == e.Expires).ToList();
            _offerOrder.Clear();
            foreach (var e in live)
            {
                _offerOrder.Enqueue(e);
            }
        }
    }
}

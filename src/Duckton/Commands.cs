namespace Duckton;

/// <summary>What <see cref="DucktonNode.JoinAsync"/> reports (SQL: <c>p2p_join</c>).</summary>
/// <param name="NodeId">This node's id.</param>
/// <param name="LivePeers">Peers this node sees as live after the first gossip round.</param>
/// <param name="Status"><c>joined</c>, or why no seed answered yet (gossip keeps retrying every heartbeat).</param>
/// <param name="Bootstrap">Every seed now configured (the ones given merged with earlier ones).</param>
public sealed record JoinResult(string NodeId, int LivePeers, string Status, IReadOnlyList<string> Bootstrap)
{
    /// <summary>True when at least one seed answered.</summary>
    public bool Joined => LivePeers > 0;
}

/// <summary>What this node donates when it hosts (the parameters of SQL's <c>p2p_share</c>); null keeps the configured value.</summary>
public sealed record ShareOptions
{
    /// <summary>Memory donated, e.g. <c>2GB</c> (<c>memory</c>).</summary>
    public string? Memory { get; init; }

    /// <summary>Threads donated (<c>threads</c>).</summary>
    public int? Threads { get; init; }

    /// <summary>Jobs served at once (<c>max_jobs</c>).</summary>
    public int? MaxJobs { get; init; }

    /// <summary>Data classes accepted: public, internal, sensitive (<c>data_classes</c>).</summary>
    public IReadOnlyList<string>? DataClasses { get; init; }

    /// <summary>False: listen and gossip, but serve no jobs (<c>enabled</c>).</summary>
    public bool? Enabled { get; init; }

    /// <summary>Networks this host belongs to (<c>networks</c>).</summary>
    public IReadOnlyList<string>? Networks { get; init; }

    /// <summary>Groups this host belongs to (<c>groups</c>).</summary>
    public IReadOnlyList<string>? Groups { get; init; }

    /// <summary>This host's region (<c>region</c>).</summary>
    public string? Region { get; init; }
}

/// <summary>What <see cref="DucktonNode.ShareAsync"/> reports (SQL: <c>p2p_share</c>).</summary>
/// <param name="NodeId">This node's id.</param>
/// <param name="ListenAddress">The address peers reach this host at (<c>host:port</c>).</param>
/// <param name="Serving">True when it serves jobs (false: standby).</param>
/// <param name="Threads">Threads donated.</param>
/// <param name="MaxJobs">Jobs served at once.</param>
public sealed record ShareResult(string NodeId, string ListenAddress, bool Serving, int Threads, int MaxJobs);

/// <summary>A peer this node has seen (one row of SQL's <c>p2p_peers()</c>).</summary>
/// <param name="NodeId">The peer's node id.</param>
/// <param name="Name">A short display name.</param>
/// <param name="Address">Where it listens.</param>
/// <param name="State">Its liveness state (alive, suspect, dead...).</param>
/// <param name="Live">True when it is live now.</param>
/// <param name="Trust">Its trust score, 0..1.</param>
/// <param name="Standing">How this node ranks it (trusted, vetted, unvetted, blocked...).</param>
/// <param name="Flagged">True when it was caught misbehaving.</param>
/// <param name="Region">Its advertised region.</param>
/// <param name="Enabled">True when it serves jobs.</param>
/// <param name="LastSeen">When it was last heard from.</param>
public sealed record PeerInfo(string NodeId, string? Name, string? Address, string? State, bool Live, double Trust, string? Standing, bool Flagged, string? Region, bool Enabled, DateTimeOffset? LastSeen);

/// <summary>A signed receipt this node holds (one row of SQL's <c>p2p_receipts()</c>).</summary>
/// <param name="JobId">The job it is about.</param>
/// <param name="WorkerId">The host that ran it.</param>
/// <param name="RequesterId">The node that asked.</param>
/// <param name="Verdict">Correct, Incorrect, Timeout...</param>
/// <param name="QueryHash">The job's query hash.</param>
/// <param name="ResultHash">The result hash the host committed.</param>
/// <param name="Latency">How long the host took.</param>
/// <param name="Timestamp">When the receipt was signed.</param>
/// <param name="SignatureValid">True when the requester's signature checks out.</param>
public sealed record ReceiptInfo(string JobId, string WorkerId, string RequesterId, string Verdict, string QueryHash, string ResultHash, TimeSpan Latency, DateTimeOffset Timestamp, bool SignatureValid);

/// <summary>One effective configuration key (one row of SQL's <c>p2p_config()</c>).</summary>
/// <param name="Key">The full key, e.g. <c>scheduler.quorum</c>.</param>
/// <param name="Value">Its effective value as text (secrets redacted).</param>
/// <param name="Source">The layer it came from (default, a file, an environment variable, runtime).</param>
public sealed record ConfigSetting(string Key, string? Value, string? Source);

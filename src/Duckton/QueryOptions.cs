namespace Duckton;

/// <summary>Where a query may run (<c>prefer</c> in SQL).</summary>
public enum QueryPlacement
{
    /// <summary>On the grid when it can meet the policy, else locally (the default).</summary>
    Auto,

    /// <summary>Only in this process's locked-down DuckDB.</summary>
    Local,

    /// <summary>Only on grid hosts; fails when the grid cannot meet the policy.</summary>
    Remote,
}

/// <summary>How a remote result is checked (<c>verify</c> in SQL).</summary>
public enum VerificationMode
{
    /// <summary>Accepted only when a quorum of hosts commit the same result hash.</summary>
    Quorum,

    /// <summary>The first answer wins; the result is reported as not verified.</summary>
    Fast,
}

/// <summary>How sensitive a query's data is (<c>data_class</c> in SQL); hosts advertise the classes they accept.</summary>
public enum DataClassification
{
    /// <summary>Anyone may see the data.</summary>
    Public,

    /// <summary>Only hosts that accept internal data.</summary>
    Internal,

    /// <summary>Only hosts that accept sensitive data.</summary>
    Sensitive,
}

/// <summary>
/// Per-query overrides, the named parameters of SQL's <c>p2p_query</c>. Every property left null takes the node's
/// configured value.
/// </summary>
public sealed record QueryOptions
{
    /// <summary>The default: everything from the configuration.</summary>
    public static QueryOptions Default { get; } = new();

    /// <summary>Hosts that run the query (<c>replicas</c>).</summary>
    public int? Replicas { get; init; }

    /// <summary>Agreeing hosts needed to accept a result (<c>quorum</c>).</summary>
    public int? Quorum { get; init; }

    /// <summary>The trust floor of hosts, 0..1 (<c>min_trust</c>).</summary>
    public double? MinTrust { get; init; }

    /// <summary>The least attestation level of hosts, e.g. <c>NONE</c>, <c>TPM</c> (<c>min_attestation</c>).</summary>
    public string? MinAttestation { get; init; }

    /// <summary>Quorum verification or fast (<c>verify</c>).</summary>
    public VerificationMode? Verification { get; init; }

    /// <summary>Local, remote or automatic placement (<c>prefer</c>).</summary>
    public QueryPlacement? Placement { get; init; }

    /// <summary>The data's classification (<c>data_class</c>).</summary>
    public DataClassification? DataClass { get; init; }

    /// <summary>Only hosts in this network (<c>network</c>).</summary>
    public string? Network { get; init; }

    /// <summary>Only hosts in one of these groups (<c>groups</c>).</summary>
    public IReadOnlyList<string>? Groups { get; init; }

    /// <summary>Only hosts in one of these regions (<c>regions</c>).</summary>
    public IReadOnlyList<string>? Regions { get; init; }

    /// <summary>Only these hosts, by node id (<c>nodes</c>).</summary>
    public IReadOnlyList<string>? Nodes { get; init; }

    /// <summary>The query's deadline, whole milliseconds (<c>timeout_ms</c>); the caller's token cancels at any time too.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The expected input fingerprint, hex (<c>input_pin</c>).</summary>
    public string? InputPin { get; init; }
}

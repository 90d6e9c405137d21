namespace Duckton.Node.Grid;

/// <summary>The phases of one remote query, in the order a requester passes through them.</summary>
public enum GridPhase
{
    /// <summary>Offers went out to <see cref="GridProgress.Hosts"/> hosts; none has committed yet.</summary>
    Offers,

    /// <summary>A host committed a result hash; <see cref="GridProgress.Commits"/> of <see cref="GridProgress.Quorum"/> so far.</summary>
    Commits,

    /// <summary>A quorum agreed on one result hash; its rows are being fetched and checked against it.</summary>
    Quorum,

    /// <summary>The rows were fetched and matched the agreed hash (<see cref="GridProgress.Rows"/> rows).</summary>
    Verified,
}

/// <summary>One step of a remote query, as the coordinator reports it.</summary>
public readonly record struct GridProgress(string JobId, GridPhase Phase, int Hosts, int Commits, int Quorum, long Rows);

/// <summary>
/// Sees the phases of remote queries (a shell shows them as a spinner). Called on the coordinator's threads: keep it
/// quick; an exception thrown here is swallowed and never fails the query.
/// </summary>
public interface IGridProgressObserver
{
    void OnProgress(GridProgress progress);
}

using Duckton.Core.Protocol;

namespace Duckton.Node.Grid;

/// <summary>Outcome of counting commits (facts §4.1, with drift partitioning).</summary>
internal sealed record QuorumOutcome(CommitMessage? Agreed, int Agreement, int Quorum, bool Split, int Drifted)
{
    public bool Reached => Agreed is not null;
}

/// <summary>
/// Counts agreeing commits. Commits agree when they state the same result hash, row count, schema and input
/// fingerprint. With a pinned input fingerprint, a commit whose non-empty fingerprint differs from the pin is
/// "drifted" and left out of the count. Exactly one result with at least q commits is agreed; two or more is a
/// split (terminal disagreement, never decided by a coin flip).
/// </summary>
internal static class QuorumEvaluator
{
    /// <summary>
    /// How many of <paramref name="commits"/> were computed over other input than the query's: a non-empty fingerprint
    /// that differs from the pin or, unpinned, from the agreed commit's (none without either). Such a commit is
    /// partitioned out of the quorum and not judged.
    /// </summary>
    public static int DriftedFrom(IEnumerable<CommitMessage> commits, byte[]? pinnedFingerprint, CommitMessage? agreed)
    {
        var reference = pinnedFingerprint is { Length: > 0 } ? pinnedFingerprint : agreed?.InputFingerprint;
        return reference is not { Length: > 0 } ? 0 : commits.Count(c => c.InputFingerprint.Length > 0 && !c.InputFingerprint.AsSpan().SequenceEqual(reference));
    }

    public static QuorumOutcome Evaluate(IReadOnlyList<CommitMessage> commits, int quorum, byte[]? pinnedFingerprint = null)
    {
        var groups = new List<(CommitMessage Representative, int Count)>();
        var drifted = 0;
        foreach (var c in commits)
        {
            if (pinnedFingerprint is { Length: > 0 } && c.InputFingerprint.Length > 0 && !c.InputFingerprint.AsSpan().SequenceEqual(pinnedFingerprint))
            {
                drifted++;
                continue;
            }
            var i = groups.FindIndex(g => g.Representative.AgreesWith(c));
            if (i < 0)
            {
                groups.Add((c, 1));
            }
            else
            {
                groups[i] = (groups[i].Representative, groups[i].Count + 1);
            }
        }
        var meeting = groups.Where(g => g.Count >= quorum).ToList();
        var best = groups.Count == 0 ? 0 : groups.Max(g => g.Count);
        return meeting.Count switch
        {
            1 => new QuorumOutcome(meeting[0].Representative, meeting[0].Count, quorum, false, drifted),
            > 1 => new QuorumOutcome(null, best, quorum, true, drifted),
            _ => new QuorumOutcome(null, best, quorum, false, drifted),
        };
    }
}

using Duckton.Node.Grid;

namespace Duckton.Node.Tests;

/// <summary>The quorum rule (<see cref="QuorumEvaluator"/>): which commits agree, when an answer is accepted, split or drifted.</summary>
public sealed class QuorumRuleTests
{
    private const string A = Verdicts.AgreedHash;
    private const string B = Verdicts.OtherHash;

    [Fact]
    public void Q_agreeing_commits_are_accepted_and_fewer_are_not()
    {
        var reached = QuorumEvaluator.Evaluate([Commits.For(A), Commits.For(B), Commits.For(A)], quorum: 2);
        Assert.True(reached.Reached);
        Assert.Equal(A, reached.Agreed!.ResultHash);
        Assert.Equal(2, reached.Agreement);
        Assert.False(reached.Split);

        var shortOf = QuorumEvaluator.Evaluate([Commits.For(A), Commits.For(B)], quorum: 2);
        Assert.False(shortOf.Reached);
        Assert.False(shortOf.Split);
        Assert.Equal(1, shortOf.Agreement);

        Assert.False(QuorumEvaluator.Evaluate([], quorum: 1).Reached);
    }

    [Fact]
    public void Commits_agree_only_on_the_same_hash_row_count_schema_and_input()
    {
        Assert.False(QuorumEvaluator.Evaluate([Commits.For(A, rows: 1), Commits.For(A, rows: 2)], quorum: 2).Reached);
        Assert.False(QuorumEvaluator.Evaluate([Commits.For(A, schema: [1]), Commits.For(A, schema: [2])], quorum: 2).Reached);
        Assert.False(QuorumEvaluator.Evaluate([Commits.For(A, fingerprint: [1]), Commits.For(A, fingerprint: [2])], quorum: 2).Reached);
        Assert.True(QuorumEvaluator.Evaluate([Commits.For(A, fingerprint: [1]), Commits.For(A, fingerprint: [1])], quorum: 2).Reached);
    }

    [Fact]
    public void Two_results_that_each_meet_the_quorum_are_a_split_never_a_pick()
    {
        var outcome = QuorumEvaluator.Evaluate([Commits.For(A), Commits.For(B), Commits.For(A), Commits.For(B)], quorum: 2);
        Assert.True(outcome.Split);
        Assert.False(outcome.Reached);
        Assert.Null(outcome.Agreed);
        Assert.Equal(2, outcome.Agreement);
    }

    [Fact]
    public void With_a_pinned_input_commits_over_other_input_are_drifted_and_not_counted()
    {
        byte[] pin = [7, 7];
        var commits = new[] { Commits.For(A, fingerprint: [9, 9]), Commits.For(A, fingerprint: [9, 9]), Commits.For(A, fingerprint: pin) };
        var outcome = QuorumEvaluator.Evaluate(commits, quorum: 2, pinnedFingerprint: pin);
        Assert.False(outcome.Reached); // the two agreeing commits were computed over other input
        Assert.Equal(2, outcome.Drifted);
        Assert.Equal(1, outcome.Agreement);
        Assert.Equal(2, QuorumEvaluator.DriftedFrom(commits, pin, null));

        // A commit without a fingerprint (a host that cannot state one) is never drifted.
        var unfingerprinted = QuorumEvaluator.Evaluate([Commits.For(A, fingerprint: pin), Commits.For(A, fingerprint: pin), Commits.For(A)], quorum: 2, pinnedFingerprint: pin);
        Assert.True(unfingerprinted.Reached);
        Assert.Equal(0, unfingerprinted.Drifted);

        // Unpinned, drift is judged against the agreed commit's input.
        Assert.Equal(1, QuorumEvaluator.DriftedFrom([Commits.For(A, fingerprint: [1]), Commits.For(A, fingerprint: [2])], null, Commits.For(A, fingerprint: [1])));
        Assert.Equal(0, QuorumEvaluator.DriftedFrom([Commits.For(A, fingerprint: [1])], null, null));
    }
}

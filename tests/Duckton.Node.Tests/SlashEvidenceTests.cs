using Duckton.Core.Protocol;
using Duckton.Node.Economics;
using Duckton.Node.Trust;
using Duckton.Transport;
using Xunit;

namespace Duckton.Node.Tests;

/// <summary>
/// The re-check every piece of evidence passes before the slasher sends anything: real Ed25519 commits and certificates,
/// the forged and unverifiable variants refused with the reason.
/// </summary>
public sealed class SlashEvidenceTests : IDisposable
{
    private const string Engine = "duckdb-test";
    private readonly NodeIdentity _requester = NodeIdentity.Create();
    private readonly NodeIdentity _cheater = NodeIdentity.Create();
    private readonly NodeIdentity _honest1 = NodeIdentity.Create();
    private readonly NodeIdentity _honest2 = NodeIdentity.Create();

    public void Dispose()
    {
        _requester.Dispose();
        _cheater.Dispose();
        _honest1.Dispose();
        _honest2.Dispose();
    }

    private static string Hex32(byte b) => Convert.ToHexStringLower(Enumerable.Repeat(b, 32).ToArray());

    private CommitMessage Commit(NodeIdentity host, string jobId, string queryHash, string resultHash, byte[]? input = null, string? requester = null) =>
        new CommitMessage(jobId, queryHash, requester ?? _requester.NodeId, host.PublicKey.ToArray(), input ?? [1, 2, 3], resultHash, 5, [9], 10)
            .SignWith(b => host.Sign(b));

    private static string CanarySql(string jobId) => "SELECT " + jobId.Length + " AS canary_for_" + jobId[..8];

    private EvidenceCheck Check(EvidenceEntry e, Func<string, string?>? certificateOf = null) =>
        EvidenceSlasher.Recheck(e, _requester.NodeId, Engine, CanarySql, _ => Hex32(0xAA), certificateOf ?? (_ => null));

    private EvidenceEntry Canary(CommitMessage c, string? node = null, string? job = null) =>
        new(node ?? c.HostNodeId, EvidenceKinds.WrongCanary, job ?? c.JobId, "test", c.Encode(), DateTimeOffset.UnixEpoch);

    [Fact]
    public void A_signed_wrong_canary_answer_passes_and_every_forgery_of_it_is_refused()
    {
        var job = JobIds.NewJobId();
        var query = JobIds.QueryHash(Engine, CanarySql(job));
        var wrong = Commit(_cheater, job, query, Hex32(0xBB));
        Assert.Null(Check(Canary(wrong)).Problem);

        Assert.Equal("the signed canary answer is the right one", Check(Canary(Commit(_cheater, job, query, Hex32(0xAA)))).Problem);
        Assert.Equal("the commit's signature does not verify", Check(Canary(wrong with { ResultHash = Hex32(0xCC) })).Problem);
        Assert.StartsWith("the commit is signed by", Check(Canary(wrong, node: _honest1.NodeId)).Problem, StringComparison.Ordinal);
        Assert.Equal("the commit is for another job or another requester", Check(Canary(wrong, job: JobIds.NewJobId())).Problem);
        Assert.Equal("the commit is for another job or another requester", Check(Canary(Commit(_cheater, job, query, Hex32(0xBB), requester: _honest2.NodeId))).Problem);
        Assert.Equal("the commit is not over the canary this node sent in that job",
            Check(Canary(Commit(_cheater, job, JobIds.QueryHash(Engine, "SELECT 1"), Hex32(0xBB)))).Problem);
        Assert.StartsWith("the proof is not a commit", Check(new EvidenceEntry(_cheater.NodeId, EvidenceKinds.WrongCanary, job, "x", [1, 2, 3], DateTimeOffset.UnixEpoch)).Problem,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_commit_contradicting_a_verified_certificate_passes_only_with_that_certificate()
    {
        var job = JobIds.NewJobId();
        var query = JobIds.QueryHash(Engine, "SELECT 42");
        var agreed = new[] { Commit(_honest1, job, query, Hex32(0x11)), Commit(_honest2, job, query, Hex32(0x11)) };
        var hosts = new[] { _honest1.NodeId, _honest2.NodeId, _cheater.NodeId };
        var certificate = CommitCertificate.Encode(agreed, _requester.PublicKey.Span, 3, 2, hosts, m => _requester.Sign(m));
        var wrong = Commit(_cheater, job, query, Hex32(0x22));
        var evidence = new EvidenceEntry(_cheater.NodeId, EvidenceKinds.ContradictsCertificate, job, "test", wrong.Encode(), DateTimeOffset.UnixEpoch);

        Assert.Null(Check(evidence, j => j == job ? certificate : null).Problem);
        Assert.Equal("the job's certificate is not kept here", Check(evidence).Problem);
        // A certificate signed by someone else than this requester, or tampered with, proves nothing.
        using var other = NodeIdentity.Create();
        var foreign = CommitCertificate.Encode(agreed, other.PublicKey.Span, 3, 2, hosts, m => other.Sign(m));
        Assert.StartsWith("the certificate does not verify", Check(evidence, _ => foreign).Problem, StringComparison.Ordinal);
        var raw = Convert.FromBase64String(certificate["dcc2:".Length..]);
        raw[^1] ^= 0x01;
        Assert.StartsWith("the certificate does not verify", Check(evidence, _ => "dcc2:" + Convert.ToBase64String(raw)).Problem, StringComparison.Ordinal);
        // The accused's commit agreeing with the certificate, or over other input, is no contradiction.
        var agreeing = new EvidenceEntry(_cheater.NodeId, EvidenceKinds.ContradictsCertificate, job, "test", Commit(_cheater, job, query, Hex32(0x11)).Encode(), DateTimeOffset.UnixEpoch);
        Assert.Equal("the commit agrees with the certificate", Check(agreeing, _ => certificate).Problem);
        var otherInput = new EvidenceEntry(_cheater.NodeId, EvidenceKinds.ContradictsCertificate, job, "test", Commit(_cheater, job, query, Hex32(0x22), input: [7]).Encode(),
            DateTimeOffset.UnixEpoch);
        Assert.Equal("the commit is over other input than the certificate", Check(otherInput, _ => certificate).Problem);
        // A signer of the certificate cannot be accused by it.
        var signer = new EvidenceEntry(_honest1.NodeId, EvidenceKinds.ContradictsCertificate, job, "test", Commit(_honest1, job, query, Hex32(0x22)).Encode(), DateTimeOffset.UnixEpoch);
        Assert.Equal("the accused host is among the certificate's signers", Check(signer, _ => certificate).Problem);
    }

    [Fact]
    public void The_evidence_hash_names_one_piece_and_its_first_eight_bytes_are_the_query_id()
    {
        var job = JobIds.NewJobId();
        var c = Commit(_cheater, job, JobIds.QueryHash(Engine, CanarySql(job)), Hex32(0xBB));
        var a = EvidenceSlasher.EvidenceHash(Canary(c));
        Assert.Equal(32, a.Length);
        Assert.Equal(a, EvidenceSlasher.EvidenceHash(Canary(c) with { Detail = "other words", At = DateTimeOffset.UtcNow }));
        Assert.NotEqual(a, EvidenceSlasher.EvidenceHash(Canary(c) with { Kind = EvidenceKinds.ContradictsCertificate }));
        Assert.NotEqual(a, EvidenceSlasher.EvidenceHash(Canary(Commit(_cheater, job, c.QueryHash, Hex32(0xBC)))));
        Assert.Equal(Convert.ToUInt64(Convert.ToHexString(a, 0, 8), 16), EvidenceSlasher.QueryIdOf(a));
    }
}

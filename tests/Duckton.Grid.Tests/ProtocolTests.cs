using Duckton.Core.Data;
using Duckton.Core.Protocol;
using Duckton.Node.Grid;
using Duckton.Transport;

namespace Duckton.Grid.Tests;

public sealed class ProtocolTests
{
    private static CommitMessage SignedCommit(NodeIdentity host, string jobId, string resultHash = "", byte[]? fingerprint = null, string? requester = null)
    {
        var schema = BatchCodec.EncodeSchema(new ResultSchema(["answer"], [DuckType.Integer]));
        return new CommitMessage(jobId, new string('a', 64), requester ?? "b3:" + new string('c', 64), host.PublicKey.ToArray(), fingerprint ?? [],
            resultHash.Length > 0 ? resultHash : new string('d', 64), 1, schema, 42).SignWith(b => host.Sign(b));
    }

    [Fact]
    public void Commit_round_trips_and_its_signature_covers_every_field()
    {
        using var host = NodeIdentity.Create();
        var commit = SignedCommit(host, JobIds.NewJobId());
        var decoded = CommitMessage.Decode(commit.Encode());
        Assert.True(decoded.VerifySignature());
        Assert.Equal(host.NodeId, decoded.HostNodeId);
        Assert.False((decoded with { RowCount = 2 }).VerifySignature());
        Assert.False((decoded with { ResultHash = new string('e', 64) }).VerifySignature());
        Assert.False((decoded with { InputFingerprint = [1] }).VerifySignature());
        Assert.StartsWith("duckton-commit-v1", System.Text.Encoding.ASCII.GetString(decoded.SignedBytes()));
    }

    [Fact]
    public void Truncated_or_padded_payloads_are_rejected_with_a_protocol_error()
    {
        using var host = NodeIdentity.Create();
        var bytes = SignedCommit(host, JobIds.NewJobId()).Encode();
        for (var cut = 0; cut < bytes.Length; cut += 7)
        {
            Assert.Throws<ProtocolException>(() => CommitMessage.Decode(bytes.AsSpan(0, cut)));
        }
        Assert.Throws<ProtocolException>(() => CommitMessage.Decode([.. bytes, 0]));
        var offer = new OfferMessage(JobIds.NewJobId(), new string('a', 64), WireDataClass.Public, 1, 2, 3, "default", ["g"], []).Encode();
        Assert.Equal("default", OfferMessage.Decode(offer).Network);
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var junk = new byte[random.Next(0, 120)];
            random.NextBytes(junk);
            foreach (var decode in new Action<byte[]>[] { b => OfferMessage.Decode(b), b => DispatchMessage.Decode(b), b => CommitMessage.Decode(b), b => AdvertMessage.Decode(b), b => BatchFrame.Decode(b, 1 << 20), b => EndMessage.Decode(b) })
            {
                try
                {
                    decode(junk);
                }
                catch (ProtocolException)
                {
                }
            }
        }
    }

    [Fact]
    public void Advert_needs_a_valid_signature_and_proof_of_work()
    {
        using var id = NodeIdentity.Create();
        var nonce = ProofOfWork.Mint(id.PublicKey.Span, 12);
        var advert = new AdvertMessage(id.PublicKey.ToArray(), "127.0.0.1:9494", 1 << 30, 2, 3, 0, true, ["default"], [], "eu", nonce, 12, 1, 1).SignWith(b => id.Sign(b));
        var decoded = AdvertMessage.Decode(advert.Encode());
        Assert.Null(decoded.Verify(12));
        Assert.NotNull(decoded.Verify(20));
        Assert.NotNull((decoded with { ListenAddress = "10.0.0.1:1" }).Verify(12));
        var badStamp = (decoded with { PowNonce = nonce + 1 }).SignWith(b => id.Sign(b));
        if (!ProofOfWork.Check(id.PublicKey.Span, nonce + 1, 12))
        {
            Assert.NotNull(badStamp.Verify(12));
        }
        Assert.Equal(id.NodeId, decoded.NodeId);
    }

    [Fact]
    public void Quorum_agrees_splits_and_partitions_drifted_inputs()
    {
        using var a = NodeIdentity.Create();
        using var b = NodeIdentity.Create();
        using var c = NodeIdentity.Create();
        using var d = NodeIdentity.Create();
        var job = JobIds.NewJobId();
        var h1 = new string('1', 64);
        var h2 = new string('2', 64);
        var agree = QuorumEvaluator.Evaluate([SignedCommit(a, job, h1), SignedCommit(b, job, h2), SignedCommit(c, job, h1)], 2);
        Assert.True(agree.Reached);
        Assert.Equal(h1, agree.Agreed!.ResultHash);
        Assert.Equal(2, agree.Agreement);

        var split = QuorumEvaluator.Evaluate([SignedCommit(a, job, h1), SignedCommit(b, job, h2), SignedCommit(c, job, h1), SignedCommit(d, job, h2)], 2);
        Assert.True(split.Split);
        Assert.False(split.Reached);

        var none = QuorumEvaluator.Evaluate([SignedCommit(a, job, h1), SignedCommit(b, job, h2)], 2);
        Assert.False(none.Reached);
        Assert.Equal(1, none.Agreement);

        byte[] pin = [1, 2, 3];
        var drift = QuorumEvaluator.Evaluate([SignedCommit(a, job, h1, pin), SignedCommit(b, job, h2, [9, 9]), SignedCommit(c, job, h1, pin), SignedCommit(d, job, h2, [9, 9])], 2, pin);
        Assert.True(drift.Reached);
        Assert.Equal(2, drift.Drifted);
        Assert.Equal(h1, drift.Agreed!.ResultHash);

        // What is recorded as drift partitions: pinned, the same count; unpinned, commits over other input than the
        // agreed commit's; without an agreement or a pin, nothing (no input to differ from); no fingerprint never drifts.
        var all = new[] { SignedCommit(a, job, h1, pin), SignedCommit(b, job, h2, [9, 9]), SignedCommit(c, job, h1, pin), SignedCommit(d, job, h2, []) };
        Assert.Equal(1, QuorumEvaluator.DriftedFrom(all, pin, null));
        Assert.Equal(1, QuorumEvaluator.DriftedFrom(all, null, all[0]));
        Assert.Equal(2, QuorumEvaluator.DriftedFrom(all, null, all[1]));
        Assert.Equal(0, QuorumEvaluator.DriftedFrom(all, null, null));
    }

    [Fact]
    public void Certificate_verifies_offline_and_rejects_tampering()
    {
        using var requester = NodeIdentity.Create();
        using var a = NodeIdentity.Create();
        using var b = NodeIdentity.Create();
        using var c = NodeIdentity.Create();
        var job = JobIds.NewJobId();
        CommitMessage Commit(NodeIdentity host, string hash = "") => SignedCommit(host, job, hash, requester: requester.NodeId);
        string Certify(IReadOnlyList<CommitMessage> commits, int quorum = 2, IReadOnlyList<string>? hosts = null, NodeIdentity? signer = null) =>
            CommitCertificate.Encode(commits, (signer ?? requester).PublicKey.Span, 3, quorum, hosts ?? [a.NodeId, b.NodeId, c.NodeId], m => (signer ?? requester).Sign(m));

        var cert = Certify([Commit(a), Commit(b)]);
        Assert.StartsWith("dcc2:", cert);
        var ok = CommitCertificate.Verify(cert, expectedResultHash: new string('d', 64));
        Assert.True(ok.Valid, ok.Error);
        Assert.Equal([a.NodeId, b.NodeId], ok.Hosts);
        Assert.Equal(requester.NodeId, ok.Requester);
        Assert.Equal((3, 2), (ok.Replicas, ok.Quorum));
        Assert.Equal([a.NodeId, b.NodeId, c.NodeId], ok.HostSet);

        // The quorum travels signed: a caller may demand more, never less, and fewer commits than it fail.
        Assert.False(CommitCertificate.Verify(cert, 3).Valid);
        Assert.Contains("quorum 2", CommitCertificate.Verify(Certify([Commit(a)])).Error);
        // Any change to the signed body (here: the quorum byte lowered to 1) breaks the requester's signature.
        var raw = Convert.FromBase64String(cert["dcc2:".Length..]);
        raw[1 + 32 + 1] = 1;
        Assert.Contains("requester's signature", CommitCertificate.Verify("dcc2:" + Convert.ToBase64String(raw)).Error);
        // Commits made for another requester, by hosts outside the signed set, duplicated, disagreeing or forged.
        using var stranger = NodeIdentity.Create();
        Assert.Contains("another requester", CommitCertificate.Verify(Certify([Commit(a), Commit(b)], signer: stranger)).Error);
        Assert.Contains("outside the signed host set", CommitCertificate.Verify(Certify([Commit(a), Commit(b)], hosts: [a.NodeId, c.NodeId])).Error);
        Assert.False(CommitCertificate.Verify(Certify([Commit(a), Commit(a)])).Valid);
        Assert.False(CommitCertificate.Verify(Certify([Commit(a), Commit(b, new string('9', 64))])).Valid);
        var forged = Commit(b) with { RowCount = 5 };
        Assert.False(CommitCertificate.Verify(Certify([Commit(a), forged], quorum: 1)).Valid);
        Assert.False(CommitCertificate.Verify("dcc2:!!").Valid);
        Assert.Contains("no longer accepted", CommitCertificate.Verify("dcc1:AQAA").Error);
    }

    [Theory]
    [InlineData("SELECT random()", true)]
    [InlineData("SELECT now()", true)]
    [InlineData("SELECT current_timestamp", true)]
    [InlineData("SELECT gen_random_uuid()", true)]
    [InlineData("SELECT uuid()", true)]
    [InlineData("SELECT * FROM range(10) LIMIT 3", true)]
    [InlineData("SELECT * FROM range(10) ORDER BY 1 LIMIT 3", false)]
    [InlineData("SELECT * FROM range(100) TABLESAMPLE 10%", true)]
    [InlineData("SELECT * FROM range(100) USING SAMPLE 10", true)]
    [InlineData("SELECT list(range) FROM range(10)", true)]
    [InlineData("SELECT list(range ORDER BY range) FROM range(10)", false)]
    [InlineData("SELECT 'random()' AS s, 42 -- now()", false)]
    [InlineData("SELECT sum(range), count(*) FROM range(100) GROUP BY range % 3", false)]
    [InlineData("SELECT row_number() OVER (ORDER BY range) FROM range(3)", false)]
    [InlineData("SELECT row_number() OVER () FROM range(3)", true)]
    [InlineData("SELECT first(range) FILTER (WHERE range > 0) OVER (ORDER BY range) FROM range(3)", false)]
    [InlineData("SELECT nextval('s')", true)]
    [InlineData("SELECT Random() AS r", true)]
    [InlineData("SELECT * FROM range(10) OFFSET 3", true)]
    [InlineData("SELECT * FROM range(10) ORDER BY range OFFSET 3", false)]
    [InlineData("SELECT * FROM range(10) FETCH FIRST 3 ROWS ONLY", true)]
    [InlineData("SELECT range AS using_sample_size FROM range(3)", false)]
    public void Nondeterministic_sql_is_detected_conservatively(string sql, bool unverifiable) =>
        Assert.Equal(unverifiable, Determinism.UnverifiableReason(sql) is not null);
}

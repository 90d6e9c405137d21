namespace Duckton.Core.Protocol;

/// <summary>What <see cref="CommitCertificate.Verify"/> established about a certificate.</summary>
public sealed record CertificateCheck(bool Valid, string? Error, string JobId, string QueryHash, string ResultHash, ulong RowCount, IReadOnlyList<string> Hosts);

/// <summary>
/// The signed commits a remote answer was accepted on, encoded so anyone can check them offline:
/// text <c>"dcc1:" + base64(u8 version=1 ‖ u16 LE count ‖ count × (u32 LE length ‖ Commit payload))</c>.
/// </summary>
public static class CommitCertificate
{
    public const string Prefix = "dcc1:";

    public static string Encode(IReadOnlyList<CommitMessage> commits)
    {
        ArgumentNullException.ThrowIfNull(commits);
        var w = new ProtoWriter(512);
        w.U8(1).U16((ushort)commits.Count);
        foreach (var c in commits)
        {
            w.Bytes(c.Encode());
        }
        return Prefix + Convert.ToBase64String(w.WrittenSpan);
    }

    public static IReadOnlyList<CommitMessage> Decode(string certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new ProtocolException($"a certificate starts with '{Prefix}'");
        }
        byte[] raw;
        try
        {
            raw = Convert.FromBase64String(certificate[Prefix.Length..]);
        }
        catch (FormatException)
        {
            throw new ProtocolException("the certificate is not valid base64");
        }
        var r = new ProtoReader(raw);
        if (r.U8("certificate.version") != 1)
        {
            throw new ProtocolException("unknown certificate version");
        }
        var n = r.U16("certificate.count");
        if (n > ProtoLimits.MaxCertificateCommits)
        {
            throw new ProtocolException($"certificate holds {n} commits, more than {ProtoLimits.MaxCertificateCommits}");
        }
        var commits = new List<CommitMessage>(n);
        for (var i = 0; i < n; i++)
        {
            commits.Add(CommitMessage.Decode(r.Bytes(ProtoLimits.MaxSchemaBytes + 4096, "certificate.commit")));
        }
        r.End("certificate");
        return commits;
    }

    /// <summary>
    /// Checks a certificate offline: every commit's Ed25519 signature verifies under its host key (the host's node id
    /// is derived from that key), the hosts are distinct, all commits are for the same job, query, requester and input
    /// and state the same result (hash, row count, schema), and there are at least <paramref name="quorum"/> of them.
    /// Optionally the result hash must be <paramref name="expectedResultHash"/>.
    /// </summary>
    public static CertificateCheck Verify(string certificate, int quorum, string? expectedResultHash = null)
    {
        IReadOnlyList<CommitMessage> commits;
        try
        {
            commits = Decode(certificate);
        }
        catch (ProtocolException e)
        {
            return new CertificateCheck(false, e.Message, "", "", "", 0, []);
        }
        if (commits.Count == 0)
        {
            return new CertificateCheck(false, "the certificate holds no commit", "", "", "", 0, []);
        }
        var first = commits[0];
        var hosts = commits.Select(c => c.HostNodeId).ToList();
        CertificateCheck Fail(string why) => new(false, why, first.JobId, first.QueryHash, first.ResultHash, first.RowCount, hosts);
        foreach (var c in commits)
        {
            if (!c.VerifySignature())
            {
                return Fail($"the commit of {c.HostNodeId} has an invalid signature");
            }
            if (c.JobId != first.JobId || c.QueryHash != first.QueryHash || c.RequesterNodeId != first.RequesterNodeId || !c.AgreesWith(first))
            {
                return Fail($"the commit of {c.HostNodeId} does not state the same job and result");
            }
        }
        if (hosts.Distinct(StringComparer.Ordinal).Count() != hosts.Count)
        {
            return Fail("a host appears twice");
        }
        if (commits.Count < quorum)
        {
            return Fail($"{commits.Count} commit(s), quorum {quorum}");
        }
        if (expectedResultHash is not null && !string.Equals(expectedResultHash, first.ResultHash, StringComparison.OrdinalIgnoreCase))
        {
            return Fail("the certificate is for a different result hash");
        }
        return new CertificateCheck(true, null, first.JobId, first.QueryHash, first.ResultHash, first.RowCount, hosts);
    }
}

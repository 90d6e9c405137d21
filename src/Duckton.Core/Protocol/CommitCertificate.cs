using Duckton.Core.Crypto;

namespace Duckton.Core.Protocol;

/// <summary>What <see cref="CommitCertificate.Verify"/> established about a certificate.</summary>
public sealed record CertificateCheck(bool Valid, string? Error, string JobId, string QueryHash, string ResultHash, ulong RowCount, IReadOnlyList<string> Hosts)
{
    /// <summary>The node id of the requester that signed the certificate ("" when it could not be read).</summary>
    public string Requester { get; init; } = "";

    /// <summary>The quorum q the requester accepted the answer under, as it signed it.</summary>
    public int Quorum { get; init; }

    /// <summary>The replicas k the requester asked for.</summary>
    public int Replicas { get; init; }

    /// <summary>Every host the requester dispatched the accepting attempt to (the set the quorum was drawn from).</summary>
    public IReadOnlyList<string> HostSet { get; init; } = [];
}

/// <summary>Signs the certificate body with the requester's identity key (Ed25519, 64 bytes).</summary>
public delegate byte[] CertificateSigner(ReadOnlySpan<byte> message);

/// <summary>
/// The signed commits a remote answer was accepted on, bound by the requester's signature to the quorum and the host
/// set it accepted them under, so anyone can check them offline:
/// text <c>"dcc2:" + base64(body ‖ sig64)</c> with
/// <c>body = u8 version=2 ‖ key32 requester ‖ u8 replicas ‖ u8 quorum ‖ u16 n ‖ n × str host ‖ u16 m ‖ m × bytes commit</c>
/// and the signature by the requester over <c>"duckton-certificate-v2" ‖ body</c> (docs/PROTOCOL.md).
/// </summary>
public static class CommitCertificate
{
    public const string Prefix = "dcc2:";
    public const byte Version = 2;
    private static ReadOnlySpan<byte> Domain => "duckton-certificate-v2"u8;

    /// <summary>A decoded certificate (its signature not yet checked).</summary>
    public sealed record Contents(byte[] RequesterPublicKey, int Replicas, int Quorum, IReadOnlyList<string> HostSet, IReadOnlyList<CommitMessage> Commits,
        byte[] SignedBody, byte[] Signature)
    {
        public string Requester => JobIds.NodeIdOf(RequesterPublicKey);
    }

    public static string Encode(IReadOnlyList<CommitMessage> commits, ReadOnlySpan<byte> requesterPublicKey, int replicas, int quorum,
        IReadOnlyList<string> hostSet, CertificateSigner sign)
    {
        ArgumentNullException.ThrowIfNull(commits);
        ArgumentNullException.ThrowIfNull(hostSet);
        ArgumentNullException.ThrowIfNull(sign);
        if (commits.Count > ProtoLimits.MaxCertificateCommits || hostSet.Count > ProtoLimits.MaxCertificateCommits)
        {
            throw new ArgumentException($"a certificate holds at most {ProtoLimits.MaxCertificateCommits} commits and hosts");
        }
        var w = new ProtoWriter(512);
        w.U8(Version).Fixed(requesterPublicKey, ProtoLimits.PublicKeyBytes).U8(checked((byte)replicas)).U8(checked((byte)quorum)).U16((ushort)hostSet.Count);
        foreach (var h in hostSet)
        {
            w.String(h);
        }
        w.U16((ushort)commits.Count);
        foreach (var c in commits)
        {
            w.Bytes(c.Encode());
        }
        var body = w.ToArray();
        var signature = sign(SignedBytes(body));
        w.Fixed(signature, ProtoLimits.SignatureBytes);
        return Prefix + Convert.ToBase64String(w.WrittenSpan);
    }

    private static byte[] SignedBytes(ReadOnlySpan<byte> body) => [.. Domain, .. body];

    /// <summary>Decodes a certificate's text (standard base64 alphabet with padding). Throws <see cref="ProtocolException"/>.</summary>
    public static Contents Decode(string certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.StartsWith(Prefix, StringComparison.Ordinal))
        {
            throw new ProtocolException(certificate.StartsWith("dcc1:", StringComparison.Ordinal)
                ? "a dcc1 certificate (unsigned by its requester) is no longer accepted; this version reads dcc2 certificates"
                : $"a certificate starts with '{Prefix}'");
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
        if (r.U8("certificate.version") != Version)
        {
            throw new ProtocolException("unknown certificate version");
        }
        var requester = r.Fixed(ProtoLimits.PublicKeyBytes, "certificate.requester").ToArray();
        var replicas = r.U8("certificate.replicas");
        var quorum = r.U8("certificate.quorum");
        var hostCount = r.U16("certificate.hosts");
        if (hostCount > ProtoLimits.MaxCertificateCommits)
        {
            throw new ProtocolException($"certificate names {hostCount} hosts, more than {ProtoLimits.MaxCertificateCommits}");
        }
        var hosts = new string[hostCount];
        for (var i = 0; i < hostCount; i++)
        {
            hosts[i] = r.String(ProtoLimits.MaxNodeIdBytes, "certificate.host");
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
        var bodyLength = r.Position;
        var signature = r.Fixed(ProtoLimits.SignatureBytes, "certificate.signature").ToArray();
        r.End("certificate");
        return new Contents(requester, replicas, quorum, hosts, commits, raw[..bodyLength], signature);
    }

    /// <summary>
    /// Checks a certificate offline: the requester's signature over the whole certificate verifies; every commit's
    /// Ed25519 signature verifies under its host key (the host's node id is derived from that key); every commit names
    /// the signing requester; the hosts are distinct and each is in the signed host set; all commits are for the same
    /// job, query and input and state the same result (hash, row count, schema); and there are at least as many as the
    /// signed quorum and as <paramref name="minimumQuorum"/>. Optionally the result hash must be
    /// <paramref name="expectedResultHash"/>. What this does not prove (that the signers are honest or independent) is
    /// in docs/PROTOCOL.md, "What an offline check proves".
    /// </summary>
    public static CertificateCheck Verify(string certificate, int minimumQuorum = 1, string? expectedResultHash = null)
    {
        Contents contents;
        try
        {
            contents = Decode(certificate);
        }
        catch (ProtocolException e)
        {
            return new CertificateCheck(false, e.Message, "", "", "", 0, []);
        }
        var commits = contents.Commits;
        var first = commits.Count > 0 ? commits[0] : null;
        var hosts = commits.Select(c => c.HostNodeId).ToList();
        CertificateCheck Result(string? why) => new(why is null, why, first?.JobId ?? "", first?.QueryHash ?? "", first?.ResultHash ?? "", first?.RowCount ?? 0, hosts)
        {
            Requester = contents.Requester,
            Quorum = contents.Quorum,
            Replicas = contents.Replicas,
            HostSet = contents.HostSet,
        };
        if (!Ed25519Key.Verify(contents.RequesterPublicKey, SignedBytes(contents.SignedBody), contents.Signature))
        {
            return Result("the requester's signature over the certificate does not verify");
        }
        if (first is null)
        {
            return Result("the certificate holds no commit");
        }
        if (contents.Quorum < 1 || contents.Quorum > contents.HostSet.Count || contents.Replicas < contents.Quorum)
        {
            return Result($"the signed quorum {contents.Quorum} does not fit {contents.HostSet.Count} host(s) and {contents.Replicas} replica(s)");
        }
        foreach (var c in commits)
        {
            if (!c.VerifySignature())
            {
                return Result($"the commit of {c.HostNodeId} has an invalid signature");
            }
            if (c.RequesterNodeId != contents.Requester)
            {
                return Result($"the commit of {c.HostNodeId} was made for another requester");
            }
            if (c.JobId != first.JobId || c.QueryHash != first.QueryHash || !c.AgreesWith(first))
            {
                return Result($"the commit of {c.HostNodeId} does not state the same job and result");
            }
            if (!contents.HostSet.Contains(c.HostNodeId, StringComparer.Ordinal))
            {
                return Result($"the commit of {c.HostNodeId} is from a host outside the signed host set");
            }
        }
        if (hosts.Distinct(StringComparer.Ordinal).Count() != hosts.Count)
        {
            return Result("a host appears twice");
        }
        var needed = Math.Max(contents.Quorum, minimumQuorum);
        if (commits.Count < needed)
        {
            return Result($"{commits.Count} commit(s), quorum {needed}");
        }
        if (expectedResultHash is not null && !string.Equals(expectedResultHash, first.ResultHash, StringComparison.OrdinalIgnoreCase))
        {
            return Result("the certificate is for a different result hash");
        }
        return Result(null);
    }
}

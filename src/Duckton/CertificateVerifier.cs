using Duckton.Core.Hashing;
using Duckton.Core.Protocol;

namespace Duckton;

/// <summary>What <see cref="CertificateVerifier"/> established about a certificate.</summary>
/// <param name="IsValid">True when every check passed.</param>
/// <param name="Error">The first check that failed; null when valid.</param>
/// <param name="JobId">The job the commits are for.</param>
/// <param name="QueryHash">The query hash the hosts committed to (hex).</param>
/// <param name="ResultHash">The result hash the hosts committed to (hex).</param>
/// <param name="RowCount">The row count the hosts committed to.</param>
/// <param name="Hosts">The node ids of the committing hosts.</param>
public sealed record CertificateVerification(bool IsValid, string? Error, string JobId, string QueryHash, string ResultHash, long RowCount, IReadOnlyList<string> Hosts);

/// <summary>
/// Checks a result certificate offline, with no node running: the check a third party makes on a result someone
/// else received. A certificate (<see cref="QueryVerification.Certificate"/>) holds the agreeing hosts' signed
/// commits; it is valid when every Ed25519 signature verifies under its host's key (the node id is derived from the
/// key), the hosts are distinct, all commit the same job, query, requester, input and result, there are at least
/// <c>quorum</c> of them, and the result they state is the rows at hand.
/// </summary>
/// <remarks>
/// What it cannot prove: that the hosts are independent of each other (anyone can mint keys; whether to believe the
/// signers is the trust a node builds from receipts), or that the SQL text is the one you think (compare
/// <see cref="CertificateVerification.QueryHash"/> with the job's).
/// </remarks>
public static class CertificateVerifier
{
    /// <summary>Checks <paramref name="certificate"/> against the rows of <paramref name="result"/>.</summary>
    /// <param name="certificate">The <c>dcc2:</c> text.</param>
    /// <param name="result">The rows the certificate should vouch for (their canonical hash is recomputed here).</param>
    /// <param name="quorum">How many agreeing hosts you require.</param>
    public static CertificateVerification Verify(string certificate, QueryResult result, int quorum)
    {
        ArgumentNullException.ThrowIfNull(result);
        var hash = ComputeResultHash(result);
        var check = Verify(certificate, hash, quorum);
        if (check.IsValid && check.RowCount != result.RowCount)
        {
            return check with { IsValid = false, Error = $"the certificate states {check.RowCount} rows, the result has {result.RowCount}" };
        }
        return check;
    }

    /// <summary>Checks <paramref name="certificate"/> against a result hash you computed yourself (lowercase hex).</summary>
    public static CertificateVerification Verify(string certificate, string expectedResultHash, int quorum)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(expectedResultHash);
        ArgumentOutOfRangeException.ThrowIfLessThan(quorum, 1);
        var c = CommitCertificate.Verify(certificate.Trim(), quorum, expectedResultHash);
        return new CertificateVerification(c.Valid, c.Error, c.JobId, c.QueryHash, c.ResultHash, checked((long)c.RowCount), c.Hosts);
    }

    /// <summary>Checks only the certificate itself (signatures, agreement, quorum), whatever rows it vouches for.</summary>
    public static CertificateVerification Verify(string certificate, int quorum)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentOutOfRangeException.ThrowIfLessThan(quorum, 1);
        var c = CommitCertificate.Verify(certificate.Trim(), quorum);
        return new CertificateVerification(c.Valid, c.Error, c.JobId, c.QueryHash, c.ResultHash, checked((long)c.RowCount), c.Hosts);
    }

    /// <summary>The canonical, order-independent BLAKE3 hash of a result's rows and schema (lowercase hex): what hosts commit.</summary>
    public static string ComputeResultHash(QueryResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return CanonicalResultHash.Compute(result.Raw).ToString();
    }
}

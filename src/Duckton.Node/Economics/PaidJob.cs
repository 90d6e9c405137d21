using System.Globalization;

namespace Duckton.Node.Economics;

/// <summary>A verified paid job to settle: the agreed hash, the winner and its signed bill, and the agreeing verifiers.</summary>
public sealed record PaidJob(string JobId, string AgreedHash, string WinnerNodeId, byte[] WinnerPublicKey, ulong BaseNanoton,
    IReadOnlyList<(string NodeId, byte[] PublicKey)> Verifiers)
{
    /// <summary>The escrow funded after the quorum, before the rows were fetched (null: none was).</summary>
    public PendingEscrow? Funded { get; init; }
}

/// <summary>How a paid job was paid: <c>p2p_query_meta</c>'s <c>payment</c> group.</summary>
public sealed record PaymentReport
{
    public string Mode { get; init; } = "paid";
    public string? Escrow { get; init; }
    public long LockedNanoton { get; init; }
    public IReadOnlyList<EscrowLeg> Legs { get; init; } = [];

    /// <summary>The part of the amount locked that no leg took (it returns to the requester with the escrow's remainder).</summary>
    public long RefundNanoton { get; init; }
    public string? State { get; init; }
    public string? OpenTx { get; init; }
    public string? SettleTx { get; init; }
    public string? Error { get; init; }

    public IEnumerable<(string Group, string Key, string? Value)> ToRows()
    {
        const string g = "payment";
        yield return (g, "mode", Mode);
        yield return (g, "state", State ?? "not settled");
        yield return (g, "escrow", Escrow ?? "<none>");
        yield return (g, "locked_nanoton", LockedNanoton.ToString(CultureInfo.InvariantCulture));
        var commissions = 0;
        foreach (var l in Legs)
        {
            var key = l.Role == "commission" ? $"leg_commission_{++commissions}" : "leg_" + l.Role;
            yield return (g, key, $"{l.To} {l.Nanoton.ToString(CultureInfo.InvariantCulture)}");
        }
        yield return (g, "refund_nanoton", RefundNanoton.ToString(CultureInfo.InvariantCulture));
        yield return (g, "open_tx", OpenTx ?? "<none>");
        yield return (g, "settle_tx", SettleTx ?? "<none>");
        if (Error is not null)
        {
            yield return (g, "settle_error", Error);
        }
    }
}

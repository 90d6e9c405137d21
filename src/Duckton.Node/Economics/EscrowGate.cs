using Duckton.Core.Protocol;
using Duckton.Ton;
using Duckton.Ton.Addresses;
using Duckton.Ton.Contracts;
using Duckton.Ton.Rpc;
using Duckton.Ton.Wallets;

namespace Duckton.Node.Economics;

/// <summary>One agreeing host a paid job's escrow may pay: its node id, Ed25519 key (its wallet is derived from it) and signed bill.</summary>
public sealed record EscrowPayee(string NodeId, byte[] PublicKey, ulong ClaimNanoton);

/// <summary>What the requester funds after the quorum: the agreed hash and the agreeing hosts, the planned winner first.</summary>
public sealed record EscrowFunding(string JobId, string AgreedHash, IReadOnlyList<EscrowPayee> Payees);

/// <summary>What a host knows when a Fetch for its committed paid job arrives.</summary>
public sealed record EscrowCheckRequest(string JobId, ulong BillNanoton, string ResultHash, FetchEscrow? Escrow);

/// <summary>
/// The host's side of a paid job on chain: before it streams a row of a job it bills for, it rebuilds the escrow's address
/// from the terms the Fetch names and checks, on chain, that the escrow there is funded for it. Nothing in the Fetch is
/// trusted: every term is either checked against what the host itself committed or is part of the address it reads.
/// </summary>
public static class EscrowGate
{
    /// <summary>The least time a host accepts between now and the escrow's deadline: from the deadline on the requester can refund.</summary>
    public static readonly TimeSpan MinimumRemainingWindow = TimeSpan.FromSeconds(300);

    /// <summary>The Fetch escrow field of an opened escrow.</summary>
    public static FetchEscrow ToWire(PendingEscrow e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return new FetchEscrow(Wire(TonAddress.Parse(e.Requester)), Wire(TonAddress.Parse(e.Arbiter)), Wire(TonAddress.Parse(e.Treasury)), (ulong)e.AmountNanoton, e.Deadline,
            Convert.FromHexString(e.ExpectedHash), e.ParamsVersion, e.PlatformFeeBps, e.CommissionBps, [.. e.Candidates().Select(Wire)]);

        static WireAccount Wire(TonAddress a) => new((sbyte)a.Workchain, a.Hash.ToArray());
    }

    /// <summary>The contract configuration and candidates a Fetch escrow field describes.</summary>
    public static (JobEscrowConfig Config, IReadOnlyList<TonAddress> Candidates) FromWire(FetchEscrow w)
    {
        ArgumentNullException.ThrowIfNull(w);
        var candidates = w.Candidates.Select(Address).ToList();
        var config = new JobEscrowConfig(Address(w.Requester), Address(w.Arbiter), Coins.FromNanoton(w.AmountNanoton), w.Deadline,
            new EscrowTerms(Address(w.Treasury), w.ExpectedHash, JobEscrow.CandidatesHash(candidates), w.ParamsVersion, w.PlatformFeeBps, w.CommissionBps));
        return (config, candidates);

        static TonAddress Address(WireAccount a) => new(a.Workchain, a.Hash);
    }

    /// <summary>
    /// Why this host must not stream the rows of <paramref name="request"/>, or null when the escrow is funded for its bill:
    /// named (not funded), terms that are not this job's or not this host's (wrong terms), or too little locked (below its bill).
    /// Every chain read is bounded by <c>economics.rpc_timeout_ms</c>.
    /// </summary>
    public static async Task<string?> ProblemAsync(EconomicsRuntime runtime, byte[] hostPublicKey, EscrowCheckRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(hostPublicKey);
        ArgumentNullException.ThrowIfNull(request);
        var bill = Coins.FromNanoton(request.BillNanoton);
        if (request.Escrow is not { } wire)
        {
            return $"not funded: this host bills {bill.ToTonString()} TON for job {request.JobId} and streams its rows only against a funded JobEscrow, and the Fetch names none";
        }
        var (config, candidates) = FromWire(wire);
        var payee = new WalletV5R1(hostPublicKey, 0, runtime.NetworkGlobalId).Address;
        var expected = Duckton.Core.Hashing.Blake3.Hash(System.Text.Encoding.UTF8.GetBytes(request.ResultHash));
        if (!expected.AsSpan().SequenceEqual(wire.ExpectedHash))
        {
            return "wrong terms: the escrow's expected hash is not BLAKE3 of the result hash this host committed";
        }
        if (!candidates.Contains(payee))
        {
            return $"wrong terms: this host's wallet {payee.ToRaw()} is not among the escrow's payees";
        }
        if (candidates.Distinct().Count() != candidates.Count)
        {
            return "wrong terms: the escrow names a payee twice";
        }
        var needed = JobEscrow.RequiredTotal(bill, candidates.Count - 1, wire.PlatformFeeBps, wire.CommissionBps);
        if (config.EscrowAmount < needed)
        {
            return $"below its bill: the escrow locks {config.EscrowAmount.ToTonString()} TON, less than the {needed.ToTonString()} TON this host's bill of {bill.ToTonString()} TON "
                + $"needs with the platform fee and {candidates.Count - 1} verifier commission(s)";
        }
        try
        {
            if (runtime.Settings.Contracts.GlobalParams.Length > 0)
            {
                // The fee and commission rates the contract will demand at settle are the terms': they must be the ones in force.
                var (_, gp) = await runtime.GlobalParamsAsync(ct).ConfigureAwait(false);
                if (gp.Params.PlatformFeeBps != wire.PlatformFeeBps || gp.Params.ParticipationCommissionBps != wire.CommissionBps || gp.FeeRecipient != config.Terms.Treasury)
                {
                    return $"wrong terms: the escrow's fee {wire.PlatformFeeBps} bps, commission {wire.CommissionBps} bps and treasury {config.Terms.Treasury.ToRaw()} "
                        + $"are not GlobalParams' ({gp.Params.PlatformFeeBps} bps, {gp.Params.ParticipationCommissionBps} bps, {gp.FeeRecipient.ToRaw()})";
                }
            }
            var now = await runtime.ChainNowAsync(ct).ConfigureAwait(false);
            if (wire.Deadline < now + (long)MinimumRemainingWindow.TotalSeconds)
            {
                return $"wrong terms: the escrow can be refunded from {DateTimeOffset.FromUnixTimeSeconds(wire.Deadline):yyyy-MM-dd HH:mm:ss} UTC, "
                    + $"less than {MinimumRemainingWindow.TotalSeconds:0} s from now: the requester could take the rows and its money back";
            }
            var problem = await EscrowSettlement.FundedProblemAsync(runtime.Client, config, candidates, payee, ct).ConfigureAwait(false);
            return problem is null ? null : "not funded: " + problem;
        }
        catch (Exception e) when (e is EconomicsException or ToncenterException or TonFormatException or IOException or HttpRequestException or TaskCanceledException)
        {
            if (ct.IsCancellationRequested)
            {
                throw;
            }
            // Fail closed: rows are released only against an escrow this host has seen funded.
            return $"not funded as far as this host can tell: the chain could not be read ({e.Message})";
        }
    }
}

using System.Numerics;
using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Duckton.Ton.Rpc;

namespace Duckton.Ton.Contracts;

/// <summary>The terms bound into an escrow's address (the data cell's <c>^Terms</c>).</summary>
/// <param name="Treasury">Receives the platform fee (GlobalParams' fee recipient at open).</param>
/// <param name="ExpectedHash">The agreed result hash (32 bytes).</param>
/// <param name="CandidatesHash">Hash of the candidates map cell (<see cref="JobEscrow.CandidatesHash"/>).</param>
/// <param name="ParamsVersion">GlobalParams version the terms were read at.</param>
/// <param name="PlatformFeeBps">φ.</param>
/// <param name="CommissionBps">κ.</param>
public sealed record EscrowTerms(TonAddress Treasury, byte[] ExpectedHash, byte[] CandidatesHash, uint ParamsVersion, ushort PlatformFeeBps,
    ushort CommissionBps);

/// <summary>Everything that determines an escrow (and so its address).</summary>
public sealed record JobEscrowConfig(TonAddress Requester, TonAddress Arbiter, Coins EscrowAmount, uint Deadline, EscrowTerms Terms);

/// <summary>What <c>get_escrow_state</c> returns.</summary>
public sealed record EscrowState(Coins EscrowAmount, uint Deadline, bool Settled, uint ParamsVersion);

/// <summary>Message bodies, state init and getters of the JobEscrow contract (one per paid job); layouts as in docs/TON.md.</summary>
public static class JobEscrow
{
    public const uint OpTopUp = 0x45534300;
    public const uint OpSettle = 0x45534302;
    public const uint OpRefund = 0x45534303;
    public const uint OpClaim = 0x45534304;
    public const uint OpPayout = 0x45534305;

    /// <summary>The 0.05 TON an escrow keeps after settling or refunding.</summary>
    public static readonly Coins StorageReserve = Coins.FromNanoton(50_000_000L);

    public static Cell InitialData(JobEscrowConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var t = config.Terms;
        var terms = new CellBuilder()
            .StoreAddress(t.Treasury)
            .StoreBytes(Hash32(t.ExpectedHash, "expected hash"))
            .StoreBytes(Hash32(t.CandidatesHash, "candidates hash"))
            .StoreUInt(t.ParamsVersion, 32)
            .StoreUInt(t.PlatformFeeBps, 16)
            .StoreUInt(t.CommissionBps, 16)
            .EndCell();
        return new CellBuilder()
            .StoreAddress(config.Requester)
            .StoreAddress(config.Arbiter)
            .StoreCoins(config.EscrowAmount)
            .StoreUInt(config.Deadline, 32)
            .StoreBit(false)
            .StoreRef(terms)
            .StoreBit(false)
            .EndCell();
    }

    public static StateInit StateInit(JobEscrowConfig config) => new(ContractCode.JobEscrow, InitialData(config));

    public static TonAddress Address(JobEscrowConfig config) => StateInit(config).Address();

    /// <summary>The cell holding only the candidates map (<c>map&lt;address, uint1&gt;</c>, every value 1).</summary>
    public static Cell CandidatesCell(IEnumerable<TonAddress> candidates) =>
        TonDictionary.DictionaryCell(267, CandidateEntries(candidates));

    public static byte[] CandidatesHash(IEnumerable<TonAddress> candidates) => CandidatesCell(candidates).HashBytes();

    public static Cell TopUp(ulong queryId = 0) => new CellBuilder().StoreUInt(OpTopUp, 32).StoreUInt(queryId, 64).EndCell();

    public static Cell Refund(ulong queryId = 0) => new CellBuilder().StoreUInt(OpRefund, 32).StoreUInt(queryId, 64).EndCell();

    public static Cell Claim(TonAddress recipient, ulong queryId = 0) =>
        new CellBuilder().StoreUInt(OpClaim, 32).StoreUInt(queryId, 64).StoreAddress(recipient).EndCell();

    /// <summary>The settle body. <paramref name="participants"/> maps each paid verifier to its commission.</summary>
    public static Cell Settle(byte[] resultHash, TonAddress winner, Coins baseAmount, Coins winnerAmount, Coins platformFee,
        IReadOnlyDictionary<TonAddress, Coins> participants, IReadOnlyCollection<TonAddress> candidates, ulong queryId = 0)
    {
        ArgumentNullException.ThrowIfNull(participants);
        var participantEntries = participants
            .Select(p => new TonDictionary.Entry(TonDictionary.AddressKey(p.Key), b => b.StoreCoins(p.Value)))
            .ToArray();
        return new CellBuilder()
            .StoreUInt(OpSettle, 32)
            .StoreUInt(queryId, 64)
            .StoreBytes(Hash32(resultHash, "result hash"))
            .StoreAddress(winner)
            .StoreCoins(baseAmount)
            .StoreCoins(winnerAmount)
            .StoreCoins(platformFee)
            .StoreDictionary(267, participantEntries)
            .StoreDictionary(267, CandidateEntries(candidates))
            .EndCell();
    }

    /// <summary>floor(base·φ/10000), exactly as the contract checks it (285).</summary>
    public static Coins PlatformFee(Coins baseAmount, ushort feeBps) => Coins.FromNanoton((BigInteger)baseAmount.Nanoton * feeBps / 10_000);

    /// <summary>floor(base·κ/10000), each agreeing wallet-holding verifier's commission (286).</summary>
    public static Coins Commission(Coins baseAmount, ushort commissionBps) => Coins.FromNanoton((BigInteger)baseAmount.Nanoton * commissionBps / 10_000);

    /// <summary>base + fee + N·commission: what B must cover (226 otherwise).</summary>
    public static Coins RequiredTotal(Coins baseAmount, int paidVerifiers, ushort feeBps, ushort commissionBps) =>
        Coins.FromNanoton((BigInteger)baseAmount.Nanoton + PlatformFee(baseAmount, feeBps).Nanoton
            + (BigInteger)Commission(baseAmount, commissionBps).Nanoton * paidVerifiers);

    public static EscrowState ParseState(GetMethodResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.ExitCode != 0 || r.Stack.Count < 4)
        {
            throw new TonFormatException($"get_escrow_state failed (exit code {r.ExitCode}, {r.Stack.Count} stack items)");
        }
        return new EscrowState(Coins.FromNanoton(r.Number(0)), (uint)r.Number(1), !r.Number(2).IsZero, (uint)r.Number(3));
    }

    private static TonDictionary.Entry[] CandidateEntries(IEnumerable<TonAddress> candidates) =>
        candidates.Select(c => new TonDictionary.Entry(TonDictionary.AddressKey(c), b => b.StoreUInt(1, 1))).ToArray();

    internal static byte[] Hash32(byte[] hash, string what) =>
        hash is { Length: 32 } ? hash : throw new ArgumentException($"the {what} must be 32 bytes", nameof(hash));
}

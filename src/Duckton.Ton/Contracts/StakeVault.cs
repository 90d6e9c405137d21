using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;
using Duckton.Ton.Rpc;

namespace Duckton.Ton.Contracts;

/// <summary>Where a slash goes, in basis points that must sum to 10000 (207 otherwise).</summary>
public sealed record SlashSplit(TonAddress Treasury, TonAddress RedundancyPool, ushort ChallengerBps = 4000, ushort RedundancyBps = 3000,
    ushort BurnBps = 2000, ushort TreasuryBps = 1000);

/// <summary>A vault's fixed configuration (part of its address).</summary>
public sealed record VaultConfig(Coins MinStake, uint UnbondingPeriod, TonAddress Slasher, SlashSplit Split)
{
    public const uint SevenDays = 604_800;
}

/// <summary>What <c>get_vault_state</c> returns.</summary>
public sealed record VaultState(Coins Staked, Coins Unbonding, uint UnbondingAt, uint ReadyAt, bool Eligible);

/// <summary>Message bodies, state init and getters of the StakeVault contract (one per node).</summary>
public static class StakeVault
{
    public const uint OpTopUp = 0x534b4b00;
    public const uint OpDeposit = 0x534b4b01;
    public const uint OpRequestUnbond = 0x534b4b02;
    public const uint OpWithdraw = 0x534b4b03;
    public const uint OpSlash = 0x534b4b05;
    public const uint OpClaim = 0x534b4b0a;
    public const uint OpPayout = 0x534b4b0b;

    /// <summary>A deposit must carry amount + this (137 otherwise).</summary>
    public static readonly Coins DepositGasFloor = Coins.FromNanoton(50_000_000L);

    public static Cell InitialData(TonAddress owner, VaultConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var s = config.Split;
        var split = new CellBuilder()
            .StoreAddress(s.Treasury)
            .StoreAddress(s.RedundancyPool)
            .StoreUInt(s.ChallengerBps, 16)
            .StoreUInt(s.RedundancyBps, 16)
            .StoreUInt(s.BurnBps, 16)
            .StoreUInt(s.TreasuryBps, 16)
            .EndCell();
        var cfg = new CellBuilder()
            .StoreCoins(config.MinStake)
            .StoreUInt(config.UnbondingPeriod, 32)
            .StoreAddress(config.Slasher)
            .StoreRef(split)
            .EndCell();
        return new CellBuilder()
            .StoreAddress(owner)
            .StoreCoins(Coins.Zero)
            .StoreCoins(Coins.Zero)
            .StoreUInt(0, 32)
            .StoreRef(cfg)
            .StoreBit(false)
            .EndCell();
    }

    public static StateInit StateInit(TonAddress owner, VaultConfig config) => new(ContractCode.StakeVault, InitialData(owner, config));

    public static Cell TopUp(ulong queryId = 0) => new CellBuilder().StoreUInt(OpTopUp, 32).StoreUInt(queryId, 64).EndCell();

    public static Cell Deposit(Coins amount, ulong queryId = 0) =>
        new CellBuilder().StoreUInt(OpDeposit, 32).StoreUInt(queryId, 64).StoreCoins(amount).EndCell();

    public static Cell RequestUnbond(Coins amount, ulong queryId = 0) =>
        new CellBuilder().StoreUInt(OpRequestUnbond, 32).StoreUInt(queryId, 64).StoreCoins(amount).EndCell();

    public static Cell Withdraw(ulong queryId = 0) => new CellBuilder().StoreUInt(OpWithdraw, 32).StoreUInt(queryId, 64).EndCell();

    /// <summary>Reason codes: 1 wrong result, 2 cheat, 3 downtime, 4 equivocation, 5 anchor fault, 6 failed commitment.</summary>
    public static Cell Slash(Coins amount, byte reason, TonAddress challenger, ulong queryId = 0) => new CellBuilder()
        .StoreUInt(OpSlash, 32).StoreUInt(queryId, 64).StoreCoins(amount).StoreUInt(reason, 8).StoreAddress(challenger).EndCell();

    public static Cell Claim(TonAddress recipient, ulong queryId = 0) =>
        new CellBuilder().StoreUInt(OpClaim, 32).StoreUInt(queryId, 64).StoreAddress(recipient).EndCell();

    /// <summary>floor(amount·bps/10000): one leg of a slash.</summary>
    public static Coins SlashShare(Coins amount, ushort bps) => Coins.FromNanoton((System.Numerics.BigInteger)amount.Nanoton * bps / 10_000);

    public static VaultState ParseState(GetMethodResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        if (r.ExitCode != 0 || r.Stack.Count < 5)
        {
            throw new TonFormatException($"get_vault_state failed (exit code {r.ExitCode}, {r.Stack.Count} stack items)");
        }
        return new VaultState(Coins.FromNanoton(r.Number(0)), Coins.FromNanoton(r.Number(1)), (uint)r.Number(2), (uint)r.Number(3), !r.Number(4).IsZero);
    }
}

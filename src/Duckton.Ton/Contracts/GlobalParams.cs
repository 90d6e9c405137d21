using Duckton.Ton.Addresses;
using Duckton.Ton.Cells;

namespace Duckton.Ton.Contracts;

/// <summary>The platform's economic parameters (the <c>EcoParams</c> cell), with the defaults.</summary>
public sealed record EcoParams(
    ushort PlatformFeeBps = 1500,
    ushort ParticipationCommissionBps = 500,
    ushort SurchargeBps = 500,
    ushort SlashWrongBps = 1500,
    ushort SlashCheatBps = 10000,
    ushort SlashDowntimeBps = 200,
    ushort SlashEquivocationBps = 5000,
    ushort SlashFailedCommitmentBps = 1000,
    ushort SplitChallengerBps = 4000,
    ushort SplitRedundancyBps = 3000,
    ushort SplitBurnBps = 2000,
    ushort SplitTreasuryBps = 1000,
    Coins MinStake = default,
    uint UnbondingSecs = 604_800,
    uint ChallengeWindowSecs = 86_400)
{
    public Cell ToCell() => new CellBuilder()
        .StoreUInt(PlatformFeeBps, 16).StoreUInt(ParticipationCommissionBps, 16).StoreUInt(SurchargeBps, 16)
        .StoreUInt(SlashWrongBps, 16).StoreUInt(SlashCheatBps, 16).StoreUInt(SlashDowntimeBps, 16).StoreUInt(SlashEquivocationBps, 16)
        .StoreUInt(SlashFailedCommitmentBps, 16).StoreUInt(SplitChallengerBps, 16).StoreUInt(SplitRedundancyBps, 16)
        .StoreUInt(SplitBurnBps, 16).StoreUInt(SplitTreasuryBps, 16)
        .StoreCoins(MinStake).StoreUInt(UnbondingSecs, 32).StoreUInt(ChallengeWindowSecs, 32)
        .EndCell();
}

/// <summary>Message bodies and state init of the GlobalParams singleton.</summary>
public static class GlobalParams
{
    public const uint OpTopUp = 0x47504100;
    public const uint OpUpdateParams = 0x47504101;
    public const uint OpUpdateAdmin = 0x47504102;

    public static Cell InitialData(TonAddress admin, TonAddress feeRecipient, EcoParams parameters) => new CellBuilder()
        .StoreAddress(admin).StoreAddress(feeRecipient).StoreRef(parameters.ToCell()).StoreUInt(0, 32).EndCell();

    public static StateInit StateInit(TonAddress admin, TonAddress feeRecipient, EcoParams parameters) =>
        new(ContractCode.GlobalParams, InitialData(admin, feeRecipient, parameters));

    public static Cell UpdateParams(TonAddress feeRecipient, EcoParams parameters, ulong queryId = 0) => new CellBuilder()
        .StoreUInt(OpUpdateParams, 32).StoreUInt(queryId, 64).StoreAddress(feeRecipient).StoreRef(parameters.ToCell()).EndCell();

    public static Cell UpdateAdmin(TonAddress newAdmin, ulong queryId = 0) =>
        new CellBuilder().StoreUInt(OpUpdateAdmin, 32).StoreUInt(queryId, 64).StoreAddress(newAdmin).EndCell();
}

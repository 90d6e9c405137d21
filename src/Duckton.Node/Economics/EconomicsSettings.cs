using Duckton.Core.Configuration;
using Duckton.Ton;
using Duckton.Ton.Contracts;

namespace Duckton.Node.Economics;

/// <summary>The addresses of the contracts this node uses on its network (empty = none yet).</summary>
public sealed record ContractAddresses(string GlobalParams, string RecordAnchor, string StakeVault);

/// <summary>
/// What the economics runtime needs from the configuration, resolved for the selected network: where the chain's API
/// is, which wallet and contracts this node uses, and the local values of the on-chain parameters.
/// </summary>
public sealed record EconomicsSettings
{
    /// <summary>The local chain's default API (what <c>duckton chain up</c> listens on without --port).</summary>
    public static readonly Uri LocalDefaultRpc = new("http://127.0.0.1:8081/api/v2");

    public required TonNetwork Network { get; init; }

    public required Uri Rpc { get; init; }

    /// <summary>The API key (never printed; ToString leaves it out).</summary>
    public string? ApiKey { get; init; }

    public required TimeSpan RpcTimeout { get; init; }

    public required string MnemonicFile { get; init; }

    public required string WalletAddress { get; init; }

    public required ContractAddresses Contracts { get; init; }

    /// <summary>Fee recipient from the configuration; empty = this node's wallet.</summary>
    public required string FeeRecipient { get; init; }

    /// <summary>The configuration's values of the parameters GlobalParams holds on chain.</summary>
    public required EcoParams LocalParams { get; init; }

    /// <summary>The name <c>p2p_status</c> shows: <c>local-emulator</c>, <c>testnet</c> or <c>mainnet</c>.</summary>
    public string NetworkName => NameOf(Network);

    /// <summary>The configuration key prefix of the selected network's section (<c>economics.local.</c>, ...).</summary>
    public string SectionPrefix => "economics." + Network.ToConfigString() + ".";

    public static string NameOf(TonNetwork network) => network == TonNetwork.Local ? "local-emulator" : network.ToConfigString();

    public override string ToString() => $"EconomicsSettings {{ Network = {NetworkName}, Rpc = {Rpc}, ApiKey = {(ApiKey is null ? "none" : "set")} }}";

    /// <summary>Resolves the settings of the configured network.</summary>
    public static EconomicsSettings From(NodeConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var e = c.Economics;
        // Each network's section spelled out, so the reads are visible per key.
        var (rpc, apiKey, apiKeyFile, contracts, wallet) = e.Network switch
        {
            TonNetwork.Local => (e.Local.Rpc, e.Local.ApiKey, e.Local.ApiKeyFile, e.Local.Contracts, e.Local.Wallet),
            TonNetwork.Mainnet => (e.Mainnet.Rpc, e.Mainnet.ApiKey, e.Mainnet.ApiKeyFile, e.Mainnet.Contracts, e.Mainnet.Wallet),
            _ => (e.Testnet.Rpc, e.Testnet.ApiKey, e.Testnet.ApiKeyFile, e.Testnet.Contracts, e.Testnet.Wallet),
        };
        var endpoint = rpc.Trim().Length > 0 ? new Uri(rpc.Trim())
            : e.Network switch
            {
                TonNetwork.Local => LocalDefaultRpc,
                TonNetwork.Mainnet => new Uri("https://toncenter.com/api/v2"),
                _ => new Uri("https://testnet.toncenter.com/api/v2"),
            };
        string? key = apiKey.Length > 0 ? apiKey : null;
        if (key is null && apiKeyFile.Length > 0)
        {
            key = ReadApiKey(apiKeyFile);
        }
        return new EconomicsSettings
        {
            Network = e.Network,
            Rpc = endpoint,
            ApiKey = key,
            RpcTimeout = e.RpcTimeout,
            MnemonicFile = wallet.MnemonicFile,
            WalletAddress = wallet.Address,
            Contracts = new ContractAddresses(contracts.GlobalParams, contracts.RecordAnchor, contracts.StakeVault),
            FeeRecipient = e.FeeRecipient.Trim(),
            LocalParams = LocalParamsOf(c),
        };
    }

    /// <summary>The configuration's fee, slashing and stake values in the units GlobalParams stores (bps, nanoton, seconds).</summary>
    public static EcoParams LocalParamsOf(NodeConfig c)
    {
        ArgumentNullException.ThrowIfNull(c);
        var fees = c.Economics.Fees;
        var slashing = c.Economics.Slashing;
        var stake = c.Economics.Stake;
        return new EcoParams(
            PlatformFeeBps: Bps(fees.PlatformFeePct),
            ParticipationCommissionBps: Bps(fees.ParticipationCommissionFrac),
            SurchargeBps: Bps(fees.VerificationSurchargePct),
            SlashWrongBps: Bps(slashing.SlashWrongResultPct),
            SlashCheatBps: Bps(slashing.SlashCheatPct),
            SlashDowntimeBps: Bps(slashing.SlashDowntimePct),
            SlashEquivocationBps: Bps(slashing.SlashEquivocationPct),
            SlashFailedCommitmentBps: Bps(slashing.SlashFailedCommitmentPct),
            SplitChallengerBps: Bps(slashing.SlashToChallenger),
            SplitRedundancyBps: Bps(slashing.SlashToRedundancy),
            SplitBurnBps: Bps(slashing.SlashToBurn),
            SplitTreasuryBps: Bps(slashing.SlashToTreasury),
            MinStake: Coins.FromNanoton((System.Numerics.BigInteger)stake.MinStake * 1_000_000_000),
            UnbondingSecs: (uint)Math.Min(uint.MaxValue, stake.Unbonding.TotalSeconds),
            ChallengeWindowSecs: (uint)Math.Min(uint.MaxValue, slashing.ChallengeWindow.TotalSeconds));
    }

    /// <summary>A fraction (0.15) as basis points (1500), rounded to the nearest.</summary>
    public static ushort Bps(double fraction) => (ushort)Math.Clamp(Math.Round(fraction * 10_000, MidpointRounding.AwayFromZero), 0, 10_000);

    private static string ReadApiKey(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The path is configuration, not a secret; the key itself never appears.
            throw new EconomicsException($"the API key file {path} is unreadable: {e.Message}", e);
        }
    }
}

/// <summary>A user-facing economics error: its message says what is wrong and what to do.</summary>
internal class EconomicsException : Exception
{
    public EconomicsException(string message) : base(message)
    {
    }

    public EconomicsException(string message, Exception inner) : base(message, inner)
    {
    }

    public EconomicsException()
    {
    }
}

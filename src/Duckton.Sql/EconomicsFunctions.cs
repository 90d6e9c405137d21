using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.DuckDB.Functions;
using Duckton.Node.Economics;
using Duckton.Ton;

namespace Duckton.Sql;

/// <summary>Shared plumbing of the chain-facing functions: the runtime (or the economics-off error) and error wording.</summary>
internal static class Chain
{
    public static T Run<T>(NodeHost host, string function, Func<EconomicsRuntime, CancellationToken, Task<T>> call, CancellationToken ct)
    {
        try
        {
            var runtime = host.Economics.Runtime();
            return call(runtime, ct).GetAwaiter().GetResult();
        }
        catch (EconomicsException e)
        {
            throw new SqlFunctionException($"{function}: {e.Message}", e);
        }
        catch (ConfigException e)
        {
            throw new SqlFunctionException($"{function}: {e.Message}", e);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw new SqlFunctionException($"{function}: interrupted");
        }
    }

    public static Coins Amount(string function, object? value)
    {
        if (value is not double d || double.IsNaN(d) || double.IsInfinity(d) || d < 0)
        {
            throw new SqlFunctionException($"{function}: the amount must be a non-negative number of TON, e.g. {function}(1.5)");
        }
        try
        {
            return Coins.FromTon(Math.Round((decimal)d, 9));
        }
        catch (Exception e) when (e is TonFormatException or OverflowException)
        {
            throw new SqlFunctionException($"{function}: {e.Message}", e);
        }
    }

    public static DateTimeOffset? At(uint unix) => unix == 0 ? null : DateTimeOffset.FromUnixTimeSeconds(unix);
}

/// <summary><c>p2p_economics(enabled, network, rpc, rail, default_payment, confirm_mainnet)</c>: shows and sets the economics switches.</summary>
internal sealed class EconomicsFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_economics";

    public override IReadOnlyList<TableFunctionParameter> Named =>
    [
        new("enabled", ParameterKind.Boolean),
        new("network", ParameterKind.Varchar),
        new("rpc", ParameterKind.Varchar),
        new("rail", ParameterKind.Varchar),
        new("default_payment", ParameterKind.Varchar),
        new("confirm_mainnet", ParameterKind.Boolean),
    ];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var changes = new List<KeyValuePair<string, string>>();
        if (a.GetBoolean("enabled") is { } enabled)
        {
            changes.Add(new("economics.enabled", AdminRows.Text(enabled)));
        }
        if (a.GetBoolean("confirm_mainnet") is { } confirm)
        {
            changes.Add(new("economics.mainnet_confirmed", AdminRows.Text(confirm)));
        }
        EffectiveConfig current;
        try
        {
            current = host.Config.Effective();
        }
        catch (ConfigException e)
        {
            throw new SqlFunctionException($"{Name}: the configuration is invalid: {e.Message}", e);
        }
        var network = current.Config.Economics.Network.ToConfigString();
        if (a.GetString("network") is { } n)
        {
            network = n.Trim().ToLowerInvariant();
            if (network == "mainnet" && a.GetBoolean("confirm_mainnet") != true && !current.Config.Economics.MainnetConfirmed)
            {
                throw new SqlFunctionException($"{Name}: mainnet puts real TON at stake: add confirm_mainnet => true to opt in");
            }
            changes.Add(new("economics.network", network));
        }
        if (a.GetString("rpc") is { } rpc)
        {
            changes.Add(new($"economics.{network}.rpc", rpc.Trim()));
        }
        if (a.GetString("rail") is { } rail)
        {
            changes.Add(new("economics.settlement", rail.Trim().ToLowerInvariant()));
        }
        if (a.GetString("default_payment") is { } pay)
        {
            changes.Add(new("economics.default_payment", pay.Trim().ToLowerInvariant()));
        }
        EffectiveConfig effective;
        try
        {
            effective = changes.Count == 0 ? current : host.Config.Set(changes);
        }
        catch (ConfigException e)
        {
            throw new SqlFunctionException($"{Name}: {e.Message}", e);
        }
        // Settings only: nothing here builds a chain client or connects anywhere.
        var c = effective.Config;
        var s = EconomicsSettings.From(c);
        var entries = effective.Entries().ToDictionary(e => $"{e.Group}.{e.Key}", e => e.Value, StringComparer.Ordinal);
        return new TypedResult()
            .Column("enabled", DuckType.Boolean)
            .Column("network", DuckType.Varchar)
            .Column("network_name", DuckType.Varchar)
            .Column("rpc", DuckType.Varchar)
            .Column("rpc_timeout_ms", DuckType.BigInt)
            .Column("rail", DuckType.Varchar)
            .Column("default_payment", DuckType.Varchar)
            .Column("mainnet_confirmed", DuckType.Boolean)
            .Column("wallet", DuckType.Varchar)
            .Column("global_params", DuckType.Varchar)
            .Column("record_anchor", DuckType.Varchar)
            .Column("stake_vault", DuckType.Varchar)
            .Row(c.Economics.Enabled, c.Economics.Network.ToConfigString(), s.NetworkName, s.Rpc.ToString(), (long)c.Economics.RpcTimeout.TotalMilliseconds,
                entries["economics.settlement"], entries["economics.default_payment"], c.Economics.MainnetConfirmed,
                Empty(s.WalletAddress), Empty(s.Contracts.GlobalParams), Empty(s.Contracts.RecordAnchor), Empty(s.Contracts.StakeVault))
            .Build();
    }

    private static string? Empty(string s) => s.Length == 0 ? null : s;
}

/// <summary><c>p2p_wallet(generate, import)</c>: the node's wallet, its address and live balance.</summary>
internal sealed class WalletFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_wallet";

    public override bool Interruptible => true;

    public override IReadOnlyList<TableFunctionParameter> Named => [new("generate", ParameterKind.Boolean), new("import", ParameterKind.Varchar), new("node_key", ParameterKind.Boolean)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var generate = a.GetBoolean("generate") == true;
        var import = a.GetString("import");
        var nodeKey = a.GetBoolean("node_key") == true;
        if ((generate ? 1 : 0) + (import is null ? 0 : 1) + (nodeKey ? 1 : 0) > 1)
        {
            throw new SqlFunctionException($"{Name}: give one of generate => true, import => '<file>' or node_key => true");
        }
        return Chain.Run(host, Name, async (rt, ct) =>
        {
            var created = false;
            if (nodeKey)
            {
                rt.UseNodeKeyAsWallet();
                created = true;
            }
            else if (generate || import is not null)
            {
                rt.CreateOrImportWallet(import?.Trim());
                created = true;
            }
            var wallet = rt.Wallet();
            var info = await rt.AccountAsync(wallet.Address, ct).ConfigureAwait(false);
            return new TypedResult()
                .Column("network", DuckType.Varchar)
                .Column("address", DuckType.Varchar)
                .Column("address_raw", DuckType.Varchar)
                .Column("state", DuckType.Varchar)
                .Column("balance_nanoton", DuckType.BigInt)
                .Column("balance_ton", DuckType.Double)
                .Column("created", DuckType.Boolean)
                .Column("mnemonic_file", DuckType.Varchar)
                .Row(rt.Settings.NetworkName, rt.Show(wallet.Address), wallet.Address.ToRaw(), info.State, EconomicsRuntime.Nano(info.Balance),
                    (double)EconomicsRuntime.Nano(info.Balance) / 1e9, created, rt.Settings.MnemonicFile)
                .Build();
        }, a.Cancellation);
    }
}

/// <summary><c>p2p_contracts(deploy)</c>: the contracts in use; deploys the singletons on the local chain.</summary>
internal sealed class ContractsFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_contracts";

    public override bool Interruptible => true;

    public override IReadOnlyList<TableFunctionParameter> Named => [new("deploy", ParameterKind.Boolean)];

    public override ResultSet Bind(TableFunctionArguments a) => Chain.Run(host, Name, async (rt, ct) =>
    {
        var rows = await rt.ContractsAsync(a.GetBoolean("deploy") == true, ct).ConfigureAwait(false);
        var t = new TypedResult()
            .Column("contract", DuckType.Varchar)
            .Column("address", DuckType.Varchar)
            .Column("code_hash", DuckType.Varchar)
            .Column("state", DuckType.Varchar)
            .Column("code_matches", DuckType.Boolean)
            .Column("deployed_now", DuckType.Boolean)
            .Column("transaction", DuckType.Varchar);
        foreach (var r in rows)
        {
            t.Row(r.Contract, r.Address, r.CodeHash.ToLowerInvariant(), r.State, r.CodeMatches, r.DeployedNow, r.Transaction);
        }
        return t.Build();
    }, a.Cancellation);
}

/// <summary><c>p2p_fees()</c> and <c>p2p_admin_params()</c>: the parameters in force on chain beside the local configuration.</summary>
internal sealed class ChainParamsFunction(NodeHost host, bool feesOnly) : TableFunctionDefinition
{
    public override string Name => feesOnly ? "p2p_fees" : "p2p_admin_params";

    public override bool Interruptible => true;

    public override ResultSet Bind(TableFunctionArguments a) => Chain.Run(host, Name, async (rt, ct) =>
    {
        var (address, gp) = await rt.GlobalParamsAsync(ct).ConfigureAwait(false);
        var on = gp.Params;
        var local = rt.Settings.LocalParams;
        var rows = new List<(string Name, long OnChain, long Local, string Unit, string Key)>
        {
            ("platform_fee", on.PlatformFeeBps, local.PlatformFeeBps, "bps", "economics.fees.platform_fee_pct"),
            ("participation_commission", on.ParticipationCommissionBps, local.ParticipationCommissionBps, "bps", "economics.fees.participation_commission_frac"),
            ("verification_surcharge", on.SurchargeBps, local.SurchargeBps, "bps", "economics.fees.verification_surcharge_pct"),
        };
        if (!feesOnly)
        {
            rows.AddRange(
            [
                ("slash_wrong_result", on.SlashWrongBps, local.SlashWrongBps, "bps", "economics.slashing.slash_wrong_result_pct"),
                ("slash_cheat", on.SlashCheatBps, local.SlashCheatBps, "bps", "economics.slashing.slash_cheat_pct"),
                ("slash_downtime", on.SlashDowntimeBps, local.SlashDowntimeBps, "bps", "economics.slashing.slash_downtime_pct"),
                ("slash_equivocation", on.SlashEquivocationBps, local.SlashEquivocationBps, "bps", "economics.slashing.slash_equivocation_pct"),
                ("slash_failed_commitment", on.SlashFailedCommitmentBps, local.SlashFailedCommitmentBps, "bps", "economics.slashing.slash_failed_commitment_pct"),
                ("split_challenger", on.SplitChallengerBps, local.SplitChallengerBps, "bps", "economics.slashing.slash_to_challenger"),
                ("split_redundancy", on.SplitRedundancyBps, local.SplitRedundancyBps, "bps", "economics.slashing.slash_to_redundancy"),
                ("split_burn", on.SplitBurnBps, local.SplitBurnBps, "bps", "economics.slashing.slash_to_burn"),
                ("split_treasury", on.SplitTreasuryBps, local.SplitTreasuryBps, "bps", "economics.slashing.slash_to_treasury"),
                ("min_stake", EconomicsRuntime.Nano(on.MinStake), EconomicsRuntime.Nano(local.MinStake), "nanoton", "economics.stake.min_stake"),
                ("unbonding", on.UnbondingSecs, local.UnbondingSecs, "s", "economics.stake.unbonding_secs"),
                ("challenge_window", on.ChallengeWindowSecs, local.ChallengeWindowSecs, "s", "economics.slashing.challenge_window_secs"),
            ]);
        }
        var t = new TypedResult()
            .Column("parameter", DuckType.Varchar)
            .Column("on_chain", DuckType.BigInt)
            .Column("local", DuckType.BigInt)
            .Column("unit", DuckType.Varchar)
            .Column("differs", DuckType.Boolean)
            .Column("config_key", DuckType.Varchar)
            .Column("params_version", DuckType.BigInt)
            .Column("global_params", DuckType.Varchar)
            .Column("fee_recipient", DuckType.Varchar)
            .Column("admin", DuckType.Varchar);
        foreach (var r in rows)
        {
            t.Row(r.Name, r.OnChain, r.Local, r.Unit, r.OnChain != r.Local, r.Key, (long)gp.Version, rt.Show(address, true), rt.Show(gp.FeeRecipient), rt.Show(gp.Admin));
        }
        return t.Build();
    }, a.Cancellation);
}

/// <summary><c>p2p_stake(amount)</c> / <c>p2p_unstake(amount, withdraw)</c>: this node's StakeVault.</summary>
internal sealed class StakeFunction(NodeHost host, bool unstake) : TableFunctionDefinition
{
    public override string Name => unstake ? "p2p_unstake" : "p2p_stake";

    public override bool Interruptible => true;

    public override IReadOnlyList<TableFunctionParameter> Positional => [new("amount", ParameterKind.Double)];

    public override IReadOnlyList<TableFunctionParameter> Named => unstake ? [new("withdraw", ParameterKind.Boolean)] : [];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var amount = Chain.Amount(Name, a.Positional[0]);
        var withdraw = unstake && a.GetBoolean("withdraw") == true;
        return Chain.Run(host, Name, async (rt, ct) =>
        {
            var s = !unstake ? await rt.StakeAsync(amount, ct).ConfigureAwait(false)
                : withdraw ? await rt.WithdrawAsync(ct).ConfigureAwait(false)
                : await rt.UnstakeAsync(amount, ct).ConfigureAwait(false);
            var fees = s.WalletTransaction is { } w ? EconomicsRuntime.Nano(w.TotalFees) + w.OutMessages.Sum(m => EconomicsRuntime.Nano(m.ForwardFee)) : 0L;
            return new TypedResult()
                .Column("vault", DuckType.Varchar)
                .Column("action", DuckType.Varchar)
                .Column("staked_nanoton", DuckType.BigInt)
                .Column("unbonding_nanoton", DuckType.BigInt)
                .Column("withdrawable_at", TypedResult.TimestampTz)
                .Column("eligible", DuckType.Boolean)
                .Column("sent_nanoton", DuckType.BigInt)
                .Column("wallet_fees_nanoton", DuckType.BigInt)
                .Column("transaction", DuckType.Varchar)
                .Row(rt.Show(s.Vault, true), s.Action, EconomicsRuntime.Nano(s.State.Staked), EconomicsRuntime.Nano(s.State.Unbonding), Chain.At(s.State.ReadyAt),
                    s.State.Eligible, EconomicsRuntime.Nano(s.Sent), fees, s.WalletTransaction?.Hash)
                .Build();
        }, a.Cancellation);
    }
}

using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.DuckDB.Functions;

namespace Duckton.Sql;

/// <summary>Shared shape of the admin functions: validated changes, then <c>(group, key, value)</c> rows of the keys touched.</summary>
internal static class AdminRows
{
    /// <summary>Applies <paramref name="changes"/> all-or-nothing and returns the state of those keys afterwards.</summary>
    public static ResultSet Apply(ConfigStore store, string function, IReadOnlyList<KeyValuePair<string, string>> changes, IEnumerable<string>? show = null)
    {
        EffectiveConfig effective;
        try
        {
            effective = changes.Count == 0 ? store.Effective() : store.Set(changes);
        }
        catch (ConfigException e)
        {
            throw new SqlFunctionException($"{function}: {e.Message}", e);
        }
        var keys = (show ?? changes.Select(c => c.Key)).Distinct().ToList();
        return Rows(effective, keys);
    }

    /// <summary>Applies <paramref name="changes"/> all-or-nothing (none: just reads) and returns the effective configuration.</summary>
    public static NodeConfig ApplyConfig(ConfigStore store, string function, IReadOnlyList<KeyValuePair<string, string>> changes)
    {
        try
        {
            return (changes.Count == 0 ? store.Effective() : store.Set(changes)).Config;
        }
        catch (ConfigException e)
        {
            throw new SqlFunctionException($"{function}: {e.Message}", e);
        }
    }

    public static ResultSet Rows(EffectiveConfig effective, IEnumerable<string> keys)
    {
        // Entries split a key at its first dot: group "trust", key "weights.alpha_reputation".
        var entries = effective.Entries().ToDictionary(e => $"{e.Group}.{e.Key}", StringComparer.Ordinal);
        return TextResult.GroupKeyValue(keys.Select(k => (entries[k].Group, entries[k].Key, (string?)entries[k].Value)));
    }

    public static string Text(long v) => v.ToString(CultureInfo.InvariantCulture);
    public static string Text(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    public static string Text(bool v) => v ? "true" : "false";
}

/// <summary><c>p2p_config()</c> / <c>p2p_settings()</c>: every effective key, its value (secrets redacted) and the layer it came from.</summary>
internal sealed class ConfigFunction(string name, NodeHost host) : TableFunctionDefinition
{
    public override string Name => name;

    public override ResultSet Bind(TableFunctionArguments arguments)
    {
        IReadOnlyList<ConfigEntry> entries;
        try
        {
            entries = host.Config.Entries();
        }
        catch (ConfigException e)
        {
            throw new SqlFunctionException($"{Name}: the configuration is invalid: {e.Message}", e);
        }
        // in_effect is false for keys of features still being built (accepted, but nothing reads them yet).
        return TextResult.Build(["group", "key", "value", "source", "in_effect"], entries.Select(e =>
            (IReadOnlyList<string?>)[e.Group, e.Key, e.Value, e.SourceName, ConfigCatalog.Get(e.Group + "." + e.Key).InEffect ? "true" : "false"]));
    }
}

/// <summary><c>p2p_set(key, value)</c>: the generic validated setter of the runtime layer.</summary>
internal sealed class SetFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_set";
    public override IReadOnlyList<TableFunctionParameter> Positional => [new("key", ParameterKind.Varchar), new("value", ParameterKind.Varchar)];

    public override ResultSet Bind(TableFunctionArguments arguments)
    {
        var key = arguments.Positional[0] as string ?? throw new SqlFunctionException("p2p_set: key is NULL; e.g. p2p_set('scheduler.replicas', '5')");
        var value = arguments.Positional[1] as string ?? throw new SqlFunctionException($"p2p_set: value for {key} is NULL; give the value as text, e.g. p2p_set('{key}', '...')");
        return AdminRows.Apply(host.Config, Name, [new(key.Trim(), value)]);
    }
}

/// <summary><c>p2p_config_reset()</c>: drops the runtime layer (everything set through SQL).</summary>
internal sealed class ConfigResetFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_config_reset";

    public override ResultSet Bind(TableFunctionArguments arguments)
    {
        var dropped = host.Config.RuntimeOverrides().Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        try
        {
            host.Config.Reset();
        }
        catch (ConfigException e)
        {
            throw new SqlFunctionException($"{Name}: {e.Message}", e);
        }
        var rows = new List<(string, string, string?)> { ("config", "reset", $"{dropped.Count} runtime override(s) removed; file, environment and defaults apply") };
        rows.AddRange(dropped.Select(k => ("reset", k, (string?)"dropped")));
        return TextResult.GroupKeyValue(rows);
    }
}

/// <summary><c>p2p_planner(prefer, local_execution, enabled)</c>: where queries run.</summary>
internal sealed class PlannerFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_planner";

    public override IReadOnlyList<TableFunctionParameter> Named =>
    [
        new("prefer", ParameterKind.Varchar),
        new("local_execution", ParameterKind.Boolean),
        new("local_execution_enabled", ParameterKind.Boolean),
    ];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var changes = new List<KeyValuePair<string, string>>();
        if (a.GetString("prefer") is { } prefer)
        {
            changes.Add(new("planner.prefer", prefer.Trim().ToLowerInvariant()));
        }
        if ((a.GetBoolean("local_execution") ?? a.GetBoolean("local_execution_enabled")) is { } local)
        {
            changes.Add(new("planner.local_execution_enabled", AdminRows.Text(local)));
        }
        return AdminRows.Apply(host.Config, Name, changes, ["planner.prefer", "planner.local_execution_enabled"]);
    }
}

/// <summary><c>p2p_selection(replicas, quorum, ...)</c>: the redundancy policy.</summary>
internal sealed class SelectionFunction(NodeHost host) : TableFunctionDefinition
{
    private static readonly (string Param, string Key)[] s_map =
    [
        ("replicas", "scheduler.replicas"),
        ("quorum", "scheduler.quorum"),
        ("checksum_min", "economics.selection.checksum_min"),
        ("n_public", "economics.selection.n_public"),
        ("n_default", "economics.selection.n_default"),
        ("n_max", "economics.selection.n_max"),
    ];

    public override string Name => "p2p_selection";
    public override IReadOnlyList<TableFunctionParameter> Named => s_map.Select(m => new TableFunctionParameter(m.Param, ParameterKind.BigInt)).ToList();

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var changes = s_map.Where(m => a.GetInt64(m.Param) is not null).Select(m => new KeyValuePair<string, string>(m.Key, AdminRows.Text(a.GetInt64(m.Param)!.Value))).ToList();
        return AdminRows.Apply(host.Config, Name, changes, s_map.Select(m => m.Key));
    }
}

/// <summary><c>p2p_trust(min_trust, min_attestation)</c>: the requester's trust policy.</summary>
internal sealed class TrustFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_trust";

    public override IReadOnlyList<TableFunctionParameter> Named =>
    [
        new("min_trust", ParameterKind.Double),
        new("min_attestation", ParameterKind.Varchar),
        new("min_attest", ParameterKind.Varchar),
    ];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var changes = new List<KeyValuePair<string, string>>();
        if (a.GetDouble("min_trust") is { } t)
        {
            changes.Add(new("trust.min_trust", AdminRows.Text(t)));
        }
        if ((a.GetString("min_attest") ?? a.GetString("min_attestation")) is { } level)
        {
            changes.Add(new("trust.min_attestation", level.Trim().ToUpperInvariant()));
        }
        return AdminRows.Apply(host.Config, Name, changes, ["trust.min_trust", "trust.min_attestation"]);
    }
}

/// <summary>
/// <c>p2p_pricing(model, unit_price, rate_per_second)</c>: this host's price (shown, or set and persisted in the runtime
/// layer). Hosts quote it in every bid; a paid job is never run below it. One typed row.
/// </summary>
internal sealed class PricingFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_pricing";

    public override IReadOnlyList<TableFunctionParameter> Named =>
    [
        new("model", ParameterKind.Varchar),
        new("unit_price", ParameterKind.BigInt),
        new("rate_per_second", ParameterKind.BigInt),
    ];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var changes = new List<KeyValuePair<string, string>>();
        if (a.GetString("model") is { } model)
        {
            changes.Add(new("economics.pricing.model", model.Trim().ToLowerInvariant()));
        }
        if (a.GetInt64("unit_price") is { } unit)
        {
            changes.Add(new("economics.pricing.unit_price", AdminRows.Text(unit)));
        }
        if (a.GetInt64("rate_per_second") is { } rate)
        {
            changes.Add(new("economics.pricing.rate_per_second", AdminRows.Text(rate)));
        }
        var c = AdminRows.ApplyConfig(host.Config, Name, changes);
        var quote = Duckton.Node.Economics.Pricing.QuoteFor(c);
        return new TypedResult()
            .Column("model", DuckType.Varchar)
            .Column("unit_price_ton", DuckType.BigInt)
            .Column("rate_per_second_nanoton", DuckType.BigInt)
            .Column("quote_nanoton", TypedResult.UBigInt)
            .Column("quote", DuckType.Varchar)
            .Column("economics_enabled", DuckType.Boolean)
            .Row(c.Economics.Pricing.Model.ToConfigString(), c.Economics.Pricing.UnitPrice, c.Economics.Pricing.RatePerSecond, quote.UnitNanoton,
                quote.IsFree ? "free" : quote.ToString(), c.Economics.Enabled)
            .Build();
    }
}

/// <summary>
/// <c>p2p_bidding(max_bid, w_quality, w_stake, w_price, stake_reliability_floor)</c>: this requester's most per paid job
/// and how it weighs hosts (quality, reliability-gated stake, price) — shown, or set and persisted. One typed row.
/// </summary>
internal sealed class BiddingFunction(NodeHost host) : TableFunctionDefinition
{
    private static readonly (string Param, string Key)[] s_weights =
    [
        ("w_quality", "economics.ranking.w_quality"),
        ("w_stake", "economics.ranking.w_stake"),
        ("w_price", "economics.ranking.w_price"),
        ("stake_reliability_floor", "economics.ranking.stake_reliability_floor"),
    ];

    public override string Name => "p2p_bidding";

    public override IReadOnlyList<TableFunctionParameter> Named =>
        [new("max_bid", ParameterKind.BigInt), .. s_weights.Select(w => new TableFunctionParameter(w.Param, ParameterKind.Double))];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var changes = new List<KeyValuePair<string, string>>();
        if (a.GetInt64("max_bid") is { } bid)
        {
            changes.Add(new("economics.pricing.max_bid", AdminRows.Text(bid)));
        }
        foreach (var (param, key) in s_weights)
        {
            if (a.GetDouble(param) is { } v)
            {
                changes.Add(new(key, AdminRows.Text(v)));
            }
        }
        var c = AdminRows.ApplyConfig(host.Config, Name, changes);
        var r = c.Economics.Ranking;
        return new TypedResult()
            .Column("max_bid_ton", DuckType.BigInt)
            .Column("max_bid_nanoton", TypedResult.UBigInt)
            .Column("w_quality", DuckType.Double)
            .Column("w_stake", DuckType.Double)
            .Column("w_price", DuckType.Double)
            .Column("stake_reliability_floor", DuckType.Double)
            .Column("economics_enabled", DuckType.Boolean)
            .Row(c.Economics.Pricing.MaxBid, c.Economics.Pricing.MaxBid == 0 ? null : Duckton.Node.Economics.Pricing.MaxBidNanoton(c), r.WQuality, r.WStake, r.WPrice,
                r.StakeReliabilityFloor, c.Economics.Enabled)
            .Build();
    }
}

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
    private static readonly (string Param, string Key)[] Map =
    [
        ("replicas", "scheduler.replicas"),
        ("quorum", "scheduler.quorum"),
        ("checksum_min", "economics.selection.checksum_min"),
        ("n_public", "economics.selection.n_public"),
        ("n_default", "economics.selection.n_default"),
        ("n_max", "economics.selection.n_max"),
    ];

    public override string Name => "p2p_selection";
    public override IReadOnlyList<TableFunctionParameter> Named => Map.Select(m => new TableFunctionParameter(m.Param, ParameterKind.BigInt)).ToList();

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var changes = Map.Where(m => a.GetInt64(m.Param) is not null).Select(m => new KeyValuePair<string, string>(m.Key, AdminRows.Text(a.GetInt64(m.Param)!.Value))).ToList();
        return AdminRows.Apply(host.Config, Name, changes, Map.Select(m => m.Key));
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

using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.DuckDB.Functions;
using Duckton.Node;

namespace Duckton.Sql;

/// <summary>The parameters <c>p2p_query</c> and <c>p2p_query_meta</c> share, and their conversion to <see cref="QueryOverrides"/>.</summary>
internal static class QueryParameters
{
    public static readonly TableFunctionParameter[] Positional = [new("sql", ParameterKind.Varchar)];

    public static readonly TableFunctionParameter[] Named =
    [
        new("replicas", ParameterKind.BigInt),
        new("quorum", ParameterKind.BigInt),
        new("min_trust", ParameterKind.Double),
        new("min_attest", ParameterKind.Varchar),
        new("min_attestation", ParameterKind.Varchar),
        new("verify", ParameterKind.Varchar),
        new("prefer", ParameterKind.Varchar),
        new("payment", ParameterKind.Varchar),
        new("data_class", ParameterKind.Varchar),
        new("require_staked_hosts", ParameterKind.Boolean),
        new("network", ParameterKind.Varchar),
        new("groups", ParameterKind.VarcharList),
        new("regions", ParameterKind.VarcharList),
        new("nodes", ParameterKind.VarcharList),
        new("timeout_ms", ParameterKind.BigInt),
        new("input_pin", ParameterKind.Varchar),
    ];

    public static string Sql(TableFunctionArguments a, string function) =>
        a.Positional[0] as string ?? throw new SqlFunctionException($"{function}: the SQL argument is NULL; pass a query, e.g. {function}('SELECT 42 AS answer')");

    public static QueryOverrides Overrides(TableFunctionArguments a)
    {
        var o = new QueryOverrides
        {
            Replicas = ToInt(a, "replicas"),
            Quorum = ToInt(a, "quorum"),
            MinTrust = a.GetDouble("min_trust"),
            MinAttestation = a.GetString("min_attest") ?? a.GetString("min_attestation"),
            Verify = Enum<VerifyMode>(a, "verify"),
            Prefer = Enum<PlannerPreference>(a, "prefer"),
            Payment = Enum<PaymentMode>(a, "payment"),
            DataClass = Enum<DataClass>(a, "data_class"),
            RequireStakedHosts = a.GetBoolean("require_staked_hosts"),
            Network = string.IsNullOrWhiteSpace(a.GetString("network")) ? null : a.GetString("network"),
            Groups = a.GetStringList("groups"),
            Regions = a.GetStringList("regions"),
            Nodes = a.GetStringList("nodes"),
            TimeoutMs = ToInt(a, "timeout_ms"),
            InputPin = string.IsNullOrWhiteSpace(a.GetString("input_pin")) ? null : a.GetString("input_pin")!.Trim().ToLowerInvariant(),
        };
        return o;
    }

    private static int? ToInt(TableFunctionArguments a, string name) => a.GetInt64(name) switch
    {
        null => null,
        var v when v is >= int.MinValue and <= int.MaxValue => (int)v.Value,
        var v => throw new SqlFunctionException($"{name} => {v} is out of range"),
    };

    private static T? Enum<T>(TableFunctionArguments a, string name)
        where T : struct, System.Enum
    {
        var text = a.GetString(name);
        if (text is null)
        {
            return null;
        }
        try
        {
            return QueryOverrides.ParseEnum<T>(name, text);
        }
        catch (ArgumentException e)
        {
            throw new SqlFunctionException(e.Message);
        }
    }
}

/// <summary><c>p2p_query(sql, ...)</c>: the verified result, with the query's own column names and types.</summary>
internal sealed class QueryFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_query";
    public override IReadOnlyList<TableFunctionParameter> Positional => QueryParameters.Positional;
    public override IReadOnlyList<TableFunctionParameter> Named => QueryParameters.Named;

    /// <summary>The client's interrupt (Ctrl-C, <c>duckdb_interrupt</c>) cancels the query, locally or on its hosts.</summary>
    public override bool Interruptible => true;

    public override ResultSet Bind(TableFunctionArguments arguments)
    {
        var sql = QueryParameters.Sql(arguments, Name);
        var overrides = QueryParameters.Overrides(arguments);
        QueryOutcome outcome;
        try
        {
            outcome = host.Node.Query(sql, overrides, cancellationToken: arguments.Cancellation);
        }
        catch (QueryFailedException e)
        {
            throw new SqlFunctionException(QueryErrors.Describe(Name, e.Message), e);
        }
        var result = outcome.Result;
        // A statement without columns (DDL, SET) still needs one output column: report it succeeded.
        if (result.Schema.Count == 0)
        {
            result.Dispose();
            return TextResult.Build(["result"], [["ok"]]);
        }
        return result; // DuckDB owns it now: it is disposed (a spill file deleted) when the query's bind data is freed

    }
}

/// <summary><c>p2p_query_meta(sql, ...)</c>: how the query ran and was verified; failures are an <c>error</c> row, not an exception.</summary>
internal sealed class QueryMetaFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_query_meta";
    public override IReadOnlyList<TableFunctionParameter> Positional => QueryParameters.Positional;
    public override IReadOnlyList<TableFunctionParameter> Named => QueryParameters.Named;

    public override bool Interruptible => true;

    public override ResultSet Bind(TableFunctionArguments arguments)
    {
        var sql = QueryParameters.Sql(arguments, Name);
        QueryMeta meta;
        try
        {
            var outcome = host.Node.Query(sql, QueryParameters.Overrides(arguments), computeHash: true, arguments.Cancellation);
            outcome.Result.Dispose(); // only the metadata is shown: release a spilled result's file at once
            meta = outcome.Meta;
        }
        catch (QueryFailedException e)
        {
            meta = e.Meta with { Error = e.Meta.Error is { } error ? QueryErrors.Describe(Name, error) : null };
        }
        catch (SqlFunctionException e)
        {
            meta = new QueryMeta { JobId = "<none>", Error = e.Message };
        }
        return TextResult.GroupKeyValue(meta.ToRows());
    }
}

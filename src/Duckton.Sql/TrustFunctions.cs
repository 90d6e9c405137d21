using System.Globalization;
using Duckton.Core.Data;
using Duckton.Core.Trust;
using Duckton.DuckDB.Functions;
using Duckton.Node.Trust;

namespace Duckton.Sql;

/// <summary>The <c>(id, kind, detail)</c> rows of the deny-list functions.</summary>
internal static class BlockRows
{
    public static ResultSet Build(string result, string id, IReadOnlyList<BlockEntry> entries)
    {
        var rows = new List<IReadOnlyList<string?>> { new[] { "result", result, id } };
        rows.AddRange(List(entries));
        return TextResult.Build(["id", "kind", "detail"], rows);
    }

    public static IEnumerable<IReadOnlyList<string?>> List(IReadOnlyList<BlockEntry> entries) =>
        entries.Count == 0
            ? [new[] { "blocklist", "empty", "no blocked actors" }]
            : entries.Select(e => (IReadOnlyList<string?>)[e.Id, e.Kind == BlockKind.Wallet ? "wallet" : "node_id",
                $"{e.Reason} (source={e.Source}, ts={e.Timestamp.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)})"]);
}

/// <summary><c>p2p_block(id, reason, kind)</c>: refuse a peer (node id or wallet) by this node's own decision, at once.</summary>
internal sealed class BlockFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_block";
    public override IReadOnlyList<TableFunctionParameter> Named => [new("id", ParameterKind.Varchar), new("reason", ParameterKind.Varchar), new("kind", ParameterKind.Varchar)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var id = a.GetString("id")?.Trim();
        if (string.IsNullOrEmpty(id))
        {
            throw new SqlFunctionException("p2p_block: give the node id or wallet to block, e.g. p2p_block(id => 'b3:…', reason => 'cheating')");
        }
        var kind = (a.GetString("kind")?.Trim().ToLowerInvariant()) switch
        {
            null or "" => id.StartsWith(NodeIds.Prefix, StringComparison.Ordinal) ? BlockKind.NodeId : BlockKind.Wallet,
            "node_id" or "node" or "nodeid" or "peer" => BlockKind.NodeId,
            "wallet" or "address" or "addr" => BlockKind.Wallet,
            var other => throw new SqlFunctionException($"p2p_block: kind => '{other}' is not valid; use node_id or wallet"),
        };
        if (kind == BlockKind.NodeId && !NodeIds.IsValid(id))
        {
            throw new SqlFunctionException($"p2p_block: '{id}' is not a node id; node ids are 'b3:' followed by 64 lowercase hex digits");
        }
        host.Trust.Block(id, kind, a.GetString("reason") ?? "manual block");
        return BlockRows.Build("blocked", id, host.Trust.Blocklist());
    }
}

/// <summary><c>p2p_unblock(id)</c>.</summary>
internal sealed class UnblockFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_unblock";
    public override IReadOnlyList<TableFunctionParameter> Named => [new("id", ParameterKind.Varchar)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var id = a.GetString("id")?.Trim();
        if (string.IsNullOrEmpty(id))
        {
            throw new SqlFunctionException("p2p_unblock: give the id to unblock, e.g. p2p_unblock(id => 'b3:…')");
        }
        var removed = host.Trust.Unblock(id);
        return BlockRows.Build(removed ? "unblocked" : "not_found", id, host.Trust.Blocklist());
    }
}

/// <summary><c>p2p_blocklist()</c>: the deny-list.</summary>
internal sealed class BlocklistFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_blocklist";

    public override ResultSet Bind(TableFunctionArguments a) => TextResult.Build(["id", "kind", "detail"], BlockRows.List(host.Trust.Blocklist()));
}

/// <summary><c>p2p_receipts()</c>: signed receipts this node holds, newest first.</summary>
internal sealed class ReceiptsFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_receipts";
    public override IReadOnlyList<TableFunctionParameter> Named => [new("worker", ParameterKind.Varchar), new("limit", ParameterKind.BigInt)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var limit = a.GetInt64("limit") ?? 1000;
        if (limit is < 1 or > 1_000_000)
        {
            throw new SqlFunctionException($"p2p_receipts: limit => {limit} is out of range; use 1..1000000");
        }
        var receipts = host.Trust.Receipts(a.GetString("worker"), (int)limit);
        return TextResult.Build(
            ["job_id", "worker_id", "requester_id", "verdict", "query_hash", "result_hash", "latency_ms", "ts", "observed_result_rows", "signature_valid"],
            receipts.Select(r => (IReadOnlyList<string?>)[r.JobId, r.WorkerId, r.RequesterId, r.Verdict.ToString(), r.QueryHash, r.ResultHash,
                r.LatencyMs.ToString(CultureInfo.InvariantCulture), r.Timestamp.ToString(CultureInfo.InvariantCulture),
                r.ObservedResultRows.ToString(CultureInfo.InvariantCulture), r.Problem() is null ? "true" : "false"]));
    }
}

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

/// <summary>
/// <c>p2p_vouch(node_id, weight => 1.0)</c>: this node signs a vouch for another node (weight in [0, 1]; 0 withdraws),
/// stores it and gossips it. How much it moves trust: docs/TRUST.md "Vouches".
/// </summary>
internal sealed class VouchFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_vouch";
    public override IReadOnlyList<TableFunctionParameter> Positional => [new("node_id", ParameterKind.Varchar)];
    public override IReadOnlyList<TableFunctionParameter> Named => [new("weight", ParameterKind.Double)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var id = (a.Positional[0] as string)?.Trim();
        if (string.IsNullOrEmpty(id))
        {
            throw new SqlFunctionException("p2p_vouch: give the node id to vouch for, e.g. p2p_vouch('b3:…', weight => 1.0)");
        }
        if (!NodeIds.IsValid(id))
        {
            throw new SqlFunctionException($"p2p_vouch: '{id}' is not a node id; node ids are 'b3:' followed by 64 lowercase hex digits");
        }
        var weight = a.GetDouble("weight") ?? 1.0;
        if (!(weight is >= 0 and <= 1))
        {
            throw new SqlFunctionException($"p2p_vouch: weight => {weight.ToString(CultureInfo.InvariantCulture)} is out of range; use 0..1 (0 withdraws the vouch)");
        }
        var node = host.Node;
        if (id == node.Identity.NodeId)
        {
            throw new SqlFunctionException("p2p_vouch: a node cannot vouch for itself; vouch for another node's id");
        }
        var vouch = node.Trust.CreateVouch(id, weight);
        if (node.GridIfStarted is { } grid)
        {
            // Shared on every gossip exchange anyway; one round now spreads it without waiting for the heartbeat.
            _ = Task.Run(() => grid.GossipRoundAsync(), CancellationToken.None);
        }
        var inv = CultureInfo.InvariantCulture;
        return TextResult.GroupKeyValue(
        [
            ("vouch", "status", weight == 0 ? "withdrawn" : "vouched"),
            ("vouch", "voucher_id", vouch.VoucherId),
            ("vouch", "vouchee_id", vouch.VoucheeId),
            ("vouch", "weight", vouch.Weight.ToString("0.######", inv)),
            ("vouch", "ts_ms", vouch.TimestampMs.ToString(inv)),
            ("vouch", "signature", Convert.ToHexStringLower(vouch.Signature)),
            ("vouch", "gossip", node.GridIfStarted is null ? "stored; shared once this node joins a grid" : "stored; shared on the next gossip exchanges"),
        ]);
    }
}

/// <summary><c>p2p_vouches(node_id => ...)</c>: the vouches this node holds (its own and gossiped ones), most recently received first.</summary>
internal sealed class VouchesFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_vouches";
    public override IReadOnlyList<TableFunctionParameter> Named => [new("node_id", ParameterKind.Varchar)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var inv = CultureInfo.InvariantCulture;
        var vouches = host.Trust.Vouches(a.GetString("node_id")?.Trim());
        return TextResult.Build(["voucher_id", "vouchee_id", "weight", "ts_ms", "signed"],
            vouches.Select(v => (IReadOnlyList<string?>)[v.VoucherId, v.VoucheeId, v.Weight.ToString("0.######", inv),
                v.Timestamp.ToUnixTimeMilliseconds().ToString(inv), v.Signed is { } s ? (s.Problem() is null ? "true" : "invalid") : "false (local)"]));
    }
}

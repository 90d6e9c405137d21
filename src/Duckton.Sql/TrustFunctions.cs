using System.Globalization;
using Duckton.Core.Data;
using Duckton.Core.Trust;
using Duckton.DuckDB.Functions;
using Duckton.Node.Trust;

namespace Duckton.Sql;

/// <summary>The typed rows of the deny-list functions: one per entry, with its reason, source and time.</summary>
internal static class BlockRows
{
    public static TypedResult Table(bool withStatus)
    {
        var t = new TypedResult();
        if (withStatus)
        {
            t.Column("status", DuckType.Varchar);
        }
        return t.Column("id", DuckType.Varchar).Column("kind", DuckType.Varchar).Column("reason", DuckType.Varchar)
            .Column("source", DuckType.Varchar).Column("blocked_at", TypedResult.TimestampTz);
    }

    public static string Kind(BlockKind kind) => kind == BlockKind.Wallet ? "wallet" : "node_id";

    /// <summary>One row about the entry acted on (<paramref name="entry"/> null: nothing was blocked under that id).</summary>
    public static ResultSet Status(string status, string id, BlockEntry? entry) =>
        Table(withStatus: true).Row(status, id, entry is null ? null : Kind(entry.Kind), entry?.Reason, entry?.Source, entry?.Timestamp).Build();

    public static ResultSet List(IReadOnlyList<BlockEntry> entries)
    {
        var t = Table(withStatus: false);
        foreach (var e in entries)
        {
            t.Row(e.Id, Kind(e.Kind), e.Reason, e.Source, e.Timestamp);
        }
        return t.Build();
    }
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
        return BlockRows.Status("blocked", id, host.Trust.Blocklist().FirstOrDefault(e => e.Id == id));
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
        var entry = host.Trust.Blocklist().FirstOrDefault(e => e.Id == id);
        var removed = host.Trust.Unblock(id);
        return BlockRows.Status(removed ? "unblocked" : "not_found", id, removed ? entry : null);
    }
}

/// <summary><c>p2p_blocklist()</c>: the deny-list.</summary>
internal sealed class BlocklistFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_blocklist";

    public override ResultSet Bind(TableFunctionArguments a) => BlockRows.List(host.Trust.Blocklist());
}

/// <summary><c>p2p_receipts(worker => ..., max_rows => 1000)</c>: signed receipts this node holds, newest first.</summary>
internal sealed class ReceiptsFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_receipts";

    // "limit" was this parameter's first name; as a SQL keyword it only parses quoted, so it is kept to say what replaced it.
    public override IReadOnlyList<TableFunctionParameter> Named => [new("worker", ParameterKind.Varchar), new("max_rows", ParameterKind.BigInt), new("limit", ParameterKind.BigInt)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        if (a.Has("limit"))
        {
            throw new SqlFunctionException("p2p_receipts: the parameter \"limit\" is now max_rows (limit is a SQL keyword); e.g. p2p_receipts(max_rows => 5), or add LIMIT 5 to the query");
        }
        var maxRows = a.GetInt64("max_rows") ?? 1000;
        if (maxRows is < 1 or > 1_000_000)
        {
            throw new SqlFunctionException($"p2p_receipts: max_rows => {maxRows} is out of range; use 1..1000000");
        }
        var table = new TypedResult()
            .Column("job_id", DuckType.Varchar)
            .Column("worker_id", DuckType.Varchar)
            .Column("requester_id", DuckType.Varchar)
            .Column("verdict", DuckType.Varchar)
            .Column("query_hash", DuckType.Varchar)
            .Column("result_hash", DuckType.Varchar)
            .Column("latency_ms", TypedResult.UBigInt)
            .Column("ts", TypedResult.TimestampTz)
            .Column("observed_result_rows", TypedResult.UBigInt)
            .Column("signature_valid", DuckType.Boolean)
            .Column("observed_input_bytes", TypedResult.UBigInt)
            .Column("observed_result_bytes", TypedResult.UBigInt)
            .Column("slash_state", DuckType.Varchar)
            .Column("slash_nanoton", DuckType.BigInt)
            .Column("slash_tx", DuckType.Varchar);
        // A receipt whose job holds evidence against its worker links the slash this node made for it (docs/TON.md, "Slashing by evidence").
        var slashes = Duckton.Node.Economics.EvidenceSlasher.ReadAll(Path.Combine(host.Config.ConfigDirectory, "slashes"))
            .GroupBy(s => (s.NodeId, s.JobId)).ToDictionary(g => g.Key, g => g.First());
        foreach (var r in host.Trust.Receipts(a.GetString("worker"), (int)maxRows))
        {
            var slash = slashes.GetValueOrDefault((r.WorkerId, r.JobId));
            table.Row(r.JobId, r.WorkerId, r.RequesterId, r.Verdict.ToString(), r.QueryHash, r.ResultHash, r.LatencyMs,
                DateTimeOffset.FromUnixTimeSeconds((long)Math.Min(r.Timestamp, (ulong)DateTimeOffset.MaxValue.ToUnixTimeSeconds())),
                r.ObservedResultRows, r.Problem() is null, r.ObservedInputBytes, r.ObservedResultBytes,
                slash?.State, slash is { State: "slashed" } ? slash.AmountNanoton : null, slash?.VaultTx);
        }
        return table.Build();
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

/// <summary>
/// <c>p2p_vouches(node_id => ...)</c>: the vouches this node holds (its own and gossiped ones), most recently received
/// first. <c>signed</c> is false for an unsigned local vouch; <c>signature_valid</c> is then NULL.
/// </summary>
internal sealed class VouchesFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_vouches";
    public override IReadOnlyList<TableFunctionParameter> Named => [new("node_id", ParameterKind.Varchar)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var table = new TypedResult()
            .Column("voucher_id", DuckType.Varchar)
            .Column("vouchee_id", DuckType.Varchar)
            .Column("weight", DuckType.Double)
            .Column("ts", TypedResult.TimestampTz)
            .Column("signed", DuckType.Boolean)
            .Column("signature_valid", DuckType.Boolean);
        foreach (var v in host.Trust.Vouches(a.GetString("node_id")?.Trim()))
        {
            table.Row(v.VoucherId, v.VoucheeId, v.Weight, v.Timestamp, v.Signed is not null, v.Signed is { } s ? (bool?)(s.Problem() is null) : null);
        }
        return table.Build();
    }
}

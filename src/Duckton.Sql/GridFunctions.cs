using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.DuckDB.Functions;
using Duckton.Node;
using Duckton.Node.Grid;

namespace Duckton.Sql;

/// <summary><c>p2p_join(bootstrap => [...])</c>: persist seeds, contact them (one gossip round) and keep gossiping.</summary>
internal sealed class JoinFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_join";
    public override IReadOnlyList<TableFunctionParameter> Named => [new("bootstrap", ParameterKind.VarcharList)];

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var seeds = a.GetStringList("bootstrap")?.Select(s => s.Trim()).Where(s => s.Length > 0).Distinct().ToList() ?? [];
        if (seeds.Count == 0)
        {
            throw new SqlFunctionException("p2p_join: provide one or more seeds, e.g. p2p_join(bootstrap => ['10.0.0.5:9494'])");
        }
        var existing = host.Config.Effective().Config.Discovery.Bootstrap;
        var merged = existing.Concat(seeds).Distinct().ToList();
        AdminRows.Apply(host.Config, Name, [new("discovery.bootstrap", "[" + string.Join(", ", merged.Select(s => "\"" + s.Replace("\"", "", StringComparison.Ordinal) + "\"")) + "]")]);
        host.Node.Join(merged);
        var grid = host.Node.Grid;
        var live = grid.Membership.Live().Count;
        var rows = new List<(string, string, string?)>
        {
            // A seed that did not answer in this round is not an error (gossip retries every heartbeat), but say so.
            ("join", "status", live > 0 ? "joined" : "no seed answered yet; gossip keeps retrying the seeds every heartbeat (see p2p_peers())"),
            ("join", "node_id", host.Node.NodeId),
            ("join", "peers", live.ToString(CultureInfo.InvariantCulture)),
        };
        rows.AddRange(merged.Select(s => ("join", "bootstrap", (string?)s)));
        return TextResult.GroupKeyValue(rows);
    }
}

/// <summary><c>p2p_share(memory, threads, max_jobs, data_classes, enabled, networks, groups, region)</c>: donate compute; this process starts hosting.</summary>
internal sealed class ShareFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_share";

    public override IReadOnlyList<TableFunctionParameter> Named =>
    [
        new("memory", ParameterKind.Varchar),
        new("threads", ParameterKind.BigInt),
        new("max_jobs", ParameterKind.BigInt),
        new("data_classes", ParameterKind.VarcharList),
        new("enabled", ParameterKind.Boolean),
        new("networks", ParameterKind.VarcharList),
        new("groups", ParameterKind.VarcharList),
        new("region", ParameterKind.Varchar),
    ];

    private static string List(IEnumerable<string> items) => "[" + string.Join(", ", items.Select(s => "\"" + s.Trim().Replace("\"", "", StringComparison.Ordinal) + "\"")) + "]";

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var changes = new List<KeyValuePair<string, string>>();
        if (a.GetString("memory") is { } m)
        {
            changes.Add(new("budget.memory_bytes", m));
        }
        if (a.GetInt64("threads") is { } t)
        {
            changes.Add(new("budget.threads", AdminRows.Text(t)));
        }
        if (a.GetInt64("max_jobs") is { } j)
        {
            changes.Add(new("budget.max_jobs", AdminRows.Text(j)));
        }
        if (a.GetStringList("data_classes") is { } dc)
        {
            changes.Add(new("budget.data_classes", List(dc.Select(d => d.ToLowerInvariant()))));
        }
        if (a.GetBoolean("enabled") is { } e)
        {
            changes.Add(new("worker.enabled", AdminRows.Text(e)));
        }
        if (a.GetStringList("networks") is { } n)
        {
            changes.Add(new("membership.networks", List(n)));
        }
        if (a.GetStringList("groups") is { } g)
        {
            changes.Add(new("membership.groups", List(g)));
        }
        if (a.GetString("region") is { } r)
        {
            changes.Add(new("membership.region", r.Trim()));
        }
        AdminRows.Apply(host.Config, Name, changes);
        var c = host.Config.Effective().Config;
        if (c.Budget.PerJobMemoryBytes > c.Budget.MemoryBytes || c.Budget.PerJobThreads > c.Budget.Threads)
        {
            // The per-job limits never exceed what is donated (FromConfig clamps them).
        }
        string listen;
        try
        {
            listen = host.Node.StartHosting();
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or FormatException)
        {
            throw new SqlFunctionException($"p2p_share: cannot listen on {c.Network.BindAddr}: {ex.Message}; change it with p2p_set('network.bind_addr', 'HOST:PORT')", ex);
        }
        return TextResult.GroupKeyValue(
        [
            ("share", "status", c.Worker.Enabled ? "hosting" : "standby"),
            ("share", "node_id", host.Node.NodeId),
            ("share", "listen_addr", listen),
            ("share", "memory_bytes", AdminRows.Text(c.Budget.MemoryBytes)),
            ("share", "threads", AdminRows.Text(c.Budget.Threads)),
            ("share", "max_jobs", AdminRows.Text(c.Budget.MaxJobs)),
            ("share", "data_classes", string.Join(",", c.Budget.DataClasses.Select(d => d.ToConfigString()))),
            ("share", "enabled", AdminRows.Text(c.Worker.Enabled)),
            ("share", "networks", string.Join(",", c.Membership.Networks)),
            ("share", "groups", string.Join(",", c.Membership.Groups)),
            ("share", "region", c.Membership.Region),
        ]);
    }
}

/// <summary><c>p2p_pause()</c> / <c>p2p_resume()</c>: stop / resume serving jobs (<c>worker.enabled</c>).</summary>
internal sealed class PauseFunction(NodeHost host, bool enable) : TableFunctionDefinition
{
    public override string Name => enable ? "p2p_resume" : "p2p_pause";

    public override ResultSet Bind(TableFunctionArguments a)
    {
        AdminRows.Apply(host.Config, Name, [new("worker.enabled", AdminRows.Text(enable))]);
        host.Node.GridIfStarted?.SetEnabled(enable);
        var hosting = host.Node.GridIfStarted?.Hosting == true;
        return TextResult.GroupKeyValue(
        [
            ("membership", "status", enable ? "serving" : "standby"),
            ("membership", "enabled", AdminRows.Text(enable)),
            ("membership", "hosting", hosting ? "true" : "false (start with p2p_share(...))"),
            ("membership", "node_id", host.Node.NodeId),
        ]);
    }
}

/// <summary>
/// <c>p2p_node_metadata()</c>: this machine's privacy-preserving profile as <c>(group, key, value)</c> rows, then the
/// <c>identity</c> group: node_id, collected_at, public_key and the Ed25519 signature over
/// <see cref="SystemProfile.SignedBytes"/> of the rows before it. Self-reported: never a trust input.
/// </summary>
internal sealed class NodeMetadataFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_node_metadata";

    public override ResultSet Bind(TableFunctionArguments a)
    {
        var c = host.Config.Effective().Config;
        var node = host.Node;
        var rows = SystemProfile.Collect(host.Config.ConfigDirectory, GridNode.EngineVersion, ProtocolInfo.ExtensionVersion, c.Budget.MemoryBytes, c.Budget.Threads);
        var collected = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var signature = node.Identity.Sign(SystemProfile.SignedBytes(node.Identity.NodeId, collected, rows));
        var all = rows.Select(r => (r.Group, r.Key, (string?)r.Value)).Concat(
        [
            ("identity", "node_id", node.Identity.NodeId),
            ("identity", "collected_at", collected.ToString(CultureInfo.InvariantCulture)),
            ("identity", "public_key", Convert.ToHexStringLower(node.Identity.PublicKey.Span)),
            ("identity", "signature", Convert.ToHexStringLower(signature)),
        ]);
        return TextResult.GroupKeyValue(all);
    }
}

/// <summary><c>p2p_status()</c>: this node's grid status.</summary>
internal sealed class StatusFunction(NodeHost host) : TableFunctionDefinition
{
    public override string Name => "p2p_status";

    public override ResultSet Bind(TableFunctionArguments a)
    {
        EffectiveConfig effective;
        try
        {
            effective = host.Config.Effective();
        }
        catch (ConfigException e)
        {
            throw new SqlFunctionException($"p2p_status: the configuration is invalid: {e.Message}", e);
        }
        var c = effective.Config;
        var grid = host.Node.GridIfStarted;
        var worker = grid?.Worker;
        var inv = CultureInfo.InvariantCulture;
        var live = grid?.Membership.Live() ?? [];
        var rows = new List<(string, string, string?)>
        {
            ("status", "node_id", host.Node.NodeId),
            ("status", "hosting", worker is null ? "false" : "true"),
            ("status", "serving", worker is { Enabled: true } ? "true" : "false"),
            ("status", "listen_addr", grid?.ListenAddress ?? ""),
            ("status", "running_jobs", (worker?.RunningJobs ?? 0).ToString(inv)),
            ("status", "jobs_served", (worker?.JobsServed ?? 0).ToString(inv)),
            ("status", "job_isolation", worker?.Isolation ?? ""),
            ("status", "peers_live", live.Count.ToString(inv)),
            ("status", "peers_suspect", live.Count(p => p.State == PeerState.Suspect).ToString(inv)),
            ("status", "peers_dead", live.Count(p => p.State == PeerState.Dead).ToString(inv)),
            ("status", "last_gossip_error", grid?.LastGossipError ?? ""),
            ("status", "seeds", string.Join(",", grid?.Seeds ?? c.Discovery.Bootstrap)),
            ("status", "replicas", c.Scheduler.Replicas.ToString(inv)),
            ("status", "quorum", c.Scheduler.Quorum.ToString(inv)),
            ("status", "verify_mode", c.Scheduler.VerifyMode.ToConfigString()),
            ("status", "planner_prefer", c.Planner.Prefer.ToConfigString()),
            ("status", "execution_mode", c.Planner.LocalExecutionEnabled ? "local+grid" : "remote-only (never executes locally)"),
            // Whether DuckDB hands a local query's chunks over as they are produced, or materialises the whole result
            // first (a client with DuckDB linked in offers extensions no streaming results).
            ("status", "local_results", Duckton.DuckDB.Native.DuckDBNative.StreamingResults ? "streamed" : "materialised"),
        };
        if (c.Economics.Enabled)
        {
            // From the configuration only: p2p_status never builds a chain client.
            rows.Add(("status", "network", Duckton.Node.Economics.EconomicsSettings.NameOf(c.Economics.Network)));
        }
        rows.AddRange(TrustRows(c, live));
        return TextResult.GroupKeyValue(rows);
    }

    /// <summary>
    /// The <c>trust</c> group: how the live hosts stand under the default (Public) policy, what the trust store holds,
    /// gossip counters of receipts and vouches, and whether an attestation verifier is configured.
    /// </summary>
    private IEnumerable<(string, string, string?)> TrustRows(NodeConfig c, IReadOnlyList<PeerEntry> live)
    {
        var inv = CultureInfo.InvariantCulture;
        Duckton.Node.Trust.TrustEngine engine;
        long receipts;
        long vouches;
        Duckton.Node.Trust.TrustStore.VerificationCounts checks;
        try
        {
            engine = host.Node.Trust;
            receipts = engine.Store.ReceiptCount();
            vouches = engine.Store.VouchCount();
            checks = engine.Store.Verification();
        }
        catch (Duckton.DuckDB.DuckDBException e)
        {
            return [("trust", "store", "unavailable: " + e.Message)];
        }
        var standings = live.Select(p => engine.Assess(p, c, Duckton.Node.QueryOverrides.None).Standing).ToList();
        string Count(params Duckton.Node.Trust.Standing[] s) => standings.Count(s.Contains).ToString(inv);
        return
        [
            ("trust", "min_trust", c.Trust.MinTrust.ToString("0.###", inv)),
            ("trust", "hosts_trusted", Count(Duckton.Node.Trust.Standing.Trusted)),
            ("trust", "hosts_vetted", Count(Duckton.Node.Trust.Standing.Vetted)),
            ("trust", "hosts_unvetted", Count(Duckton.Node.Trust.Standing.Unvetted)),
            ("trust", "hosts_failed", Count(Duckton.Node.Trust.Standing.Failed)),
            ("trust", "hosts_below_attestation", Count(Duckton.Node.Trust.Standing.BelowAttestation, Duckton.Node.Trust.Standing.BelowTrust)),
            ("trust", "hosts_blocked", Count(Duckton.Node.Trust.Standing.Blocked)),
            ("trust", "blocklist_entries", engine.Store.Blocklist().Count.ToString(inv)),
            ("trust", "receipts_stored", receipts.ToString(inv)),
            ("trust", "receipts_gossip_accepted", engine.GossipAccepted.ToString(inv)),
            ("trust", "receipts_gossip_replayed", engine.GossipReplayed.ToString(inv)),
            ("trust", "receipts_gossip_rejected", engine.GossipRejected.ToString(inv)),
            ("trust", "vouches_stored", vouches.ToString(inv)),
            ("trust", "vouches_gossip_accepted", engine.VouchesAccepted.ToString(inv)),
            ("trust", "vouches_gossip_replayed", engine.VouchesReplayed.ToString(inv)),
            ("trust", "vouches_gossip_rejected", engine.VouchesRejected.ToString(inv)),
            ("trust", "attestation_verifier", engine.VerifierDescription()),
            // The same stored counts the dashboard's verification section shows.
            ("trust", "canaries_run", checks.CanariesRun.ToString(inv)),
            ("trust", "canaries_failed", checks.CanariesFailed.ToString(inv)),
            ("trust", "drift_partitions", checks.DriftedCommits.ToString(inv)),
            ("trust", "drift_queries", checks.DriftedQueries.ToString(inv)),
        ];
    }
}

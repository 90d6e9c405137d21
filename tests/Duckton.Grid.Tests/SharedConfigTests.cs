using System.Diagnostics;
using System.Globalization;
using Duckton.Core.Configuration;
using Duckton.Node;
using Duckton.Node.Trust;

namespace Duckton.Grid.Tests;

/// <summary>
/// Several real duckton processes on ONE config directory (a host, shells, many shells at once): none fails on a
/// lock, the trust state every process writes ends up in the shared store, and a deny-list entry written by one
/// process is honoured by the others' next query. Also what a NEW process sees in p2p_peers() after a workload.
/// </summary>
public sealed class SharedConfigTests : IDisposable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-shared-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed record Run(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    /// <summary>Starts the CLI (the duckton.dll built next to the tests) with the given environment overrides.</summary>
    private static Process Start(IEnumerable<string> args, IDictionary<string, string?>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "duckton.dll"));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment.Remove("P2P_CONFIG_DIR");
        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            psi.Environment[k] = v;
        }
        return Process.Start(psi)!;
    }

    private static async Task<Run> RunAsync(IEnumerable<string> args, IDictionary<string, string?>? env = null, TimeSpan? timeout = null)
    {
        var sw = Stopwatch.StartNew();
        using var p = Start(args, env);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(4));
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"duckton {string.Join(' ', args)} did not finish");
        }
        return new Run(p.ExitCode, await stdout, await stderr, sw.Elapsed);
    }

    private static List<string[]> Csv(string stdout) =>
        [.. stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(l => l.Split(','))];

    [Fact]
    public async Task A_host_and_a_shell_share_the_default_config_directory_and_the_shells_block_is_honoured_by_the_host()
    {
        // The platform default config dir ($XDG_CONFIG_HOME/duckdb-p2p): neither process is told where it is.
        var env = new Dictionary<string, string?> { ["XDG_CONFIG_HOME"] = Path.Combine(_root, "xdg") };
        using var host = Start(["host", "--listen", "127.0.0.1:0", "--exit-with-stdin"], env);
        var ready = await host.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(90));
        Assert.StartsWith("ready node_id=", ready);
        var address = ready!.Split(' ')[2]["listen=".Length..];
        var stderr = host.StandardError.ReadToEndAsync();
        try
        {
            // A requester elsewhere uses the host (and so writes into the host's store through gossip and jobs).
            using var requester = new Requester(_root, "requester");
            requester.JoinAndLearn(address, 1);
            var one = new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 1, Quorum = 1 };
            Assert.True(requester.Host.Node.Query("SELECT 1 AS v", one).Meta.Verified);

            // The shell on the host's own config directory, side by side with it: the README's zero-config query,
            // the trust tables, and a block of that requester.
            var shell = await RunAsync(["sql", "--format", "csv",
                "-c", "SELECT typeof(answer) AS t, answer FROM p2p_query('SELECT 42 AS answer')",
                "-c", "SELECT count(*) AS n FROM p2p_blocklist()",
                "-c", $"SELECT count(*) AS n FROM p2p_block(id => '{requester.Host.Node.NodeId}', reason => 'shared-config test')"], env);
            Assert.True(shell.ExitCode == 0, shell.Stderr);
            Assert.Contains("INTEGER,42", shell.Stdout);
            Assert.DoesNotContain("lock", shell.Stderr, StringComparison.OrdinalIgnoreCase);
            Assert.False(host.HasExited, "the host must keep running beside the shell");

            // The host (another process) honours the shell's block on the requester's next query: it declines the job.
            var blocked = Assert.ThrowsAny<Exception>(() => requester.Host.Node.Query("SELECT 2 AS v", one));
            Assert.Contains("deny-list", blocked.Message + blocked.InnerException?.Message);

            // A second shell lists what the first wrote; the host is still serving.
            var again = await RunAsync(["sql", "--format", "csv", "-c", "SELECT id FROM p2p_blocklist()"], env);
            Assert.True(again.ExitCode == 0, again.Stderr);
            Assert.Contains(requester.Host.Node.NodeId, again.Stdout);
            Assert.False(host.HasExited);
        }
        finally
        {
            host.StandardInput.Close();
            if (!host.WaitForExit(10_000))
            {
                host.Kill(entireProcessTree: true);
            }
        }
        Assert.DoesNotContain("Conflicting lock", await stderr);
    }

    [Fact]
    public async Task Shells_on_one_config_directory_all_verify_remote_queries_and_every_receipt_is_kept_and_a_block_reaches_the_others()
    {
        // The shells share one identity (one config directory): every shell vets the same three newcomers with canaries at
        // once, and a host gives that identity only its share of job slots (worker.max_jobs_per_peer, the default), so
        // most canaries are first declined as busy. A busy newcomer is asked again, not dropped: every shell must still
        // find its quorum (this failed as "not enough hosts: have 1" while busy canaries counted as not passed).
        Duckton.DuckDB.Native.DuckDBNative.InitializeFromLibrary(); // the test opens the shared trust store itself below
        using var grid = new CliGrid(_root, hosts: 3, cheaters: 0, flaky: 0);
        var dir = Path.Combine(_root, "shared");
        Directory.CreateDirectory(dir);
        // 12 shells start at once on a small shared machine: the default 2 s for a gossip exchange (and for offers) would
        // measure CPU starvation, not the shared store. Everything else is the default.
        File.WriteAllText(Path.Combine(dir, "config.toml"), "[scheduler]\noffer_timeout_ms = 20000\n");
        const int shells = 12;
        var runs = await Task.WhenAll(Enumerable.Range(0, shells).Select(i => RunAsync(["sql", "--config-dir", dir, "--format", "csv",
            "-c", $"SELECT count(*) AS n FROM p2p_join(bootstrap => ['{grid.Seed}'])",
            "-c", $"SELECT key, value FROM p2p_query_meta('SELECT {i} AS v, sum(range) AS s FROM range(1000)', prefer => 'remote') WHERE key IN ('job_id', 'verified', 'error')"])));
        var jobs = new List<string>();
        foreach (var run in runs)
        {
            Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Stderr}");
            Assert.DoesNotContain("lock", run.Stderr, StringComparison.OrdinalIgnoreCase);
            var meta = Csv(run.Stdout).Where(r => r.Length == 2).ToDictionary(r => r[0], r => r[1]);
            Assert.True(meta.TryGetValue("verified", out var verified) && verified == "true", run.Stdout + run.Stderr);
            jobs.Add(meta["job_id"]);
        }
        Assert.Equal(shells, jobs.Distinct().Count());

        // Every shell's receipts are in the shared store: at least a quorum (2) of receipts for each job.
        using (var store = TrustStore.Open(dir))
        {
            var receipts = store.Receipts(limit: 100_000);
            foreach (var job in jobs)
            {
                Assert.True(receipts.Count(r => r.JobId == job) >= 2, $"job {job}: {receipts.Count(r => r.JobId == job)} receipts");
            }
            Assert.True(store.ReceiptCount() >= shells * 2, $"{store.ReceiptCount()} receipts");
        }
        // The identity key and runtime.toml written concurrently are intact: one node id, the seed persisted.
        var status = await RunAsync(["sql", "--config-dir", dir, "--format", "csv", "-c", "SELECT key, value FROM p2p_status() WHERE key IN ('node_id', 'seeds')"]);
        Assert.True(status.ExitCode == 0, status.Stderr);
        Assert.Contains(grid.Seed, status.Stdout);

        // A block written by one process reaches another running process's next query (no restart, no explicit refresh).
        using var other = new Requester(_root, "shared");
        other.JoinAndLearn(grid.Seed, 3);
        var two = new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 2, Quorum = 2 };
        Assert.True(other.Host.Node.Query("SELECT 7 AS v", two).Meta.Verified);
        var victim = grid.Hosts[0].NodeId;
        Assert.False(other.Host.Trust.IsBlocked(victim));
        var block = await RunAsync(["sql", "--config-dir", dir, "-c", $"SELECT count(*) FROM p2p_block(id => '{victim}', reason => 'cross-process')"]);
        Assert.True(block.ExitCode == 0, block.Stderr);
        Assert.True(other.Host.Trust.IsBlocked(victim));
        Assert.Equal("blocked", Assert.Single(other.Rows($"SELECT state FROM p2p_peers() WHERE node_id = '{victim}'"))[0]);
        for (var i = 0; i < 3; i++)
        {
            var outcome = other.Host.Node.Query($"SELECT {i} AS v", two);
            Assert.True(outcome.Meta.Verified);
            Assert.DoesNotContain(victim, Duckton.Core.Protocol.CommitCertificate.Verify(outcome.Meta.Certificate!, 2).Hosts);
        }
        var unblock = await RunAsync(["sql", "--config-dir", dir, "-c", $"SELECT count(*) FROM p2p_unblock(id => '{victim}')"]);
        Assert.True(unblock.ExitCode == 0, unblock.Stderr);
        Assert.False(other.Host.Trust.IsBlocked(victim));
    }

    [Fact]
    public async Task A_new_process_lists_every_host_a_previous_workload_saw_with_typed_trust_and_the_flagged_cheater()
    {
        using var grid = new CliGrid(_root, hosts: 3, cheaters: 1, flaky: 0);
        var cheater = Assert.Single(grid.Hosts, h => h.What.StartsWith("SIMULATED cheater", StringComparison.Ordinal)).NodeId;
        var dir = Path.Combine(_root, "requester");
        Directory.CreateDirectory(dir);
        var workload = new List<string> { "sql", "--config-dir", dir, "--format", "csv", "-c", $"SELECT count(*) FROM p2p_join(bootstrap => ['{grid.Seed}'])" };
        for (var i = 0; i < 6; i++)
        {
            workload.AddRange(["-c", $"SELECT * FROM p2p_query('SELECT {i} AS v, range AS r FROM range(10) ORDER BY r', prefer => 'remote')"]);
        }
        var first = await RunAsync(workload);
        Assert.True(first.ExitCode == 0, first.Stderr);

        // A NEW process that does not join: everything comes from the persisted store.
        var later = await RunAsync(["sql", "--config-dir", dir, "--format", "csv",
            "-c", "SELECT node_id, name, trust, flagged, state, observations FROM p2p_peers() ORDER BY trust DESC",
            "-c", "SELECT 'BEGIN-FILTER' AS m",
            "-c", "SELECT node_id FROM p2p_peers() WHERE trust > 0.1 ORDER BY node_id",
            "-c", "SELECT 'BEGIN-TYPES' AS m",
            "-c", "SELECT DISTINCT typeof(trust), typeof(reputation), typeof(observations), typeof(flagged), typeof(last_seen), typeof(networks), typeof(free_memory_bytes) FROM p2p_peers()"]);
        Assert.True(later.ExitCode == 0, later.Stderr);
        var lines = Csv(later.Stdout);
        var filterAt = lines.FindIndex(l => l[0] == "BEGIN-FILTER");
        var typesAt = lines.FindIndex(l => l[0] == "BEGIN-TYPES");
        var peers = lines[1..filterAt].Where(l => l.Length == 6).ToList();
        Assert.Equal(grid.Hosts.Select(h => h.NodeId).Order(), peers.Select(p => p[0]).Order());
        Assert.All(peers, p => Assert.Matches("^[a-z]+-[a-z]+$", p[1]));
        var trust = peers.Select(p => double.Parse(p[2], Inv)).ToList();
        Assert.Equal(trust.OrderDescending(), trust); // ORDER BY trust DESC sorted numerically
        Assert.Equal(cheater, peers[^1][0]);
        Assert.Equal("true", peers[^1][3]);
        Assert.All(peers.Where(p => p[0] != cheater), p => Assert.Equal("false", p[3]));
        Assert.All(peers, p => Assert.Contains(p[4], new[] { "live", "stale" }));
        Assert.All(peers.Where(p => p[0] != cheater), p => Assert.True(long.Parse(p[5], Inv) > 0, $"observations of {p[0]}: {p[5]}"));
        var filtered = lines[(filterAt + 2)..(typesAt - 1)].Select(l => l[0]).ToList();
        Assert.Equal(peers.Where(p => double.Parse(p[2], Inv) > 0.1).Select(p => p[0]).Order(StringComparer.Ordinal), filtered);
        Assert.Equal(["DOUBLE", "DOUBLE", "BIGINT", "BOOLEAN", "TIMESTAMP WITH TIME ZONE", "VARCHAR[]", "UBIGINT"], lines[typesAt + 2]);
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using Duckton.Core.Configuration;
using Duckton.Core.Data;
using Duckton.Core.Protocol;
using Duckton.Node;
using Duckton.Node.Grid;

namespace Duckton.Grid.Tests;

/// <summary>
/// A real <c>duckton grid up --hosts N --cheaters K --flaky K</c> process (it starts the host processes itself), read
/// the way a user reads it: the per-host lines and the "grid up: ... p2p_join(bootstrap => ['seed'])" line. Stopped
/// with SIGINT like Ctrl+C; <see cref="Stop"/> reports whether every host process it started has exited.
/// </summary>
public sealed partial class CliGrid : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private bool _stopped;

    /// <param name="environment">Extra environment of the grid's processes (its hosts read P2P_* settings from it).</param>
    public CliGrid(string root, int hosts, int cheaters, int flaky, IReadOnlyDictionary<string, string>? environment = null)
    {
        ConfigRoot = Path.Combine(root, "grid");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "up", "--hosts", hosts.ToString(CultureInfo.InvariantCulture),
            "--cheaters", cheaters.ToString(CultureInfo.InvariantCulture), "--flaky", flaky.ToString(CultureInfo.InvariantCulture), "--config-root", ConfigRoot })
        {
            psi.ArgumentList.Add(a);
        }
        _process = Process.Start(psi)!;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_stderr)
                {
                    _stderr.AppendLine(e.Data);
                }
            }
        };
        _process.BeginErrorReadLine();
        var lines = new List<string>();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var read = _process.StandardOutput.ReadLineAsync();
            var left = TimeSpan.FromSeconds(120) - deadline.Elapsed;
            if (left <= TimeSpan.Zero || !read.Wait(left) || read.Result is not { } line)
            {
                Dispose();
                throw new InvalidOperationException($"grid up did not print its 'grid up:' line; stdout:\n{string.Join('\n', lines)}\nstderr:\n{Stderr}");
            }
            lines.Add(line);
            if (line.StartsWith("grid up:", StringComparison.Ordinal))
            {
                Banner = line;
                break;
            }
            var host = HostLine().Match(line);
            if (host.Success)
            {
                Hosts.Add((host.Groups["id"].Value, host.Groups["addr"].Value, host.Groups["what"].Value));
            }
        }
        Seed = SeedOf().Match(Banner) is { Success: true } m ? m.Groups[1].Value : throw new InvalidOperationException($"no seed in '{Banner}'");
    }

    [GeneratedRegex(@"^(?<addr>\S+) node_id=(?<id>b3:[0-9a-f]{64}) (?<what>.*)$")]
    private static partial Regex HostLine();

    [GeneratedRegex(@"p2p_join\(bootstrap => \['([^']+)'\]\)")]
    private static partial Regex SeedOf();

    public string ConfigRoot { get; }
    public string Banner { get; } = "";
    public string Seed { get; }

    /// <summary>The <c>grid up</c> process (its host processes are its children).</summary>
    public int Pid => _process.Id;
    public List<(string NodeId, string Address, string What)> Hosts { get; } = [];

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>The host processes <c>grid up</c> started (their command line names a config dir under <see cref="ConfigRoot"/>).</summary>
    public IReadOnlyList<int> ChildPids()
    {
        var pids = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == _process.Id)
            {
                continue;
            }
            try
            {
                var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmdline.Contains(" host ", StringComparison.Ordinal) && cmdline.Contains(ConfigRoot + "/host-", StringComparison.Ordinal))
                {
                    pids.Add(pid);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // exited while we looked
            }
        }
        return pids;
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    private const int SigInt = 2;

    /// <summary>Ctrl+C: SIGINT to <c>grid up</c>, then waits for it and every host it started to exit. Returns (exit code, hosts still running).</summary>
    public (int? ExitCode, IReadOnlyList<int> Leftover) Stop(TimeSpan timeout)
    {
        var children = ChildPids();
        _stopped = true;
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigInt);
        }
        var exited = _process.WaitForExit(timeout);
        var deadline = Stopwatch.StartNew();
        List<int> alive;
        do
        {
            alive = [.. children.Where(pid => Directory.Exists($"/proc/{pid}") && !IsZombie(pid))];
            if (alive.Count == 0)
            {
                break;
            }
            Thread.Sleep(100);
        }
        while (deadline.Elapsed < TimeSpan.FromSeconds(5));
        return (exited ? _process.ExitCode : null, alive);
    }

    private static bool IsZombie(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return true;
        }
    }

    public void Dispose()
    {
        try
        {
            var children = ChildPids();
            if (!_stopped)
            {
                Stop(TimeSpan.FromSeconds(15));
            }
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
            foreach (var pid in children.Where(p => Directory.Exists($"/proc/{p}")))
            {
                try
                {
                    using var p = Process.GetProcessById(pid);
                    p.Kill(entireProcessTree: true);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                }
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}

/// <summary>
/// The user journey with the real CLI: <c>duckton grid up --hosts 9 --cheaters 1 --flaky 1</c>, a requester joins the
/// printed seed and runs a workload under the default trust policy (min_trust 0.7, nothing lowered).
/// </summary>
// Its own collection: with test parallelisation off (AssemblyInfo.cs) it never runs beside another grid of processes.
public sealed class CliGridTrustTests : IDisposable
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-cli-grid-").FullName;

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

    private static double D(string? s) => double.Parse(s!, Inv);

    [Fact]
    public async Task Grid_up_with_a_cheater_and_a_flaky_host_serves_correct_answers_under_the_default_policy()
    {
        var wall = Stopwatch.StartNew();
        using var grid = new CliGrid(_root, hosts: 9, cheaters: 1, flaky: 1);
        Assert.Equal(9, grid.Hosts.Count);
        var cheater = Assert.Single(grid.Hosts, h => h.What.StartsWith("SIMULATED cheater", StringComparison.Ordinal)).NodeId;
        var flaky = Assert.Single(grid.Hosts, h => h.What.StartsWith("SIMULATED flaky", StringComparison.Ordinal)).NodeId;
        var honest = grid.Hosts.Where(h => h.What == "honest").Select(h => h.NodeId).ToList();
        Assert.Equal(7, honest.Count);
        Assert.Contains("1 SIMULATED cheaters, 1 SIMULATED flaky", grid.Banner);
        // The hosts it starts keep the runtime's tiering delay (counting at once made a fresh grid's first query 200 ms
        // slower); their reused sandbox workers count at once (SandboxTests).
        var hostPids = ProcessTree.Descendants(grid.Pid).Where(p => ProcessTree.CommandLine(p).Contains("duckton.dll host ", StringComparison.Ordinal)).ToList();
        Assert.Equal(9, hostPids.Count);
        var variable = Duckton.Node.Grid.Execution.SandboxWorker.CallCountingDelayVariable;
        Assert.All(hostPids, p => Assert.Equal(Environment.GetEnvironmentVariable(variable), ProcessTree.EnvironmentVariable(p, variable)));

        using var requester = new Requester(_root, "requester", ("discovery.gossip.heartbeat_ms", "1000"));
        var node = requester.Host.Node;
        var config = requester.Host.Config.Effective().Config;
        Assert.Equal(0.7, config.Trust.MinTrust); // the default policy: nothing lowered
        requester.JoinAndLearn(grid.Seed, 9);
        Assert.Equal(9, node.GridIfStarted!.Membership.Live().Count);

        // A workload of answer-checked queries: every answer is right, the cheater never is part of one.
        for (var i = 0; i < 12; i++)
        {
            var sql = $"SELECT range % {i + 2} AS k, count(*) AS c, sum(range * {i + 7}) AS s FROM range({2000 + (i * 250)}) GROUP BY k ORDER BY k";
            var expected = node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Local }).Result;
            var outcome = node.Query(sql, new QueryOverrides { Prefer = PlannerPreference.Remote });
            Assert.Null(BatchComparer.Difference(expected, outcome.Result));
            Assert.True(outcome.Meta.Verified, $"query {i} not verified");
            Assert.NotEqual(cheater, outcome.Meta.Winner);
            Assert.DoesNotContain(cheater, CommitCertificate.Verify(outcome.Meta.Certificate!, 2).Hosts);
        }
        var receipts = requester.Rows("SELECT worker_id, verdict FROM p2p_receipts()");
        Assert.Contains(receipts, r => r[0] == cheater && r[1] == "Incorrect"); // its canary
        Assert.DoesNotContain(receipts, r => r[0] == cheater && r[1] == "Correct");

        // Audit every host with a canary twice (the flaky host alternately stalls before committing and mid-stream).
        foreach (var round in new[] { 1, 2 })
        {
            await Task.WhenAll(node.GridIfStarted.Membership.Live().Select(p => node.Trust.RunCanaryAsync(node.GridIfStarted.Coordinator, p, config, CancellationToken.None)));
        }

        var peers = requester.Rows("SELECT node_id, trust::VARCHAR, standing, flagged::VARCHAR FROM p2p_peers()").ToDictionary(r => r[0]!, r => r);
        Assert.True(D(peers[cheater][1]) < 0.05, $"cheater trust {peers[cheater][1]}");
        Assert.Equal("failed", peers[cheater][2]);
        Assert.Equal("true", peers[cheater][3]);
        var ranked = node.Trust.Rank(node.GridIfStarted.Coordinator.Eligible(config, QueryOverrides.None), new CandidateContext("x", "SELECT 1", config, QueryOverrides.None));
        Assert.DoesNotContain(ranked, p => p.NodeId == cheater);
        Assert.True(ranked.Count >= 2);

        receipts = requester.Rows("SELECT worker_id, verdict FROM p2p_receipts()");
        Assert.Contains(receipts, r => r[0] == flaky && r[1] == "Timeout");
        var bootstrap = 0.7 * 0.1;
        var honestTrust = honest.Select(h => D(peers[h][1])).ToList();
        Assert.All(honestTrust, t => Assert.True(t > bootstrap, $"honest trust {t} should have risen above the bootstrap {bootstrap}"));
        Assert.True(D(peers[flaky][1]) < honestTrust.Max(), $"flaky trust {peers[flaky][1]} should be below the best honest host's {honestTrust.Max()}");

        // And after all that, one more query: still correct, still without the cheater.
        var last = node.Query("SELECT 6 * 7 AS answer", new QueryOverrides { Prefer = PlannerPreference.Remote });
        Assert.True(last.Meta.Verified);
        Assert.DoesNotContain(cheater, CommitCertificate.Verify(last.Meta.Certificate!, 2).Hosts);

        var status = requester.Rows("SELECT key, value FROM p2p_status() WHERE \"group\" = 'trust'").ToDictionary(r => r[0]!, r => r[1]);
        Assert.True(int.Parse(status["hosts_failed"]!, Inv) >= 1);
        Assert.True(int.Parse(status["receipts_stored"]!, Inv) >= 9);
        Assert.Equal(9, new[] { "hosts_trusted", "hosts_vetted", "hosts_unvetted", "hosts_failed", "hosts_below_attestation", "hosts_blocked" }
            .Sum(k => int.Parse(status[k]!, Inv)));

        // A vouch signed here travels through the host processes to another requester that joins later.
        requester.Rows($"SELECT * FROM p2p_vouch('{honest[0]}', weight => 0.8)");
        await node.GridIfStarted.GossipRoundAsync();
        using (var other = new Requester(_root, "other-requester"))
        {
            other.Rows($"SELECT * FROM p2p_join(bootstrap => ['{grid.Seed}'])");
            var heard = Stopwatch.StartNew();
            while (!other.Rows("SELECT voucher_id, vouchee_id FROM p2p_vouches()").Any(r => r[0] == node.Identity.NodeId && r[1] == honest[0])
                && heard.Elapsed < TimeSpan.FromSeconds(10))
            {
                await other.Host.Node.GridIfStarted!.GossipRoundAsync();
            }
            var vouches = other.Rows("SELECT voucher_id, vouchee_id, weight::VARCHAR, signed::VARCHAR FROM p2p_vouches()");
            Assert.Contains(vouches, r => r[0] == node.Identity.NodeId && r[1] == honest[0] && r[2] == "0.8" && r[3] == "true");
            Assert.True(other.Host.Node.Trust.VouchesAccepted >= 1);
        }

        // Ctrl+C: the grid and every host process it started exit.
        var (exit, leftover) = grid.Stop(TimeSpan.FromSeconds(30));
        Assert.Equal(0, exit);
        Assert.Empty(leftover);
        Assert.True(wall.Elapsed < TimeSpan.FromSeconds(90), $"took {wall.Elapsed}");
    }
}

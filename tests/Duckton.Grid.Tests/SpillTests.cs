using System.Collections.Concurrent;
using Duckton.Core.Configuration;
using Duckton.Node;
using Xunit.Abstractions;

namespace Duckton.Grid.Tests;

/// <summary>
/// <c>sandbox.temp_dir_policy</c> / <c>sandbox.temp_dir</c> on a real <c>duckton host</c> process: a job whose aggregate
/// does not fit in the host's 64 MiB per-job memory spills into the configured directory (watched while it runs) and
/// the requester gets the right answer; an ephemeral per-job directory is gone once the job has ended.
/// </summary>
public sealed class SpillTests(ITestOutputHelper output) : IDisposable
{
    private const string SpillingQuery = "SELECT CAST(count(*) AS VARCHAR) AS v FROM (SELECT hash(i) AS k, count(*) AS c, max(i::VARCHAR) AS m FROM range(6000000) t(i) GROUP BY k)";
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-spill-grid-").FullName;
    private readonly List<IDisposable> _owned = [];

    public void Dispose()
    {
        foreach (var o in Enumerable.Reverse(_owned))
        {
            o.Dispose();
        }
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private (HostProcess Host, Requester Requester) Grid(string name, string sandbox)
    {
        var dir = Path.Combine(_root, name);
        Directory.CreateDirectory(dir);
        // No kernel memory cap on the worker (only DuckDB's 64 MiB): the test is about where DuckDB spills.
        File.WriteAllText(Path.Combine(dir, "config.toml"),
            $"[budget]\nper_job_memory_bytes = 67108864\n[sandbox]\n{sandbox}\n[sandbox.limits]\nmode = \"explicit\"\nmemory_bytes = 0\n");
        var host = HostProcess.Start(_root, name, "--threads", "1");
        _owned.Add(host);
        var r = new Requester(_root, "requester-" + name);
        _owned.Add(r);
        r.JoinAndLearn(host.Address, 1);
        return (host, r);
    }

    private static (string Result, HashSet<string> SpilledIn) RunWatching(Requester r, HostProcess host, string watched)
    {
        var seen = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        using var stop = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    foreach (var f in Directory.EnumerateFiles(watched, "duckdb_temp_*", SearchOption.AllDirectories))
                    {
                        seen[Path.GetDirectoryName(f)!] = true;
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                }
                await Task.Delay(10);
            }
        });
        var outcome = r.Host.Node.Query(SpillingQuery, new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 1, Quorum = 1, Nodes = [host.NodeId], TimeoutMs = 180_000 });
        stop.Cancel();
        watcher.Wait();
        return (System.Text.Encoding.UTF8.GetString(outcome.Result.Batches[0].Columns[0].GetBytes(0)), seen.Keys.ToHashSet(StringComparer.Ordinal));
    }

    [Fact]
    public void A_host_job_spills_into_the_custom_temp_dir()
    {
        var spill = Path.Combine(_root, "custom-spill");
        var (host, r) = Grid("custom", $"temp_dir_policy = \"custom\"\ntemp_dir = \"{spill}\"");
        var (result, spilledIn) = RunWatching(r, host, _root);
        output.WriteLine($"spilled in: {string.Join(", ", spilledIn)}");
        Assert.Equal("6000000", result);
        Assert.Equal([spill], spilledIn);
    }

    [Fact]
    public void A_host_job_spills_into_its_own_ephemeral_directory_which_is_deleted_after_the_job()
    {
        var parent = Path.Combine(_root, "ephemeral-parent");
        Directory.CreateDirectory(parent);
        var (host, r) = Grid("ephemeral", $"temp_dir_policy = \"ephemeral\"\ntemp_dir = \"{parent}\"");
        var (result, spilledIn) = RunWatching(r, host, parent);
        output.WriteLine($"spilled in: {string.Join(", ", spilledIn)}");
        Assert.Equal("6000000", result);
        var dir = Assert.Single(spilledIn);
        Assert.StartsWith(Path.Combine(parent, "duckton-spill-job-"), dir, StringComparison.Ordinal);
        // Deleted once the job's instance closes (pre-opened instances for later jobs may have made theirs, empty).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Directory.Exists(dir) && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        Assert.False(Directory.Exists(dir));
        Assert.Empty(Directory.EnumerateFiles(parent, "*", SearchOption.AllDirectories));
    }
}

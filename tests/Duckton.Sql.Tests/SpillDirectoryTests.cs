using System.Collections.Concurrent;
using System.Text;
using Duckton.Core.Configuration;
using Duckton.DuckDB;
using Duckton.DuckDB.Native;
using Duckton.Engine;

namespace Duckton.Sql.Tests;

/// <summary>
/// <c>sandbox.temp_dir_policy</c> / <c>sandbox.temp_dir</c> on the real libduckdb: a job whose aggregate does not fit in
/// its 64 MiB limit spills into the directory the policy names (watched while it runs), ephemeral directories are gone
/// after the job, and without a policy the same job fails.
/// </summary>
public sealed class SpillDirectoryTests : IDisposable
{
    // A hash aggregate over 6 M distinct keys with strings: well past 64 MiB, so DuckDB must spill or fail.
    private const string SpillingQuery = "SELECT CAST(count(*) AS VARCHAR) AS v FROM (SELECT hash(i) AS k, count(*) AS c, max(i::VARCHAR) AS m FROM range(6000000) t(i) GROUP BY k)";
    private readonly string _root;

    public SpillDirectoryTests()
    {
        DuckDBNative.InitializeFromLibrary();
        _root = Directory.CreateTempSubdirectory("duckton-spill-test-").FullName;
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static LockedDownEngine Engine(TempDirPolicy? policy, string dir = "") =>
        new(EngineOptions.Default with { WarmInstances = 0, Threads = 1, MemoryLimitBytes = 64L << 20, SpillPolicy = policy, SpillDirectory = dir });

    /// <summary>Runs the spilling query while watching <paramref name="watched"/>; returns the result and the directories that held DuckDB temp files.</summary>
    private static (string Result, HashSet<string> SpilledIn) RunWatching(LockedDownEngine engine, string watched)
    {
        var seen = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        using var stop = new CancellationTokenSource();
        // A dedicated thread (not the pool, which a loaded test run may starve), and the query starts only once it looks.
        var looking = new ManualResetEventSlim();
        var watcher = Task.Factory.StartNew(() =>
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
                    // A directory deleted while listed: look again.
                }
                looking.Set();
                Thread.Sleep(5);
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        looking.Wait(TimeSpan.FromSeconds(30));
        var r = engine.Execute(SpillingQuery);
        stop.Cancel();
        watcher.Wait();
        return (Encoding.UTF8.GetString(r.Batches[0].Columns[0].GetBytes(0)), seen.Keys.ToHashSet(StringComparer.Ordinal));
    }

    [Fact]
    public void Without_a_spill_policy_a_job_past_its_memory_limit_fails()
    {
        using var engine = Engine(null);
        Assert.Throws<DuckDBException>(() => engine.Execute(SpillingQuery));
    }

    [Fact]
    public void Custom_spills_into_temp_dir_and_jobs_cannot_write_there_or_read_elsewhere()
    {
        var custom = Path.Combine(_root, "custom");
        using var engine = Engine(TempDirPolicy.Custom, custom);
        var (result, spilledIn) = RunWatching(engine, _root);
        Assert.Equal("6000000", result);
        Assert.Equal([custom], spilledIn);
        Assert.True(Directory.Exists(custom)); // a custom directory is the operator's: kept
        var write = Assert.Throws<DuckDBException>(() => engine.Execute($"COPY (SELECT 1) TO '{Path.Combine(custom, "x.csv")}'"));
        Assert.Contains("not allowed", write.Message);
        Assert.False(File.Exists(Path.Combine(custom, "x.csv")));
        var outside = Path.Combine(_root, "outside.csv");
        File.WriteAllText(outside, "a\n1\n");
        Assert.Throws<DuckDBException>(() => engine.Execute($"SELECT * FROM read_csv('{outside}')"));
    }

    [Fact]
    public void Ephemeral_spills_into_a_fresh_directory_per_job_that_is_deleted_after_it()
    {
        using var engine = Engine(TempDirPolicy.Ephemeral, _root);
        var (first, firstDirs) = RunWatching(engine, _root);
        var (second, secondDirs) = RunWatching(engine, _root);
        Assert.Equal("6000000", first);
        Assert.Equal("6000000", second);
        var a = Assert.Single(firstDirs);
        var b = Assert.Single(secondDirs);
        Assert.NotEqual(a, b);
        Assert.StartsWith(Path.Combine(_root, "duckton-spill-job-"), a, StringComparison.Ordinal);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_root)); // both jobs' directories are gone
    }

    [Fact]
    public void Ephemeral_reuses_the_warm_instance_and_its_empty_directory_until_a_job_spills()
    {
        using var engine = Engine(TempDirPolicy.Ephemeral, _root);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(1, engine.Execute("SELECT 42 AS x").Batches[0].RowCount);
        }
        // Five small jobs, one instance: one directory, empty.
        var before = Assert.Single(Directory.EnumerateDirectories(_root));
        Assert.Empty(Directory.EnumerateFileSystemEntries(before));
        var (_, spilledIn) = RunWatching(engine, _root);
        Assert.Equal([before], spilledIn);
        // The instance that spilled is closed with its directory; the next job gets an untouched one.
        Assert.False(Directory.Exists(before));
        engine.Execute("SELECT 1");
        var after = Assert.Single(Directory.EnumerateDirectories(_root));
        Assert.NotEqual(before, after);
        Assert.Empty(Directory.EnumerateFileSystemEntries(after));
    }

    [Fact]
    public void Inherit_spills_into_the_process_directory_which_goes_with_the_engine()
    {
        string dir;
        using (var engine = Engine(TempDirPolicy.Inherit))
        {
            dir = engine.SharedSpillDirectory!;
            Assert.Contains($"duckton-spill-{Environment.ProcessId}-", dir, StringComparison.Ordinal);
            var (result, spilledIn) = RunWatching(engine, dir);
            Assert.Equal("6000000", result);
            Assert.Equal([dir], spilledIn);
            Assert.True(Directory.Exists(dir));
        }
        Assert.False(Directory.Exists(dir));
    }
}

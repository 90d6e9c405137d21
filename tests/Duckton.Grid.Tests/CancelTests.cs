using System.Diagnostics;
using System.Globalization;
using System.Text;
using Duckton.Core.Configuration;
using Duckton.DuckDB;
using Duckton.Node;
using Xunit.Abstractions;

namespace Duckton.Grid.Tests;

/// <summary>Two real host processes that run one job at a time (<c>--max-jobs 1</c>), and a requester that joined them.</summary>
public sealed class CancelGridFixture : IDisposable
{
    public CancelGridFixture()
    {
        Root = Directory.CreateTempSubdirectory("duckton-cancel-tests-").FullName;
        string[] oneJob = ["--max-jobs", "1", "--threads", "1"];
        H1 = HostProcess.Start(Root, "c1", oneJob);
        H2 = HostProcess.Start(Root, "c2", [.. oneJob, "--seed", H1.Address]);
        Requester = new Requester(Root, "requester", ("scheduler.offer_timeout_ms", "10000"));
        Requester.JoinAndLearn(H1.Address, 2);
        CancelTests.Quick(Requester, this); // warm: JIT, engines, pooled connections
    }

    public string Root { get; }
    public HostProcess H1 { get; }
    public HostProcess H2 { get; }
    public Requester Requester { get; }

    public string Nodes => GridFixture.Nodes(H1, H2);

    public void Dispose() => FixtureTeardown.Run(Requester, [H1, H2], Root);
}

[CollectionDefinition(Name)]
public sealed class CancelGridCollection : ICollectionFixture<CancelGridFixture>
{
    public const string Name = "cancel-grid";
}

/// <summary>
/// Interrupting a p2p_query that runs on hosts: the requester returns at once, sends Cancel to every host it dispatched
/// to (or its connections close, when the requester dies), and the hosts interrupt their engine and free the job slot.
/// </summary>
[Collection(CancelGridCollection.Name)]
public sealed class CancelTests(CancelGridFixture grid, ITestOutputHelper output)
{
    /// <summary>Minutes of work on a host (10^11 rows hashed; the hosts' job timeout of 60 s would end it first).</summary>
    private const string Long = "SELECT sum(hash(i)) AS s FROM range(100000000000) t(i)";

    private string RemoteLong => $"SELECT * FROM p2p_query('{Long}', prefer => 'remote', replicas => 2, quorum => 2, nodes => {grid.Nodes})";

    /// <summary>A verified remote query on both one-slot hosts: it succeeds only when both have their slot free.</summary>
    internal static void Quick(Requester requester, CancelGridFixture g) =>
        requester.Host.Node.Query("SELECT 42 AS answer", new QueryOverrides { Prefer = PlannerPreference.Remote, Replicas = 2, Quorum = 2, Nodes = [g.H1.NodeId, g.H2.NodeId] });

    /// <summary>CPU seconds a host and its sandbox workers used so far (/proc/PID/stat utime + stime).</summary>
    private static double CpuSeconds(int pid) => ProcessTree.TreeCpuSeconds(pid);

    /// <summary>Waits until both hosts burned at least half a CPU second since <paramref name="before"/>: the job runs on both.</summary>
    private void WaitUntilBothHostsWork((double H1, double H2) before, Func<bool> stillRunning)
    {
        var sw = Stopwatch.StartNew();
        while (CpuSeconds(grid.H1.Pid) - before.H1 < 0.5 || CpuSeconds(grid.H2.Pid) - before.H2 < 0.5)
        {
            Assert.True(stillRunning(), "the long query ended before both hosts were working on it");
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"the hosts did not start the job (cpu +{CpuSeconds(grid.H1.Pid) - before.H1:0.00} s, +{CpuSeconds(grid.H2.Pid) - before.H2:0.00} s)");
            Thread.Sleep(50);
        }
    }

    /// <summary>While the long job runs, both hosts' only slot is taken: a next job is declined (what makes the later success mean something).</summary>
    private void AssertBothHostsAreFull()
    {
        var e = Assert.Throws<QueryFailedException>(() => Quick(grid.Requester, grid));
        Assert.Contains("at capacity", e.Message, StringComparison.Ordinal);
    }

    /// <summary>How long until both one-slot hosts accept and finish a next job.</summary>
    private TimeSpan UntilSlotsAreFree()
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                Quick(grid.Requester, grid);
                return sw.Elapsed;
            }
            catch (QueryFailedException) when (sw.Elapsed < TimeSpan.FromSeconds(90))
            {
                Thread.Sleep(100); // declined "at capacity": the cancelled job still holds a slot
            }
        }
    }

    [Fact]
    public async Task Interrupting_the_requester_cancels_the_job_on_every_host_and_frees_their_slots()
    {
        var before = (CpuSeconds(grid.H1.Pid), CpuSeconds(grid.H2.Pid));
        using var connection = grid.Requester.Database.Connect();
        var running = Task.Factory.StartNew(() => connection.QueryAll(RemoteLong), TaskCreationOptions.LongRunning);
        WaitUntilBothHostsWork(before, () => !running.IsCompleted);
        AssertBothHostsAreFull();

        var sw = Stopwatch.StartNew();
        connection.Interrupt();
        var error = await Assert.ThrowsAsync<DuckDBException>(() => running.WaitAsync(TimeSpan.FromSeconds(60)));
        var returned = sw.Elapsed;
        Assert.Contains("Interrupted", error.Message, StringComparison.Ordinal);
        var free = UntilSlotsAreFree();
        output.WriteLine($"interrupt to error {returned.TotalMilliseconds:0} ms; then both hosts ran a next job after {free.TotalMilliseconds:0} ms");
        // Within 1 s on an idle machine; allow a few here. Without the Cancel the hosts would hold their only slot
        // until their job timeout (60 s), and the requester would wait for its dispatch timeout (30 s).
        Assert.True(returned < TimeSpan.FromSeconds(4), $"the interrupted statement returned after {returned.TotalMilliseconds:0} ms");
        Assert.True(free < TimeSpan.FromSeconds(8), $"the hosts accepted a next job {free.TotalMilliseconds:0} ms after the interrupt returned");
    }

    [Theory]
    [InlineData("INT")] // Ctrl-C in a duckton sql process: the requester sends Cancel
    [InlineData("KILL")] // the requester dies: its connections close, and the hosts cancel on their own
    public void A_requester_process_interrupted_or_killed_frees_the_hosts(string signal)
    {
        var dir = Path.Combine(grid.Root, "cli-" + signal.ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", dir, "--format", "csv",
            "-c", $"SELECT count(*) AS n FROM p2p_join(bootstrap => ['{grid.H1.Address}'])", "-c", RemoteLong,
        })
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["P2P_CONFIG_DIR"] = dir;
        var before = (CpuSeconds(grid.H1.Pid), CpuSeconds(grid.H2.Pid));
        using var cli = Process.Start(psi)!;
        var stderr = new StringBuilder();
        cli.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        cli.BeginErrorReadLine();
        _ = cli.StandardOutput.ReadToEndAsync();
        try
        {
            WaitUntilBothHostsWork(before, () => !cli.HasExited);
            AssertBothHostsAreFull();
            var sw = Stopwatch.StartNew();
            using (var kill = Process.Start("kill", [$"-{signal}", cli.Id.ToString(CultureInfo.InvariantCulture)])!)
            {
                kill.WaitForExit();
            }
            Assert.True(cli.WaitForExit(TimeSpan.FromSeconds(30)), "the requester did not stop");
            var exited = sw.Elapsed;
            cli.WaitForExit();
            if (signal == "INT")
            {
                Assert.Equal(1, cli.ExitCode);
                lock (stderr)
                {
                    Assert.Contains("Interrupted", stderr.ToString(), StringComparison.Ordinal);
                }
                Assert.True(exited < TimeSpan.FromSeconds(5), $"SIGINT to exit took {exited.TotalMilliseconds:0} ms");
            }
            var free = UntilSlotsAreFree();
            output.WriteLine($"SIG{signal} to requester exit {exited.TotalMilliseconds:0} ms; then both hosts ran a next job after {free.TotalMilliseconds:0} ms");
            Assert.True(free < TimeSpan.FromSeconds(8), $"the hosts accepted a next job {free.TotalMilliseconds:0} ms after the requester {(signal == "INT" ? "was interrupted" : "died")}");
        }
        finally
        {
            if (!cli.HasExited)
            {
                cli.Kill(entireProcessTree: true);
            }
        }
    }
}

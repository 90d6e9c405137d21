using Duckton.Core.Configuration;
using Duckton.Engine;
using Duckton.Node.Grid.Execution;
using Microsoft.Extensions.Logging.Abstractions;

namespace Duckton.Grid.Tests;

/// <summary>The executor choices of <c>[sandbox]</c>, driven directly (the workers are the real duckton.dll next to the tests).</summary>
public sealed class JobExecutorTests
{
    private static readonly IReadOnlyList<string> s_worker = ["dotnet", Path.Combine(AppContext.BaseDirectory, "duckton.dll")];

    private static long Answer(IJobExecutor executor)
    {
        using var result = executor.ExecuteAsync("SELECT 42 AS answer", CancellationToken.None).GetAwaiter().GetResult().Result;
        return result.RowCount;
    }

    [Fact]
    public void Sandbox_disabled_runs_jobs_in_process()
    {
        Duckton.DuckDB.Native.DuckDBNative.InitializeFromLibrary();
        using var executor = JobExecutors.Create(EngineOptions.Default, new SandboxOptions { Enabled = false }, 1, NullLogger.Instance);
        Assert.IsType<InProcessExecutor>(executor);
        Assert.Contains("sandbox.enabled = false", executor.Isolation, StringComparison.Ordinal);
        Assert.Equal(1, Answer(executor));
    }

    [Fact]
    public void Backend_none_runs_jobs_in_a_worker_process_without_kernel_limits()
    {
        var before = ProcessTree.SandboxWorkers(Environment.ProcessId); // another test's workers may still be ending
        using var executor = new SandboxExecutor(s_worker, EngineOptions.Default, new SandboxOptions { Backend = SandboxBackend.None, Limits = new SandboxLimits() }, 1, NullLogger.Instance);
        Assert.Equal("none", executor.LimitsBackend);
        Assert.Contains("no kernel limits", executor.Isolation, StringComparison.Ordinal);
        Assert.Equal(1, Answer(executor));
        var workers = ProcessTree.SandboxWorkers(Environment.ProcessId).Except(before).ToList();
        Assert.NotEmpty(workers);
        Assert.All(workers, w =>
        {
            Assert.DoesNotContain("duckton", ProcessTree.CgroupV1Path(w, "memory") ?? "", StringComparison.Ordinal);
            Assert.Equal("unlimited", ProcessTree.Limit(w, "Max address space"));
        });
    }

    [Fact]
    public void Backend_cgroups_uses_control_groups_where_this_process_can_create_them()
    {
        using var executor = new SandboxExecutor(s_worker, EngineOptions.Default, new SandboxOptions { Backend = SandboxBackend.Cgroups, Limits = new SandboxLimits { MemoryBytes = 300L << 20 } }, 1, NullLogger.Instance);
        // This machine runs the tests as root with cgroup v1 (docs/SECURITY.md, "Job isolation"); elsewhere the constructor refuses.
        Assert.StartsWith("cgroup", executor.LimitsBackend, StringComparison.Ordinal);
        Assert.Contains("memory 300 MiB", executor.Isolation, StringComparison.Ordinal);
        Assert.Equal(1, Answer(executor));
    }
}

/// <summary>Cancelling sandboxed jobs: a worker stops an interrupted job and stays warm; one that does not is killed.</summary>
public sealed class SandboxCancelTests
{
    private static readonly IReadOnlyList<string> s_worker = ["dotnet", Path.Combine(AppContext.BaseDirectory, "duckton.dll")];
    private const string Endless = "SELECT sum(hash(i)) AS s FROM range(100000000000) t(i)";

    private static SandboxExecutor Executor(TimeSpan grace) =>
        new(s_worker, EngineOptions.Default, new SandboxOptions { Backend = SandboxBackend.None, Limits = new SandboxLimits(), WarmWorkers = 1, CancelGrace = grace }, 1, NullLogger.Instance);

    private static long Answer(IJobExecutor executor)
    {
        using var result = executor.ExecuteAsync("SELECT 42 AS answer", CancellationToken.None).GetAwaiter().GetResult().Result;
        return result.RowCount;
    }

    private static OperationCanceledException CancelAfter(IJobExecutor executor, string sql, TimeSpan after)
    {
        using var cts = new CancellationTokenSource(after);
        return Assert.ThrowsAny<OperationCanceledException>(() => executor.ExecuteAsync(sql, cts.Token).GetAwaiter().GetResult().Result.Dispose());
    }

    /// <summary>Runs <paramref name="sql"/> with a cancel after <paramref name="after"/>; finishing first is fine too.</summary>
    private static void TryRun(IJobExecutor executor, string sql, TimeSpan after)
    {
        using var cts = new CancellationTokenSource(after);
        try
        {
            executor.ExecuteAsync(sql, cts.Token).GetAwaiter().GetResult().Result.Dispose();
        }
        catch (OperationCanceledException)
        {
        }
    }

    [Fact]
    public void A_cancelled_running_job_is_stopped_by_its_worker_which_then_serves_the_next_job()
    {
        using var executor = Executor(TimeSpan.FromSeconds(30)); // generous: this test is about the interrupt, not the kill
        Assert.Equal(1, Answer(executor));
        Assert.Equal(1, executor.WorkersStarted);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var e = CancelAfter(executor, Endless, TimeSpan.FromMilliseconds(500));
        Assert.Contains("worker stopped it", e.Message, StringComparison.Ordinal);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"the cancel took {sw.Elapsed.TotalSeconds:0.0} s");
        // The same process answers the next job: no replacement was started.
        Assert.Equal(1, Answer(executor));
        Assert.Equal(1, executor.WorkersStarted);
    }

    [Fact]
    public void A_worker_that_does_not_stop_within_the_grace_is_killed_and_replaced()
    {
        using var executor = Executor(TimeSpan.Zero); // no grace: the kill follows the interrupt at once
        Assert.Equal(1, Answer(executor));
        var e = CancelAfter(executor, Endless, TimeSpan.FromMilliseconds(500));
        Assert.Contains("killed", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, Answer(executor));
        Assert.True(executor.WorkersStarted >= 2, $"workers started: {executor.WorkersStarted}");
    }

    [Fact]
    public async Task Overlapping_jobs_reuse_the_warm_workers_instead_of_starting_new_ones()
    {
        using var executor = new SandboxExecutor(s_worker, EngineOptions.Default,
            new SandboxOptions { Backend = SandboxBackend.None, Limits = new SandboxLimits(), WarmWorkers = 2 }, 1, NullLogger.Instance);
        // At once, while both warm workers are still starting: a short job that ends in the first one to be ready, before
        // the second is (a job waiting for a worker that starts used to count as neither warm nor busy, so the short job's
        // end started a third process to refill the pool).
        var first = new[] { executor.ExecuteAsync("SELECT 1 AS n", CancellationToken.None), executor.ExecuteAsync("SELECT 2 AS n", CancellationToken.None) };
        foreach (var job in first)
        {
            (await job).Result.Dispose();
        }
        for (var round = 0; round < 6; round++)
        {
            // Two jobs at once, each long enough (a few hundred ms) to overlap.
            var jobs = Enumerable.Range(0, 2).Select(_ => executor.ExecuteAsync("SELECT count(*) AS n FROM range(20000000) t(i) WHERE i % 7 = 3", CancellationToken.None)).ToArray();
            foreach (var job in jobs)
            {
                (await job).Result.Dispose();
            }
        }
        // Only the two warm workers ever ran (each overlap used to start a third process and close one that came back).
        Assert.True(executor.WorkersStarted <= 2, $"workers started: {executor.WorkersStarted}");
    }

    [Fact]
    public async Task Once_jobs_overlapped_up_to_the_hosts_slots_the_next_overlaps_find_warm_workers()
    {
        // One worker started ahead, up to three kept (a host's three job slots): the first round of three overlapping
        // jobs starts two more; every later round finds all three warm. Keeping only the one started ahead closed two
        // of the three after each round and started two again in the next.
        using var executor = new SandboxExecutor(s_worker, EngineOptions.Default,
            new SandboxOptions { Backend = SandboxBackend.None, Limits = new SandboxLimits(), WarmWorkers = 1, MaxWorkers = 3 }, 1, NullLogger.Instance);
        for (var round = 0; round < 4; round++)
        {
            var jobs = Enumerable.Range(0, 3).Select(_ => executor.ExecuteAsync("SELECT count(*) AS n FROM range(20000000) t(i) WHERE i % 7 = 3", CancellationToken.None)).ToArray();
            foreach (var job in jobs)
            {
                (await job).Result.Dispose();
            }
        }
        Assert.True(executor.WorkersStarted <= 3, $"workers started: {executor.WorkersStarted}");
    }

    [Fact]
    public async Task A_job_cancelled_while_a_worker_starts_for_it_leaves_that_worker_warm_for_the_next_job()
    {
        using var executor = new SandboxExecutor(s_worker, EngineOptions.Default,
            new SandboxOptions { Backend = SandboxBackend.None, Limits = new SandboxLimits(), WarmWorkers = 1, MaxWorkers = 2 }, 1, NullLogger.Instance);
        Assert.Equal(1, Answer(executor)); // the worker started ahead is ready
        // It is busy with a long job; a second job (a race lost at quorum) is cancelled while its own worker starts.
        using var stopLong = new CancellationTokenSource();
        var longJob = executor.ExecuteAsync("SELECT sum(hash(i)) AS s FROM range(100000000000) t(i)", stopLong.Token);
        using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(30)))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => executor.ExecuteAsync("SELECT 1", cts.Token));
        }
        Assert.Equal(2, executor.WorkersStarted);
        // The next job runs in the worker started for the cancelled one (the first is still busy): no third process.
        Assert.Equal(1, Answer(executor));
        Assert.Equal(2, executor.WorkersStarted);
        await stopLong.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => longJob);
    }

    [Fact]
    public void Jobs_cancelled_while_their_worker_starts_leave_no_worker_behind()
    {
        using var executor = Executor(TimeSpan.FromSeconds(30));
        // Cancelled long before a fresh .NET worker process can be ready: each used to drop the starting worker (left
        // running, idle) and make the next job start another.
        for (var i = 0; i < 5; i++)
        {
            TryRun(executor, "SELECT 1", TimeSpan.FromMilliseconds(30));
        }
        Assert.Equal(1, Answer(executor));
        Assert.True(executor.WorkersStarted <= 2, $"workers started: {executor.WorkersStarted}");
    }
}

/// <summary>
/// A host facing a sandbox worker that breaks its pipe protocol: the job fails with what went wrong (it never hangs) and
/// the worker is not used again. The workers here are small shell scripts in place of duckton's, announcing themselves
/// ready as a real one does.
/// </summary>
public sealed class SandboxWorkerProtocolTests
{
    /// <summary>A fake worker: says it is ready, waits for the job's first byte, then runs <paramref name="then"/> (shell).</summary>
    private static SandboxExecutor Fake(string then) => Scripted("printf 'R\\000\\000\\000\\000'; head -c 1 > /dev/null; " + then);

    /// <summary>An executor whose workers are <paramref name="script"/> (shell; the worker's arguments follow, unused).</summary>
    private static SandboxExecutor Scripted(string script) => new(["/bin/sh", "-c", script, "fake-worker"],
        EngineOptions.Default, new SandboxOptions { Backend = SandboxBackend.None, Limits = new SandboxLimits() }, 1, NullLogger.Instance);

    private static Exception Failure(SandboxExecutor executor) =>
        Assert.ThrowsAny<Exception>(() => executor.ExecuteAsync("SELECT 42", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult());

    [Fact]
    public void A_frame_the_protocol_does_not_allow_fails_the_job_and_retires_the_worker()
    {
        var before = ProcessTree.SandboxWorkers(Environment.ProcessId);
        using var executor = Fake("printf 'Z\\000\\000\\000\\000'; while :; do sleep 1; done"); // stays alive: only the frame is wrong
        var e = Failure(executor);
        Assert.IsType<InvalidDataException>(e);
        Assert.Contains("unexpected frame 'Z'", e.Message, StringComparison.Ordinal);
        // Stopped, not kept: what is left is the one warm worker started to replace it.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (ProcessTree.SandboxWorkers(Environment.ProcessId).Except(before).Count() > 1 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(50);
        }
        Assert.Single(ProcessTree.SandboxWorkers(Environment.ProcessId).Except(before));
        Assert.Equal(2, executor.WorkersStarted);
    }

    [Fact]
    public void A_worker_that_ends_while_running_the_job_fails_it_with_its_exit_code()
    {
        using var executor = Fake("exit 3");
        var e = Failure(executor);
        Assert.Contains("it ended while running the job (exit code 3)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_worker_that_ends_before_it_is_ready_fails_the_job()
    {
        using var executor = Scripted("exit 4");
        var e = Failure(executor);
        Assert.Contains("it ended while starting (exit code 4)", e.Message, StringComparison.Ordinal);
    }
}

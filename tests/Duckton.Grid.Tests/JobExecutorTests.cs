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

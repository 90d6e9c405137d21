using Duckton.Core.Data;
using Duckton.Engine;

namespace Duckton.Node.Grid.Execution;

/// <summary>Runs a hosted job's SQL somewhere (in this process or a sandboxed worker process) and hands back its result.</summary>
public interface IJobExecutor : IDisposable
{
    /// <summary>How jobs are isolated, in words (the host's start-up log and <c>p2p_status()</c> show it).</summary>
    string Isolation { get; }

    /// <summary>The host's shared read-only directories (input fingerprints are computed by the host itself).</summary>
    LocalInputs Inputs { get; }

    /// <summary>
    /// Runs <paramref name="sql"/>. Cancelling stops it at once (a worker process is killed). A job that passes its memory
    /// or CPU limit fails with an <see cref="JobLimitException"/> naming the limit.
    /// </summary>
    Task<ExecutedJob> ExecuteAsync(string sql, CancellationToken cancellationToken);
}

/// <summary>A job's result, and its canonical hash when the executor computed it while the rows arrived (else null).</summary>
/// <remarks>The caller owns <see cref="Result"/> and disposes it (its batches may live in a spill file).</remarks>
public sealed record ExecutedJob(ResultSet Result, string? Hash);

/// <summary>A job stopped by one of its limits (memory, CPU time); the message names the limit and its value.</summary>
internal sealed class JobLimitException(string message) : Exception(message);

/// <summary>Kernel limits of one sandboxed job. 0 = no cap.</summary>
public sealed record SandboxLimits
{
    public long MemoryBytes { get; init; }
    public TimeSpan CpuTime { get; init; }
    public long MaxFileSizeBytes { get; init; }
    public int MaxOpenFiles { get; init; }
    public int MaxProcesses { get; init; }
}

/// <summary>How hosted jobs are isolated (<c>[sandbox]</c>).</summary>
public sealed record SandboxOptions
{
    /// <summary>Run jobs in sandboxed worker processes (when this process can start them; see <see cref="JobExecutors.WorkerCommand"/>).</summary>
    public bool Enabled { get; init; } = true;

    public Duckton.Core.Configuration.SandboxBackend Backend { get; init; } = Duckton.Core.Configuration.SandboxBackend.Auto;

    /// <summary>A fresh worker process for every job (else a worker that ended a job cleanly serves the next one).</summary>
    public bool ProcessPerJob { get; init; }

    public SandboxLimits Limits { get; init; } = new();

    /// <summary>Result bytes a sandboxed job keeps in the host's memory before the rest goes to an owner-only spill file.</summary>
    public long SpoolMemoryBytes { get; init; } = 8L << 20;

    /// <summary>
    /// How long a cancelled job's worker has to stop it after the interrupt before it is killed (an interrupted worker
    /// stays warm for the next job; DuckDB stops within milliseconds, so only a worker that hangs reaches this).
    /// </summary>
    public TimeSpan CancelGrace { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Worker processes started ahead of the first jobs and kept waiting for one.</summary>
    public int WarmWorkers { get; init; } = 1;

    /// <summary>
    /// Most worker processes kept, idle or busy (the host's job slots): a worker that ends a job cleanly goes back to
    /// the pool while fewer are kept, so once jobs have overlapped this far the next overlap finds a warm process instead
    /// of starting one on the query path (a start costs a process's start-up and JIT, far more than a small job).
    /// </summary>
    public int MaxWorkers { get; init; } = 1;

    /// <summary>The limits <c>[sandbox.limits]</c> give a job, given the host's per-job memory budget.</summary>
    public static SandboxLimits LimitsFromConfig(Duckton.Core.Configuration.SandboxLimitsConfig limits, long perJobMemoryBytes) =>
        limits.Mode == Duckton.Core.Configuration.SandboxLimitsMode.Explicit
            ? new SandboxLimits
            {
                MemoryBytes = limits.MemoryBytes,
                CpuTime = limits.CpuTime,
                MaxFileSizeBytes = limits.MaxFileSizeBytes,
                MaxOpenFiles = limits.MaxOpenFiles,
                MaxProcesses = limits.MaxProcesses,
            }
            : new SandboxLimits
            {
                // inherit_budget: the job's memory budget, and generous fixed caps on the rest (a job writes no files).
                MemoryBytes = perJobMemoryBytes,
                MaxFileSizeBytes = perJobMemoryBytes,
                MaxOpenFiles = 1024,
                MaxProcesses = 256,
            };
}

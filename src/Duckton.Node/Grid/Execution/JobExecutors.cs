using Duckton.Engine;
using Microsoft.Extensions.Logging;

namespace Duckton.Node.Grid.Execution;

/// <summary>Chooses how a host runs jobs: sandboxed worker processes when it can, else in-process.</summary>
public static class JobExecutors
{
    /// <summary>
    /// The command line that starts a sandbox worker (this program with its hidden <c>sandbox-worker</c> subcommand), set
    /// by the CLI at start-up. Null inside the DuckDB extension: a library loaded into someone else's process has no
    /// program of its own to start, so jobs hosted from there run in-process.
    /// </summary>
    public static IReadOnlyList<string>? WorkerCommand { get; set; }

    public static IJobExecutor Create(EngineOptions engine, SandboxOptions sandbox, int threads, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(sandbox);
        IJobExecutor executor;
        if (!sandbox.Enabled)
        {
            executor = new InProcessExecutor(engine, "sandbox.enabled = false");
        }
        else if (WorkerCommand is not { Count: > 0 } command)
        {
            executor = new InProcessExecutor(engine, "this process cannot start sandbox workers: hosting from inside the DuckDB extension");
        }
        else if (!OperatingSystem.IsLinux())
        {
            executor = new InProcessExecutor(engine, "sandbox workers need Linux");
        }
        else
        {
            executor = new SandboxExecutor(command, engine, sandbox, threads, logger);
        }
        logger.JobIsolation(executor.Isolation);
        return executor;
    }
}

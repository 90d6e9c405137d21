using System.Diagnostics;

namespace Duckton.Node.Grid.Execution;

/// <summary>
/// The .NET runtime settings of the long-lived worker processes a host starts: its reused sandbox workers.
/// </summary>
public static class LongLivedProcess
{
    /// <summary>
    /// Tiered compilation recompiles a hot method optimised only after its calls are counted, and it starts counting
    /// only once 100 ms have passed without a method being compiled for the first time. A worker serving a job every few
    /// milliseconds stayed on its first, unoptimised code for more than a thousand jobs, and at steady state still cost
    /// more per job than with counting at once (docs/BENCHMARKS.md, seventeenth round). Counting at once costs a young
    /// process more compiling: a one-shot <c>duckton sql</c> about 200 ms of CPU, and a fresh grid's first query 200 ms
    /// when its hosts counted at once too; a worker starts ahead of its jobs, so it pays that off their path. Set only
    /// for reused workers (not a worker per job), and never over a value the environment already has.
    /// </summary>
    public const string CallCountingDelayVariable = "DOTNET_TC_CallCountingDelayMs";

    /// <summary>Adds the settings to <paramref name="start"/> (for a process that serves many jobs, not a one-off).</summary>
    public static void Configure(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (Environment.GetEnvironmentVariable(CallCountingDelayVariable) is null)
        {
            start.Environment[CallCountingDelayVariable] = "0";
        }
    }
}

using System.Diagnostics;

namespace Duckton.Node.Grid.Execution;

/// <summary>
/// The .NET runtime settings of the long-lived processes duckton starts itself: a host's reusable sandbox workers, and
/// the hosts that <c>grid up</c>, <c>grid chaos</c> and <c>bench grid</c> start.
/// </summary>
public static class LongLivedProcess
{
    /// <summary>
    /// Tiered compilation recompiles a hot method optimised only after its calls are counted, and it starts counting
    /// only once 100 ms have passed without a method being compiled for the first time. A host or worker serving jobs
    /// every few milliseconds stayed on its first, unoptimised code for more than a thousand jobs: in <c>bench grid</c>
    /// a fresh grid still used about 40% more CPU per query after 1,000 queries than at its steady state. Counting at
    /// once gets there within about a thousand queries (the same CPU over the first two thousand, spent earlier).
    /// It costs a short-lived process more (a one-shot <c>duckton sql</c> about 200 ms of CPU), so it is set only
    /// for these processes, and never over a value the environment already has.
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

using Microsoft.Extensions.Logging;

namespace Duckton.Node.Economics;

/// <summary>
/// SIMULATED crashes for recovery tests and demos: with <c>DUCKTON_SIMULATE_CRASH</c> set to a point's name, the process
/// exits at once there (exit code 86), as if killed, after saying so on stderr. Not a setting: never set in production.
/// </summary>
public static class SimulatedCrash
{
    /// <summary>The environment variable naming the point.</summary>
    public const string Variable = "DUCKTON_SIMULATE_CRASH";

    /// <summary>After the escrow is funded, before any row is fetched.</summary>
    public const string AfterOpen = "escrow_after_open";

    /// <summary>After the rows verified and the record says the escrow is owed, before the settle is sent.</summary>
    public const string BeforeSettle = "escrow_before_settle";

    public const int ExitCode = 86;

    public static bool Requested(string point) => string.Equals(Environment.GetEnvironmentVariable(Variable), point, StringComparison.Ordinal);

    public static void Exit(string point, ILogger logger)
    {
        logger.LogWarning("SIMULATED crash at {Point} ({Variable}): exiting now", point, Variable);
        Console.Error.WriteLine($"duckton: SIMULATED crash at {point} ({Variable}) — test behaviour; exiting with code {ExitCode}");
        Console.Error.Flush();
        Environment.Exit(ExitCode);
    }
}

using Microsoft.Extensions.Logging;

namespace Duckton.Node.Grid.Execution;

/// <summary>Job-isolation log messages (event ids 1380–1389 of the node's range).</summary>
internal static partial class SandboxLog
{
    [LoggerMessage(EventId = 1380, Level = LogLevel.Information, Message = "Job isolation: {Isolation}")]
    public static partial void JobIsolation(this ILogger logger, string isolation);

    [LoggerMessage(EventId = 1381, Level = LogLevel.Debug, Message = "Sandbox worker {Pid} started")]
    public static partial void SandboxWorkerStarted(this ILogger logger, int pid);

    [LoggerMessage(EventId = 1382, Level = LogLevel.Warning, Message = "Starting a sandbox worker failed")]
    public static partial void SandboxWorkerFailed(this ILogger logger, Exception exception);
}

using System.CommandLine;
using System.Net;
using Duckton.Node.Grid;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Duckton.Cli;

/// <summary>
/// Logging of the long-running commands (<c>host</c>, <c>grid up</c>): Microsoft.Extensions.Logging's console logger,
/// one line per event on stderr, so stdout keeps only the lines scripts parse (<c>ready node_id=... listen=...</c>).
/// </summary>
internal static class HostLog
{
    public static Option<bool> VerboseOption() => new("--verbose", "-v") { Description = "Log debug detail as well (stderr)" };

    public static Option<bool> QuietOption() => new("--quiet", "-q") { Description = "Log warnings and errors only (stderr)" };

    /// <summary>The minimum level the two options select; null with an error when both are given.</summary>
    public static LogLevel? Level(bool verbose, bool quiet) => (verbose, quiet) switch
    {
        (true, true) => null,
        (true, false) => LogLevel.Debug,
        (false, true) => LogLevel.Warning,
        _ => LogLevel.Information,
    };

    /// <summary>A console logger factory writing every level to stderr; dispose it to flush before exiting.</summary>
    public static ILoggerFactory Create(LogLevel minimum) => LoggerFactory.Create(b => b
        .SetMinimumLevel(minimum)
        .AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.UseUtcTimestamp = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.ColorBehavior = Console.IsErrorRedirected ? LoggerColorBehavior.Disabled : LoggerColorBehavior.Default;
        })
        .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));

    /// <summary>"b3:1a2b3c4d": enough of a node id to tell hosts apart in a log.</summary>
    public static string Short(string nodeId) => nodeId.Length > 11 ? nodeId[..11] : nodeId;

    /// <summary>Logs one finished job at information level (a failed job's error is part of the line).</summary>
    public static void Job(ILogger logger, JobReport r)
    {
        var ms = Math.Round(r.Duration.TotalMilliseconds, 1);
        var job = r.JobId.Length > 12 ? r.JobId[..12] : r.JobId;
        if (r.Outcome == JobOutcome.Failed)
        {
            // The first line says what failed; DuckDB's caret diagram and suggestions after it do not fit a log line.
            var detail = r.Detail ?? "";
            logger.JobFailed(job, Short(r.RequesterId), ms, detail.Split('\n', 2)[0].Trim());
        }
        else
        {
            logger.JobDone(job, Short(r.RequesterId), r.Outcome.ToString().ToLowerInvariant(), r.Rows, r.BytesSent, ms);
        }
    }

    /// <summary>
    /// Checks a listen address the way the host binds it: HOST:PORT where HOST is an IP address (IPv6 in brackets),
    /// localhost, * or empty (all interfaces) and PORT 0..65535 (0 = any free port). Null when valid, else why not.
    /// </summary>
    public static string? ListenProblem(string value) => HostPort(value, minPort: 0, names: false);

    /// <summary>Checks a seed: HOST:PORT where HOST is an IP address or a DNS name and PORT 1..65535.</summary>
    public static string? SeedProblem(string value) => HostPort(value, minPort: 1, names: true);

    private static string? HostPort(string value, int minPort, bool names)
    {
        string host;
        string port;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || close + 1 >= value.Length || value[close + 1] != ':')
            {
                return "is not HOST:PORT";
            }
            host = value[1..close];
            port = value[(close + 2)..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return $"has '{host}' in brackets, which is not an IPv6 address";
            }
        }
        else
        {
            var colon = value.LastIndexOf(':');
            if (colon < 0 || value.IndexOf(':', StringComparison.Ordinal) != colon)
            {
                return "is not HOST:PORT (an IPv6 address goes in brackets: [::1]:9494)";
            }
            host = value[..colon];
            port = value[(colon + 1)..];
            var isIp = IPAddress.TryParse(host, out _) && host.Count(c => c == '.') == 3;
            if (names)
            {
                if (host.Length == 0 || !host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
                {
                    return $"has host '{host}', which is not an IP address or host name";
                }
            }
            else if (!(isIp || host is "" or "*" or "localhost"))
            {
                return $"has host '{host}'; listen on an IP address of this machine, localhost, or * / 0.0.0.0 for all interfaces";
            }
        }
        if (port.Length is 0 or > 5 || !port.All(char.IsAsciiDigit) || int.Parse(port, System.Globalization.CultureInfo.InvariantCulture) is var p && (p < minPort || p > 65535))
        {
            return $"has port '{port}'; use {minPort}..65535{(minPort == 0 ? " (0 picks a free port)" : "")}";
        }
        return null;
    }
}

/// <summary>Log messages of the CLI's long-running commands; event ids 1200–1299.</summary>
internal static partial class CliLog
{
    [LoggerMessage(EventId = 1200, Level = LogLevel.Information, Message = "job {JobId} from {Requester}: {Outcome}, {Rows} rows, {Bytes} bytes, {DurationMs} ms")]
    public static partial void JobDone(this ILogger logger, string jobId, string requester, string outcome, ulong rows, long bytes, double durationMs);

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "job {JobId} from {Requester}: failed after {DurationMs} ms: {Error}")]
    public static partial void JobFailed(this ILogger logger, string jobId, string requester, double durationMs, string error);

    [LoggerMessage(EventId = 1202, Level = LogLevel.Debug, Message = "hosting as {NodeId} on {Listen}; memory {MemoryBytes} bytes, {Threads} threads, {MaxJobs} jobs at once, job timeout {TimeoutMs} ms")]
    public static partial void Hosting(this ILogger logger, string nodeId, string listen, long memoryBytes, int threads, int maxJobs, double timeoutMs);

    [LoggerMessage(EventId = 1203, Level = LogLevel.Debug, Message = "joining via {Seeds}")]
    public static partial void Joining(this ILogger logger, string seeds);

    [LoggerMessage(EventId = 1204, Level = LogLevel.Information, Message = "stopping after {Jobs} jobs served")]
    public static partial void Stopping(this ILogger logger, long jobs);

    [LoggerMessage(EventId = 1205, Level = LogLevel.Information, Message = "SIMULATED faults on this host (test/demo): {Fault}, extra commit delay {CommitDelayMs} ms")]
    public static partial void SimulatedHost(this ILogger logger, string fault, double commitDelayMs);

    [LoggerMessage(EventId = 1210, Level = LogLevel.Debug, Message = "host {Index} (pid {Pid}) ready: {NodeId} on {Listen}")]
    public static partial void GridHostReady(this ILogger logger, int index, int pid, string nodeId, string listen);

    [LoggerMessage(EventId = 1211, Level = LogLevel.Information, Message = "stopping {Hosts} hosts")]
    public static partial void GridStopping(this ILogger logger, int hosts);

    [LoggerMessage(EventId = 1212, Level = LogLevel.Warning, Message = "host {Index} (pid {Pid}) did not exit within 2 s of its stdin closing; killed")]
    public static partial void GridHostKilled(this ILogger logger, int index, int pid);

    [LoggerMessage(EventId = 1213, Level = LogLevel.Debug, Message = "removed the temporary config root {Root}")]
    public static partial void GridRootRemoved(this ILogger logger, string root);

    [LoggerMessage(EventId = 1214, Level = LogLevel.Warning, Message = "could not remove the temporary config root {Root}: {Problem}")]
    public static partial void GridRootKept(this ILogger logger, string root, string problem);
}

using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Duckton.Cli.Tests;

/// <summary>A real <c>duckton grid up</c> process for a test, and the seed its banner tells a shell to join.</summary>
internal static partial class GridUpProcess
{
    /// <summary>Kills a grid started by <see cref="Start"/> (its whole process tree) and releases it; null or exited: only released.</summary>
    public static void Stop(Process? grid)
    {
        if (grid is { HasExited: false })
        {
            grid.Kill(entireProcessTree: true);
            grid.WaitForExit(10_000);
        }
        grid?.Dispose();
    }

    /// <summary>
    /// Starts <c>grid up --hosts <paramref name="hosts"/></c> under <paramref name="configRoot"/> and waits (up to
    /// <paramref name="wait"/>, 3 min by default) for its <c>p2p_join(bootstrap => [...])</c> line. Its output is drained
    /// from then on, so a chatty grid never blocks on a full pipe. The caller kills the process tree when done.
    /// </summary>
    public static (Process Grid, string Seed) Start(string configRoot, int hosts = 3, IReadOnlyDictionary<string, string>? environment = null, TimeSpan? wait = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "up", "--hosts", hosts.ToString(System.Globalization.CultureInfo.InvariantCulture), "--config-root", configRoot })
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }
        var grid = Process.Start(psi)!;
        grid.ErrorDataReceived += (_, _) => { };
        grid.BeginErrorReadLine();
        var limit = wait ?? TimeSpan.FromMinutes(3);
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < limit)
        {
            var read = grid.StandardOutput.ReadLineAsync();
            if (!read.Wait(limit - waited.Elapsed) || read.Result is not { } line)
            {
                break;
            }
            if (Seed().Match(line) is { Success: true } m)
            {
                _ = grid.StandardOutput.ReadToEndAsync();
                return (grid, m.Groups[1].Value);
            }
        }
        if (!grid.HasExited)
        {
            grid.Kill(entireProcessTree: true);
            grid.WaitForExit(10_000);
        }
        grid.Dispose();
        throw new InvalidOperationException("grid up did not print its seed");
    }

    [GeneratedRegex(@"p2p_join\(bootstrap => \['([^']+)'\]\)")]
    private static partial Regex Seed();
}

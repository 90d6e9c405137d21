using Xunit;

namespace Duckton.Cli.Tests;

/// <summary><c>duckton bench grid --small-only --warmup N</c>: real host processes on loopback, only the small-query figures.</summary>
public sealed class BenchGridTests
{
    [Fact]
    public void Small_only_prints_the_small_query_figures_and_stops_before_streaming()
    {
        var r = CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "bench", "grid", "--small-only", "--warmup", "3", "--runs", "5"],
            timeout: TimeSpan.FromMinutes(8));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("verified small query (SELECT 42, k=3, q=2, loopback, real DuckDB), 5 runs:", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("CPU per query: requester ", r.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"the requester allocated \d+\.\d KiB per query \(\d+ gen0 collections over the 5 queries\); the rows came with the winner's commit in 5 of 5 ", r.Stdout);
        var rows = r.Stdout.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).ToList();
        // The header and the two small-query rows; nothing of the stalled-host, streaming, local or hash parts.
        Assert.Equal(3, rows.Count);
        Assert.StartsWith("| small verified query: CPU of requester + all hosts", rows[1], StringComparison.Ordinal);
        Assert.StartsWith("| small verified query p50 / p99 |", rows[2], StringComparison.Ordinal);
        Assert.DoesNotContain("one stalled host", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("verified streaming", r.Stdout, StringComparison.Ordinal);
    }
}

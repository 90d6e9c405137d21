using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Duckton.Cli.Tests;

/// <summary>
/// The shell's spinner for a remote query: a real <c>duckton grid up</c> (three host processes) and <c>duckton sql</c>
/// on a pseudo-terminal running a verified query that keeps the hosts busy for seconds.
/// </summary>
public partial class ShellGridTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-shell-grid-").FullName;
    private Process? _grid;

    public void Dispose()
    {
        GridUpProcess.Stop(_grid);
        Directory.Delete(_dir, recursive: true);
    }

    private string StartGrid()
    {
        (_grid, var seed) = GridUpProcess.Start(Path.Combine(_dir, "grid"), wait: TimeSpan.FromMinutes(2));
        return seed;
    }

    [Fact]
    public void A_remote_query_shows_its_grid_phases_on_a_terminal_then_the_verified_rows()
    {
        var seed = StartGrid();
        // Seconds of work on each host, so the first commit comes after the indicator appears (1 s): 2.4 s on one core of
        // a fast machine, well under the 30 s dispatch timeout on a slow, loaded one. (With 100 M rows a fast machine
        // committed within the second and the offers phase was never drawn.)
        const string query = "SELECT count(*) AS n FROM range(400000000) t(i) WHERE hash(i) % 7 = 0";
        var (code, transcript) = ShellTests.Terminal(
        [
            ShellTests.Expect("D "),
            ShellTests.Send($"SELECT count(*) AS peers FROM p2p_join(bootstrap => ['{seed}']);\r"),
            ShellTests.Expect("│ int64 │", 120),
            ShellTests.Send($"SELECT n, typeof(n) AS t FROM p2p_query('{query}', replicas => 3, quorum => 2, prefer => 'remote');\r"),
            ShellTests.Expect("│ varchar │", 200),
            ShellTests.Expect("D "),
            ShellTests.Send(".quit\r"),
        ], ["--config-dir", Path.Combine(_dir, "requester")]);
        Assert.True(code == 0, transcript);
        var query0 = transcript.IndexOf("typeof(n)", StringComparison.Ordinal);
        var phases = Regex.Matches(transcript[query0..], @"\r[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] grid: ([^\u001b]*?)  \d+\.\d s").Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.True(phases.Count > 0, transcript);
        // Offers go to as many hosts as are known and vetted (2 or 3 of the 3, depending on how far gossip and newcomer
        // vetting got), never fewer than the quorum.
        Assert.Contains(phases, p => Regex.IsMatch(p, @"^offers sent to [23] hosts, waiting for commits$"));
        // Phases only move forward: offers, then commits, then quorum / verified rows.
        var order = phases.Select(p => p.StartsWith("offers", StringComparison.Ordinal) ? 0 : p.StartsWith("commits", StringComparison.Ordinal) ? 1 : 2).ToList();
        Assert.Equal(order.Order(), order);
        Assert.Contains("│ 57141330 │ BIGINT  │", transcript); // the verified count (what DuckDB counts locally for the same query)
    }
}

using System.Globalization;
using Xunit;

namespace Duckton.Cli.Tests;

/// <summary><c>duckton bench sim</c>: the grid simulator from the command line, each option changing what it should.</summary>
public sealed class BenchSimTests
{
    /// <summary>The values of one figure's row, one per grid size.</summary>
    private static string[] Row(string table, string figure) =>
        table.Split('\n').First(l => l.StartsWith("| " + figure + " |", StringComparison.Ordinal))
            .Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)[1..];

    private static double Percent(string cell) => double.Parse(cell.TrimEnd('%'), CultureInfo.InvariantCulture);

    private static CliRunner.Result Sim(params string[] args)
    {
        var r = CliRunner.Duckton(null, ["bench", "sim", .. args]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return r;
    }

    [Fact]
    public void Bench_sim_prints_the_table_and_writes_the_plot()
    {
        var dir = Directory.CreateTempSubdirectory("duckton-bench-sim-").FullName;
        try
        {
            var svg = Path.Combine(dir, "sim.svg");
            var md = Path.Combine(dir, "sim.md");
            var r = Sim("--nodes", "40,80", "--rounds", "6", "--join-round", "3", "--fanout", "4", "--seeds", "2", "--loss", "0.05", "--seed", "7", "--svg", svg, "--markdown", md);
            Assert.Contains("| figure | n = 40 | n = 80 |", r.Stdout, StringComparison.Ordinal);
            Assert.All(Row(r.Stdout, "steady state: share of the grid a host knows alive (mean)"), v => Assert.True(Percent(v) >= 80, v));
            // The newcomer joined at heartbeat 3 of 6 and was heard of.
            Assert.All(Row(r.Stdout, "new host known by 50% of hosts after (s)"), v => Assert.NotEqual("never", v));
            Assert.Contains(Row(r.Stdout, "gossip bytes per host per heartbeat (sent + received, mean)")[0], File.ReadAllText(md), StringComparison.Ordinal);
            var plot = File.ReadAllText(svg);
            Assert.StartsWith("<svg", plot, StringComparison.Ordinal);
            Assert.Equal(4, plot.Split("<polyline").Length - 1); // a coverage line per grid, bytes for hosts and for seeds
            // --rounds 6: each coverage line has a point per heartbeat.
            var firstLine = plot.Split("<polyline")[1];
            Assert.Equal(6, firstLine[(firstLine.IndexOf("points=\"", StringComparison.Ordinal) + 8)..firstLine.IndexOf("\"/>", StringComparison.Ordinal)].Split(' ').Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Bench_sim_fanout_loss_and_seeds_change_what_the_grid_learns()
    {
        // No fanout: hosts hear only from the seeds while joining.
        var isolated = Sim("--nodes", "40", "--rounds", "10", "--join-round", "2", "--fanout", "0", "--seeds", "1");
        Assert.True(Percent(Row(isolated.Stdout, "steady state: share of the grid a host knows alive (mean)")[0]) < 60, isolated.Stdout);
        // Every exchange lost: nobody learns anything.
        var lost = Sim("--nodes", "40", "--rounds", "3", "--join-round", "2", "--loss", "1");
        Assert.Equal("0.0%", Row(lost.Stdout, "steady state: share of the grid a host knows alive (mean)")[0]);
        // Every host a seed: a joining host reaches the others directly, so within two heartbeats hosts know nearly all.
        var seeded = Sim("--nodes", "40", "--rounds", "3", "--join-round", "3", "--seeds", "40", "--seed", "3");
        Assert.True(Percent(Row(seeded.Stdout, "steady state: share of the grid a host knows alive (mean)")[0]) >= 90, seeded.Stdout);
    }

    [Fact]
    public void Bench_sim_max_heap_stops_a_grid_and_says_so()
    {
        // 1,000 hosts pass 1 MiB within their first heartbeats: the grid stops there and its table says where.
        var small = Sim("--nodes", "1000", "--rounds", "3", "--join-round", "2", "--max-heap", "1MiB");
        Assert.Matches(@"n = 1000: stopped at [0-9.]+ heartbeats: the managed heap passed 1 MiB", small.Stdout);
        // The default leaves room for the same grid to finish.
        var whole = Sim("--nodes", "1000", "--rounds", "3", "--join-round", "2");
        Assert.DoesNotContain("stopped at", whole.Stdout, StringComparison.Ordinal);
        var bad = CliRunner.Duckton(null, ["bench", "sim", "--nodes", "40", "--max-heap", "lots"]);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--max-heap", bad.Stderr, StringComparison.Ordinal);
    }
}

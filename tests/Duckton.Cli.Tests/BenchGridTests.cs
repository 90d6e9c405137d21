using System.Globalization;
using System.Text.RegularExpressions;
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
        // Thread hops and wake-ups per query, read from the runtime and /proc: a verified query over three hosts cannot
        // complete without the requester's pool running its continuations and every process waking for its messages.
        var hops = Regex.Match(r.Stdout, @"per query: the requester ran (?<items>\d+\.\d) thread-pool work items; context switches: requester (?<r>\d+\.\d) \+ host processes (?<h>\d+\.\d) \+ their live sandbox workers (?<w>\d+\.\d) ");
        Assert.True(hops.Success, r.Stdout);
        Assert.All(new[] { "items", "r", "h", "w" }, g => Assert.True(double.Parse(hops.Groups[g].Value, CultureInfo.InvariantCulture) >= 1, $"{g}: {r.Stdout}"));
        // The floor, measured in the same run, adds up: 3 executions + 6 signatures + 2 checks.
        var floor = Regex.Match(r.Stdout, @"floor: 3 executions x (?<e>\d+\.\d+) ms \+ 6 Ed25519 signatures x (?<s>\d+) us \+ 2 checks x (?<c>\d+) us = (?<f>\d+\.\d+) ms");
        Assert.True(floor.Success, r.Stdout);
        double G(string name) => double.Parse(floor.Groups[name].Value, CultureInfo.InvariantCulture);
        Assert.True(G("s") > 0 && G("c") > 0, r.Stdout);
        Assert.InRange(G("f"), 3 * G("e") + (6 * G("s") + 2 * G("c")) / 1000 - 0.02, 3 * G("e") + (6 * G("s") + 2 * G("c")) / 1000 + 0.02);
        // The bare message pattern, measured in the same run both ways, and added to the floor (the cheaper way).
        var pattern = Regex.Matches(r.Stdout, @"message pattern alone, (?<mode>async|blocking) I/O .*: CPU per round requester \d+\.\d+ \+ hosts \d+\.\d+ \+ workers \d+\.\d+ = (?<t>\d+\.\d+) ms, p50 \d+\.\d+ ms, p99 \d+\.\d+ ms, (?<sw>\d+\.\d) context switches per round in all");
        Assert.Equal(["async", "blocking"], pattern.Select(m => m.Groups["mode"].Value));
        // A round wakes at least the three hosts and their three workers once each.
        Assert.All(pattern, m => Assert.True(double.Parse(m.Groups["sw"].Value, CultureInfo.InvariantCulture) >= 6, r.Stdout));
        var messages = pattern.Min(m => double.Parse(m.Groups["t"].Value, CultureInfo.InvariantCulture));
        Assert.True(messages > 0, r.Stdout);
        var withMessages = Regex.Match(r.Stdout, @"floor with the messages: (?<f>\d+\.\d+) \+ (?<m>\d+\.\d+) = (?<t>\d+\.\d+) ms");
        Assert.True(withMessages.Success, r.Stdout);
        Assert.Equal(G("f"), double.Parse(withMessages.Groups["f"].Value, CultureInfo.InvariantCulture));
        Assert.Equal(messages, double.Parse(withMessages.Groups["m"].Value, CultureInfo.InvariantCulture));
        var rows = r.Stdout.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).ToList();
        // The header, the two small-query rows and the two floors'; nothing of the stalled-host, streaming, local or hash parts.
        Assert.Equal(5, rows.Count);
        Assert.StartsWith("| small verified query: CPU of requester + all hosts", rows[1], StringComparison.Ordinal);
        Assert.StartsWith("|   its floor: k executions + the signatures the protocol cannot skip |", rows[2], StringComparison.Ordinal);
        Assert.StartsWith("|   its floor with the bare message pattern (3 host + 3 worker processes, TLS 1.3, pipes) |", rows[3], StringComparison.Ordinal);
        Assert.StartsWith("| small verified query p50 / p99 |", rows[4], StringComparison.Ordinal);
        Assert.DoesNotContain("one stalled host", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("verified streaming", r.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// The whole bench at a tiny size: every figure of the table is printed beside its anchor, and the stalled-host pair
    /// is measured twice, back to back (the target's figure) and with idle time before each query.
    /// </summary>
    [Fact]
    public void The_full_run_prints_every_figure_and_the_stalled_pair_both_back_to_back_and_with_idle_time()
    {
        var r = CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "bench", "grid", "--warmup", "3", "--runs", "5", "--rows", "1000"],
            timeout: TimeSpan.FromMinutes(8));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var pairs = Regex.Matches(r.Stdout, @"stalled p50 (?<sp>\d+\.\d+) ms  p99 (?<s>\d+\.\d+) ms; without: p50 \d+\.\d+ ms  p99 (?<n>\d+\.\d+) ms; p99 ratio (?<r>\d+\.\d+)x");
        Assert.True(pairs.Count == 1, r.Stdout);
        Assert.Contains("one stalled host of k=3: p50 ", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("the same, 10 ms idle before each query: stalled p50 ", r.Stdout, StringComparison.Ordinal);
        double V(string name) => double.Parse(pairs[0].Groups[name].Value, CultureInfo.InvariantCulture);
        Assert.True(V("sp") > 0 && V("s") >= V("sp") && V("n") > 0, r.Stdout);
        Assert.InRange(V("r"), V("s") / V("n") - 0.01, V("s") / V("n") + 0.01);
        var rows = r.Stdout.Split('\n').Where(l => l.StartsWith("| ", StringComparison.Ordinal)).Skip(1).Select(l => l.Split(" | ")[0][2..]).ToList();
        Assert.Equal(
        [
            "small verified query: CPU of requester + all hosts (incl. sandbox workers) per query",
            "  its floor: k executions + the signatures the protocol cannot skip",
            "  its floor with the bare message pattern (3 host + 3 worker processes, TLS 1.3, pipes)",
            "small verified query p50 / p99",
            "one stalled host of k=3 vs none (interleaved), p99",
            "  the same with 10 ms idle before each query (cores not saturated)",
            "fetch phase (quorum -> verified rows) vs a bare TLS 1.3 transfer",
            "end to end, 0M rows, remote verified vs the same query locally (wall)",
            "  the same in CPU (requester + hosts incl. workers, vs the local run's)",
            "local p2p_query vs the same query direct, 0M rows, in-process (Node client: bench/extension/run.sh)",
            "canonical hash, narrow rows (INTEGER) per CPU second",
        ], rows);
        Assert.Contains("load average at the end:", r.Stdout, StringComparison.Ordinal);
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Duckton.Grid.Tests;

/// <summary>
/// A reduced <c>duckton grid chaos</c> run (the full one: <c>--trials 10000</c>, docs/SECURITY.md): real host processes
/// with every SIMULATED role and attacker, one verified query per trial checked against the local answer.
/// </summary>
public sealed partial class ChaosTests
{
    [GeneratedRegex(@"^\| (?<name>[^|]+?) \| (?<n>[0-9,]+) \|$", RegexOptions.Multiline)]
    private static partial Regex Row();

    [Theory]
    [InlineData("--trials", "0", "--trials must be 1..10,000,000")]
    [InlineData("--trials", "10000001", "--trials must be 1..10,000,000")]
    [InlineData("--hosts", "4", "--hosts must be 5..64")]
    [InlineData("--hosts", "65", "--hosts must be 5..64")]
    [InlineData("--parallel", "0", "--parallel must be 1..16")]
    [InlineData("--parallel", "17", "--parallel must be 1..16")]
    public async Task Out_of_range_counts_are_refused_with_one_line(string option, string value, string message)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        var args = new List<string> { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "chaos", "--trials", "1" };
        if (option == "--trials")
        {
            args.RemoveRange(args.Count - 2, 2);
        }
        args.AddRange([option, value]);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.Equal(2, p.ExitCode);
        Assert.Equal($"Error: {message}", (await stderr).Trim());
        Assert.Equal("", await stdout);
    }

    [Fact]
    public async Task Sixty_hostile_trials_from_two_requesters_at_once_accept_no_wrong_answer_and_penalise_no_honest_host()
    {
        var tmp = Directory.CreateTempSubdirectory("chaos-test-").FullName;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, Environment = { ["TMPDIR"] = tmp } };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "chaos", "--trials", "60", "--hosts", "10", "--seed", "11", "--parallel", "2" })
        {
            psi.ArgumentList.Add(a);
        }
        var wall = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(300)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"grid chaos did not finish in 300 s; stdout so far:\n{await stdout}");
        }
        var text = await stdout;
        var rows = Row().Matches(text).ToDictionary(m => m.Groups["name"].Value, m => int.Parse(m.Groups["n"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture));
        Assert.True(rows.Count > 8, $"no result table:\n{text}\n{await stderr}");
        Assert.Equal(60, rows["trials (verified queries attempted)"]);
        // Two requesters ran at once, and every trial is counted exactly once whichever of them ran it. How many were used
        // in all depends on timing: a fast requester can reach its 40 trials and be replaced before the other has joined.
        var used = Regex.Match(text, @"(\d+) requesters, 2 at once");
        Assert.True(used.Success && int.Parse(used.Groups[1].Value, CultureInfo.InvariantCulture) >= 2, text);
        Assert.Equal(60, rows["correct answers"] + rows["wrong answers accepted as verified"] + rows["wrong answers returned unverified"] + rows["queries failed"]);
        Assert.Equal(0, rows["wrong answers accepted as verified"]);
        Assert.Equal(0, rows["honest hosts wrongly penalised (Incorrect/Malformed receipts, penalties, evidence)"]);
        // The attackers were really there: the roles are started and the liars caught.
        Assert.Contains("SIMULATED colluder", text, StringComparison.Ordinal);
        Assert.Contains("SIMULATED split-view equivocator", text, StringComparison.Ordinal);
        Assert.True(rows["dishonest hosts excluded by evidence (summed over requesters)"] >= 2, text);
        Assert.True(rows["correct answers"] >= 30, $"fewer than half the trials answered:\n{text}");
        Assert.Equal(0, p.ExitCode);
        Assert.Equal(0, LeftoverHosts(tmp));
        Directory.Delete(tmp, recursive: true);
        Assert.True(wall.Elapsed < TimeSpan.FromSeconds(300), $"took {wall.Elapsed}");
    }

    [Fact]
    public async Task SIGTERM_stops_a_long_run_early_and_still_prints_the_judged_table()
    {
        var tmp = Directory.CreateTempSubdirectory("chaos-test-").FullName;
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, Environment = { ["TMPDIR"] = tmp } };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "chaos", "--trials", "10000", "--hosts", "5", "--seed", "3", "--parallel", "2" })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        // The header and one line per host: the fleet is up and the requesters are starting.
        using (var started = new CancellationTokenSource(TimeSpan.FromSeconds(120)))
        {
            while (lines.Count < 6 && await p.StandardOutput.ReadLineAsync(started.Token) is { } line)
            {
                lines.Add(line);
            }
        }
        Assert.Equal(6, lines.Count);
        // Long enough for trials from both requesters to be under way.
        await Task.Delay(TimeSpan.FromSeconds(10));
        using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }
        var rest = p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(150)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"grid chaos did not stop within 150 s of SIGTERM:\n{string.Join('\n', lines)}\n{await rest}");
        }
        var text = string.Join('\n', lines) + "\n" + await rest;
        var stopped = Regex.Match(text, @"stopped early by a signal after (?<n>[0-9,]+) of 10,000 trials");
        Assert.True(stopped.Success, $"no early-stop line:\n{text}\n{await stderr}");
        var rows = Row().Matches(text).ToDictionary(m => m.Groups["name"].Value, m => int.Parse(m.Groups["n"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture));
        var trials = rows["trials (verified queries attempted)"];
        Assert.Equal(int.Parse(stopped.Groups["n"].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture), trials);
        Assert.InRange(trials, 0, 9_999);
        Assert.Equal(trials, rows["correct answers"] + rows["wrong answers accepted as verified"] + rows["wrong answers returned unverified"] + rows["queries failed"]);
        Assert.Equal(0, rows["wrong answers accepted as verified"]);
        Assert.Equal(0, p.ExitCode);
        Assert.Equal(0, LeftoverHosts(tmp));
        Directory.Delete(tmp, recursive: true);
    }

    /// <summary>Host processes of the chaos run whose temporary directory is under <paramref name="tmp"/> still alive (none may outlive the runner).</summary>
    private static int LeftoverHosts(string tmp) =>
        Directory.EnumerateDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)).Count(d =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(d, "cmdline")).Contains(tmp, StringComparison.Ordinal);
            }
            catch (IOException)
            {
                return false;
            }
            catch (UnauthorizedAccessException)
            {
                return false;
            }
        });
}

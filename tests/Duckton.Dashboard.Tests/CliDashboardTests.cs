using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;

namespace Duckton.Dashboard.Tests;

/// <summary><c>duckton dashboard</c> as a user runs it: prints its URL, serves, refuses non-loopback, stops on Ctrl+C.</summary>
public sealed partial class CliDashboardTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-dashboard-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    private Process Start(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "duckton.dll"));
        psi.ArgumentList.Add("dashboard");
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        return Process.Start(psi)!;
    }

    [Fact]
    public async Task Dashboard_prints_its_url_serves_this_nodes_view_and_stops_on_sigint()
    {
        using var p = Start("--listen", "127.0.0.1:0", "--config-dir", _dir);
        var stderr = p.StandardError.ReadToEndAsync();
        var line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
        Assert.True(line is not null && line.StartsWith("dashboard http://127.0.0.1:", StringComparison.Ordinal), $"stdout: {line}; stderr: {(p.HasExited ? await stderr : "")}");
        var url = new Uri(line["dashboard ".Length..]);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var summary = await http.GetStringAsync(new Uri(url, "api/summary"));
        Assert.Contains("\"workers\":0", summary, StringComparison.Ordinal);
        var node = await http.GetStringAsync(new Uri(url, "api/node"));
        // The view is of the node whose configuration directory was given: its key file names it.
        Assert.True(File.Exists(Path.Combine(_dir, "node_key")));
        Assert.Contains("\"node_id\":\"b3:", node, StringComparison.Ordinal);
        _ = Kill(p.Id, 2);
        Assert.True(p.WaitForExit(30_000), "duckton dashboard did not stop on SIGINT");
        Assert.Equal(0, p.ExitCode);
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync(new Uri(url, "api/summary")));
    }

    [Fact]
    public async Task Dashboard_refuses_a_non_loopback_address_unless_allowed_and_a_malformed_one()
    {
        using (var p = Start("--listen", "0.0.0.0:0", "--config-dir", _dir))
        {
            var err = await p.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(p.WaitForExit(30_000));
            Assert.Equal(2, p.ExitCode);
            Assert.Contains("not loopback", err, StringComparison.Ordinal);
            Assert.Contains("--allow-remote", err, StringComparison.Ordinal);
        }
        using (var p = Start("--listen", "nowhere", "--config-dir", _dir))
        {
            var err = await p.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.True(p.WaitForExit(30_000));
            Assert.Equal(2, p.ExitCode);
            Assert.Contains("HOST:PORT", err, StringComparison.Ordinal);
        }
        using (var p = Start("--listen", "0.0.0.0:0", "--allow-remote", "--config-dir", _dir))
        {
            var line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.NotNull(line);
            var port = new Uri(line!["dashboard ".Length..].Replace("0.0.0.0", "127.0.0.1", StringComparison.Ordinal)).Port;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
            using var r = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/api/summary"));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            _ = Kill(p.Id, 2);
            Assert.True(p.WaitForExit(30_000));
        }
    }
}

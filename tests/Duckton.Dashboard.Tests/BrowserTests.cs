using System.Runtime.InteropServices;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Duckton.Dashboard.Tests;

/// <summary>
/// What a user sees: a real <c>duckton grid up --hosts 3 --cheaters 1 --dashboard 0</c> (host processes and an in-process
/// requester), its page opened in Debian's chromium through Playwright, compared with what <c>duckton sql</c> on the
/// requester's configuration directory returns. The browser may load nothing but the dashboard itself.
/// </summary>
public sealed partial class BrowserTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("duckton-dashboard-browser-").FullName;
    private Process? _grid;
    private readonly StringBuilder _gridErr = new();

    public void Dispose()
    {
        if (_grid is { HasExited: false })
        {
            _ = Kill(_grid.Id, 2); // SIGINT: grid up stops its hosts
            if (!_grid.WaitForExit(20_000))
            {
                _grid.Kill(entireProcessTree: true);
            }
        }
        _grid?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [LibraryImport("libc", EntryPoint = "kill")]
    private static partial int Kill(int pid, int signal);

    [GeneratedRegex(@"^dashboard (?<url>http://127\.0\.0\.1:\d+/)$")]
    private static partial Regex DashboardLine();

    [GeneratedRegex(@"^requester node_id=(?<id>b3:[0-9a-f]{64}) config_dir=(?<dir>\S+)")]
    private static partial Regex RequesterLine();

    private static string Dll => Path.Combine(AppContext.BaseDirectory, "duckton.dll");

    private (Uri Url, string RequesterDir) StartGrid()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { Dll, "grid", "up", "--hosts", "3", "--cheaters", "1", "--config-root", Path.Combine(_root, "grid"), "--dashboard", "0", "--quiet" })
        {
            psi.ArgumentList.Add(a);
        }
        _grid = Process.Start(psi)!;
        _grid.ErrorDataReceived += (_, e) =>
        {
            lock (_gridErr)
            {
                _gridErr.AppendLine(e.Data);
            }
        };
        _grid.BeginErrorReadLine();
        string? dir = null;
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(90))
        {
            var read = _grid.StandardOutput.ReadLineAsync();
            if (!read.Wait(TimeSpan.FromSeconds(90)) || read.Result is not { } line)
            {
                break;
            }
            output.WriteLine(line);
            if (RequesterLine().Match(line) is { Success: true } r)
            {
                dir = r.Groups["dir"].Value;
            }
            if (DashboardLine().Match(line) is { Success: true } m)
            {
                return (new Uri(m.Groups["url"].Value), dir ?? throw new InvalidOperationException("no requester line before the dashboard line"));
            }
        }
        lock (_gridErr)
        {
            throw new InvalidOperationException("grid up --dashboard printed no 'dashboard http://127.0.0.1:P/' line; stderr:\n" + _gridErr);
        }
    }

    /// <summary><c>duckton sql --config-dir DIR --format csv -c ...</c>: the requester's node seen by another process, as a user would.</summary>
    private List<string[]> Sql(string dir, params string[] statements)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Dll, "sql", "--config-dir", dir, "--format", "csv" })
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var s in statements)
        {
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(s);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "duckton sql did not finish");
        Assert.True(p.ExitCode == 0, $"duckton sql failed: {stderr.Result}");
        return [.. stdout.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(','))];
    }

    private static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_page_shows_the_requesters_real_trust_state_updates_live_and_loads_nothing_from_outside()
    {
        var total = Stopwatch.StartNew();
        var (url, dir) = StartGrid();
        // Verified queries from another process sharing the requester's configuration: receipts for honest hosts, and
        // the SIMULATED cheater caught.
        var queries = Enumerable.Range(0, 6).Select(i => $"SELECT count(*) FROM p2p_query('SELECT {i} AS k, sum(i) AS s FROM range({1000 + i}) t(i)', replicas => 3, quorum => 2, prefer => 'remote')").ToArray();
        Sql(dir, queries);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 1000 } });
        var problems = new List<string>();
        var outside = new List<string>();
        page.Console += (_, m) =>
        {
            if (m.Type == "error")
            {
                problems.Add("console: " + m.Text);
            }
        };
        page.PageError += (_, e) => problems.Add("page error: " + e);
        // Works offline: any request for another origin is recorded and refused.
        await page.RouteAsync("**/*", async route =>
        {
            if (new Uri(route.Request.Url).Authority != url.Authority)
            {
                outside.Add(route.Request.Url);
                await route.AbortAsync();
            }
            else
            {
                await route.ContinueAsync();
            }
        });
        await page.GotoAsync(url.ToString(), new PageGotoOptions { WaitUntil = WaitUntilState.Load });
        await page.WaitForFunctionAsync("() => document.getElementById('receipts').dataset.value !== undefined && document.querySelector('#histogram .main-svg') !== null",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });

        async Task<string> Value(string id) => (await page.GetAttributeAsync("#" + id, "data-value")) ?? "";

        // Live: the page has what the store had; the numbers are those of p2p_peers() / p2p_receipts() for the same node.
        var receiptsSql = Sql(dir, "SELECT count(*), count(*) FILTER (verdict = 'Correct') FROM p2p_receipts(max_rows => 1000000)")[1];
        await page.WaitForFunctionAsync($"() => document.getElementById('receipts').dataset.value === '{receiptsSql[0]}'", null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        var peers = Sql(dir, "SELECT avg(trust), count(*) FILTER (flagged), count(*) FILTER (attestation LIKE 'L2%'), count(*) FROM p2p_peers()")[1];
        Assert.Equal(3, int.Parse(peers[3], CultureInfo.InvariantCulture));
        Assert.Equal(D(peers[0]), D(await Value("avg-trust")), 6);
        Assert.Equal(D(peers[0]).ToString("0.000", CultureInfo.InvariantCulture), await page.TextContentAsync("#avg-trust"));
        Assert.Equal(peers[1], await Value("flagged"));
        Assert.True(int.Parse(peers[1], CultureInfo.InvariantCulture) >= 1, "the SIMULATED cheater is flagged");
        Assert.Equal(peers[2], await Value("l2-hosts"));
        Assert.Equal(receiptsSql[0], await Value("receipts"));
        Assert.Equal(D(receiptsSql[1]) / D(receiptsSql[0]), D(await Value("correct-rate")), 9);
        Assert.Equal($"{receiptsSql[1]} / {receiptsSql[0]} Correct", await page.TextContentAsync("#correct-n"));

        // Both plots drew into SVG: the radar has the top and the penalised worker, the histogram its bars.
        Assert.Equal(2, await page.Locator("#radar g.trace").CountAsync());
        Assert.True(await page.Locator("#histogram g.trace path").CountAsync() > 0, "the latency histogram has bars");
        Assert.Equal(3, await page.Locator("#peers tbody tr").CountAsync());
        Assert.Contains("yes", await page.TextContentAsync("#order") ?? "", StringComparison.Ordinal);

        // Canaries run and failed (the newcomers' warm-up probes; the SIMULATED cheater fails its own), and drift
        // partitions: the page's rows equal p2p_status()'s, both read from the requester's trust store.
        var checks = Sql(dir, "SELECT max(value) FILTER (key = 'canaries_run'), max(value) FILTER (key = 'canaries_failed'), max(value) FILTER (key = 'drift_partitions'), " +
            "max(value) FILTER (key = 'drift_queries') FROM p2p_status() WHERE \"group\" = 'trust'")[1];
        Assert.True(int.Parse(checks[0], CultureInfo.InvariantCulture) >= 3, $"canaries run: {checks[0]} (every newcomer gets one)");
        Assert.True(int.Parse(checks[1], CultureInfo.InvariantCulture) >= 1, $"canaries failed: {checks[1]} (the SIMULATED cheater's)");
        output.WriteLine($"p2p_status: canaries_run={checks[0]} canaries_failed={checks[1]} drift_partitions={checks[2]} drift_queries={checks[3]}");
        var expected = $"canaries run{checks[0]}canaries failed{checks[1]}drift partitions (commits){checks[2]}queries with drift{checks[3]}";
        await page.WaitForFunctionAsync($"() => document.getElementById('checks').textContent === '{expected}'", null, new PageWaitForFunctionOptions { Timeout = 30_000 });

        // A new query elsewhere: the open page updates by itself (server-sent events), no reload.
        var before = int.Parse(await Value("receipts"), CultureInfo.InvariantCulture);
        Sql(dir, "SELECT count(*) FROM p2p_query('SELECT 99 AS live_update', replicas => 3, quorum => 2, prefer => 'remote')");
        await page.WaitForFunctionAsync($"() => Number(document.getElementById('receipts').dataset.value) > {before}", null, new PageWaitForFunctionOptions { Timeout = 30_000 });
        Assert.Equal("live", await page.TextContentAsync("#live"));

        var shot = Path.Combine(AppContext.BaseDirectory, "dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = true });
        Assert.True(new FileInfo(shot).Length > 50_000);
        output.WriteLine($"screenshot: {shot}; took {total.Elapsed.TotalSeconds:0.0} s");

        Assert.Empty(outside);
        Assert.Empty(problems);
    }
}

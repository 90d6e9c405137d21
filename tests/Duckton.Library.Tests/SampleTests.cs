using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Duckton.Library.Tests;

/// <summary>The samples, built by the solution, run as a user runs them.</summary>
public sealed class SampleTests : IDisposable
{
    private readonly TempDirs _dirs = new();

    public void Dispose() => _dirs.Dispose();

    private static string SampleDll(string name)
    {
        var configuration = typeof(SampleTests).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
            .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "SamplesConfiguration").Value!;
        var dll = Path.Combine(Repo.Root, "samples", name, "bin", configuration, "net10.0", name + ".dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: the solution builds the samples");
        return dll;
    }

    [Fact]
    public void The_console_sample_runs_a_verified_query()
    {
        var env = new Dictionary<string, string?> { ["DUCKTON_CONFIG_DIR"] = _dirs.New() };
        var (code, output, error) = Repo.Run("dotnet", [SampleDll("Duckton.Samples.VerifiedQuery")], Path.GetTempPath(), TimeSpan.FromMinutes(2), env);
        Assert.True(code == 0, output + error);
        Assert.Contains("n BIGINT | square BIGINT", output, StringComparison.Ordinal);
        Assert.Contains("5 -> 25", output, StringComparison.Ordinal);
        Assert.Contains("verified=True local=True", output, StringComparison.Ordinal);
        Assert.Contains("rows hash check=True", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_worker_sample_hosts_and_a_requester_gets_a_job_served_by_it()
    {
        var dir = _dirs.New();
        using var worker = Start(SampleDll("Duckton.Samples.Worker"), ["--Duckton:ConfigDirectory", dir]);
        // AddDuckton's hosted service logs where it listens; the sample then prints its node id.
        var hosting = await WaitForLine(worker, l => l.Contains(" hosting at ", StringComparison.Ordinal), TimeSpan.FromMinutes(2));
        var address = System.Text.RegularExpressions.Regex.Match(hosting, @"hosting at (\S+)").Groups[1].Value;
        var line = await WaitForLine(worker, l => l.StartsWith("hosting node_id=", StringComparison.Ordinal), TimeSpan.FromMinutes(2));
        var workerId = line["hosting node_id=".Length..].Trim();

        await using var requester = new DucktonNode(new DucktonNodeOptions { ConfigDirectory = _dirs.New() });
        Assert.True((await requester.JoinAsync([address])).Joined);
        using var result = await requester.QueryAsync("SELECT 6 * 7 AS answer", new QueryOptions { Replicas = 1, Quorum = 1, Placement = QueryPlacement.Remote });
        Assert.Equal(workerId, result.Verification.Winner);
        Assert.Equal(42, (await result.ToListAsync())[0]["answer"]);
        worker.Kill(entireProcessTree: true);
        await worker.WaitForExitAsync();
    }

    [Fact]
    public async Task The_web_api_sample_answers_from_its_node()
    {
        using var web = Start(SampleDll("Duckton.Samples.WebApi"), ["--urls", "http://127.0.0.1:0", "--Duckton:ConfigDirectory", _dirs.New()]);
        var line = await WaitForLine(web, l => l.Contains("Now listening on: http://127.0.0.1:", StringComparison.Ordinal), TimeSpan.FromMinutes(2));
        var url = line[line.IndexOf("http://", StringComparison.Ordinal)..].Trim();
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(1) };
        var json = await http.GetFromJsonAsync<JsonElement>("/squares?upTo=4");
        Assert.Equal(16, json.GetProperty("rows")[3].GetProperty("square").GetInt64());
        Assert.True(json.GetProperty("verified").GetBoolean());
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await http.GetAsync(new Uri("/squares?upTo=0", UriKind.Relative))).StatusCode);
        web.Kill(entireProcessTree: true);
        await web.WaitForExitAsync();
    }

    private static Process Start(string dll, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["Logging__Console__FormatterName"] = "simple";
        return Process.Start(psi)!;
    }

    private static async Task<string> WaitForLine(Process p, Func<string, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var seen = new System.Text.StringBuilder();
        while (true)
        {
            var line = await p.StandardOutput.ReadLineAsync(cts.Token);
            if (line is null)
            {
                Assert.Fail($"the sample exited ({p.ExitCode}) before printing the expected line:\n{seen}\n{await p.StandardError.ReadToEndAsync(CancellationToken.None)}");
            }
            seen.AppendLine(line);
            if (match(line!))
            {
                return line!;
            }
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;

namespace Duckton.Contracts.Tests;

/// <summary><c>duckton chain up</c> as a real process: the ready line, the emulator notice, the API, SIGTERM/SIGINT, --state.</summary>
public sealed class ChainUpTests : IDisposable
{
    private readonly string _state = Path.Combine(Path.GetTempPath(), "duckton-chain-up-" + Guid.NewGuid().ToString("N"));
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }

    private static (Process P, string Rpc, StringWriter Stderr) Start(params string[] args)
    {
        Contracts.EnsureInstalled();
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in (string[])[Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "chain", "up", .. args])
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi)!;
        var stderr = new StringWriter();
        p.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (stderr)
                {
                    stderr.WriteLine(e.Data);
                }
            }
        };
        p.BeginErrorReadLine();
        var read = p.StandardOutput.ReadLineAsync();
        if (!read.Wait(TimeSpan.FromMinutes(2)) || read.Result is not { } line)
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"chain up printed no ready line; stderr: {stderr}");
        }
        Assert.Matches(@"^ready rpc=http://127\.0\.0\.1:\d+/api/v2$", line);
        return (p, line["ready rpc=".Length..], stderr);
    }

    private static int Signal(Process p, string signal)
    {
        using (var kill = Process.Start("kill", [$"-{signal}", p.Id.ToString(CultureInfo.InvariantCulture)])!)
        {
            kill.WaitForExit();
        }
        Assert.True(p.WaitForExit(60_000), $"chain up did not exit after SIG{signal}");
        return p.ExitCode;
    }

    private static async Task<JsonElement> Post(string url, object body)
    {
        using var res = await Http.PostAsJsonAsync(url, body);
        var json = await res.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(json.GetProperty("ok").GetBoolean(), json.ToString());
        return json.GetProperty("result");
    }

    private static async Task<JsonElement> Get(string url)
    {
        var json = await Http.GetFromJsonAsync<JsonElement>(url);
        Assert.True(json.GetProperty("ok").GetBoolean(), json.ToString());
        return json.GetProperty("result");
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    public async Task Chain_up_serves_the_api_says_it_is_an_emulator_and_keeps_its_state_across_a_restart(string signal)
    {
        const string address = "0:4444444444444444444444444444444444444444444444444444444444444444";
        long now;
        var (p, rpc, stderr) = Start("--port", "0", "--state", _state);
        using (p)
        {
            var local = rpc[..^"/api/v2".Length] + "/local";
            Assert.Equal("local-emulator", (await Get(local + "/info")).GetProperty("network").GetString());
            await Post(local + "/fund", new { address, amount = "1234567890123" });
            Assert.Equal("1234567890123", (await Get($"{rpc}/getAddressBalance?address={address}")).GetString());
            now = (await Get(local + "/now")).GetProperty("now").GetInt64();
            await Post(local + "/time", new { advance_seconds = 604800 });
            Assert.True((await Get(local + "/now")).GetProperty("now").GetInt64() >= now + 604800);
            Assert.Equal(0, Signal(p, signal));
            lock (stderr)
            {
                Assert.Contains("network = local-emulator", stderr.ToString(), StringComparison.Ordinal);
            }
        }
        Assert.True(File.Exists(Path.Combine(_state, "chain.json")));

        var (again, rpc2, _) = Start("--port", "0", "--state", _state);
        using (again)
        {
            Assert.Equal("1234567890123", (await Get($"{rpc2}/getAddressBalance?address={address}")).GetString());
            Assert.True((await Get(rpc2[..^"/api/v2".Length] + "/local/now")).GetProperty("now").GetInt64() >= now + 604800);
            Assert.Equal(0, Signal(again, "TERM"));
        }
    }

    [Fact]
    public async Task Without_state_the_chain_starts_empty_each_time()
    {
        const string address = "0:5555555555555555555555555555555555555555555555555555555555555555";
        for (var i = 0; i < 2; i++)
        {
            var (p, rpc, _) = Start("--port", "0");
            using (p)
            {
                Assert.Equal("0", (await Get($"{rpc}/getAddressBalance?address={address}")).GetString());
                await Post(rpc[..^"/api/v2".Length] + "/local/fund", new { address, amount = "5" });
                Assert.Equal(0, Signal(p, "TERM"));
            }
        }
    }

    [Fact]
    public void A_bad_port_is_refused()
    {
        var r = Contracts.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "chain", "up", "--port", "70000"], TimeSpan.FromMinutes(1));
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--port must be 0..65535", r.Stderr, StringComparison.Ordinal);
    }
}

using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Duckton.Cli.Tests;

/// <summary>
/// Two `duckton sql` processes on one config directory (so one wallet) sending wallet requests at the same time on the
/// local emulator (`duckton chain up`, no real TON): every request must get a seqno of its own (the wallet v5r1 refuses
/// a reused one with exit code 133), which takes the wallet's lock file in the config directory.
/// </summary>
public sealed class WalletSharingTests(Xunit.Abstractions.ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-wallet-share-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Node => Path.Combine(_dir, "node");

    private static CliRunner.Result Run(string configDir, params string[] commands) =>
        CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", configDir, "--format", "jsonlines",
            .. commands.SelectMany(c => new[] { "-c", c })], timeout: TimeSpan.FromMinutes(4));

    private static List<JsonObject> Rows(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    private async Task<JsonElement> Api(Uri rpc, string path)
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri(rpc, path)));
        Assert.True(doc.RootElement.GetProperty("ok").GetBoolean(), doc.RootElement.ToString());
        return doc.RootElement.GetProperty("result").Clone();
    }

    [Fact]
    public async Task Two_processes_sharing_a_wallet_send_at_once_and_every_request_gets_its_own_seqno()
    {
        await using var chain = await LocalChainProcess.StartAsync();
        var setup = Rows(Run(Node, $"SELECT enabled FROM p2p_economics(enabled => true, network => 'local', rpc => '{chain.Rpc}')",
            "SELECT address_raw FROM p2p_wallet(node_key => true)"));
        var wallet = (string)setup.Single(r => r.ContainsKey("address_raw"))["address_raw"]!;
        await chain.FundAsync(wallet, 40_000_000_000);
        Rows(Run(Node, "SELECT contract FROM p2p_contracts(deploy => true)", "SELECT staked_nanoton FROM p2p_stake(1)"));
        var seqnoBefore = await Seqno(chain.Rpc, wallet);

        // Two processes, each depositing ten times (0.5 and 0.25 TON): their requests interleave on the one wallet.
        const int Each = 10;
        string[] Stakes(string ton) => Enumerable.Repeat($"SELECT action, staked_nanoton FROM p2p_stake({ton})", Each).ToArray();
        var started = Stopwatch.StartNew();
        var both = await Task.WhenAll(Task.Run(() => Run(Node, Stakes("0.5"))), Task.Run(() => Run(Node, Stakes("0.25"))));
        foreach (var r in both)
        {
            Assert.DoesNotContain("exit code 133", r.Stderr, StringComparison.Ordinal);
            Assert.Equal(Each, Rows(r).Count(x => (string?)x["action"] == "deposit"));
        }
        Assert.Equal(seqnoBefore + 2 * Each, await Seqno(chain.Rpc, wallet));
        // How the two processes' requests interleaved in the wallet's history (each switch is a turn passed between them).
        var values = (await Api(chain.Rpc, "/api/v2/getTransactions?limit=100&address=" + Uri.EscapeDataString(wallet))).EnumerateArray()
            .Where(t => t.GetProperty("out_msgs").GetArrayLength() == 1).Take(2 * Each)
            .Select(t => t.GetProperty("out_msgs")[0].GetProperty("value").GetString()!).Reverse().ToList();
        output.WriteLine($"turns passed between the processes: {values.Zip(values.Skip(1)).Count(p => p.First != p.Second)} over {values.Count} requests");
        // 1 + 10 × 0.5 + 10 × 0.25 TON staked: every deposit landed once.
        var shown = Rows(Run(Node, "SELECT staked_nanoton FROM p2p_stake(0)")).Single();
        Assert.Equal(8_500_000_000L, (long)shown["staked_nanoton"]!);
        Assert.True(started.Elapsed < TimeSpan.FromMinutes(4), $"took {started.Elapsed}");
        // The lock file that ordered them, owner-only in the config directory.
        var lockFile = Path.Combine(Node, ".wallet-" + wallet.Replace(':', '_') + ".lock");
        Assert.True(File.Exists(lockFile), "no wallet lock file " + lockFile);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(lockFile));
        }
    }

    private async Task<long> Seqno(Uri rpc, string wallet)
    {
        var r = await Api(rpc, "/api/v2/runGetMethod?method=seqno&address=" + Uri.EscapeDataString(wallet));
        return Convert.ToInt64(r.GetProperty("stack")[0][1].GetString()!, 16);
    }
}

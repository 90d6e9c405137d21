using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace Duckton.Cli.Tests;

/// <summary>
/// The economics SQL surface through `duckton sql` (a real process): off by default without touching any RPC endpoint,
/// clear errors, and (against `duckton chain up`, the local emulator: no real TON) wallet, contracts, parameters and
/// stake with balances checked to the nanoton.
/// </summary>
public sealed class EconomicsTests : IDisposable
{
    // Test-only words (never funded anywhere real); the addresses were derived independently with @ton/crypto 3.3.0 and
    // @ton/ton 16.3.0 (mnemonicToPrivateKey, WalletContractV5R1.create workchain 0, networkGlobalId -239 / -3).
    private const string KnownMnemonic =
        "slush rifle fox cook come logic beach voyage apple faith bleak sword depend devote ancient breeze skull afraid brief soda swift rocket mango joy";

    private const string KnownLocalAddress = "0:09233960b7665ca447ba728e1177d64de1be3337b5dc696a709273962ef51012";

    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-econ-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private CliRunner.Result Sql(IDictionary<string, string>? env, params string[] statements)
    {
        var args = new List<string> { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", Path.Combine(_dir, "node"), "--format", "json" };
        foreach (var s in statements)
        {
            args.Add("-c");
            args.Add(s);
        }
        return CliRunner.Run("dotnet", args, timeout: TimeSpan.FromMinutes(3), env: env);
    }

    private static JsonElement[] Rows(CliRunner.Result r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement.EnumerateArray().ToArray();
    }

    private static JsonElement One(CliRunner.Result r) => Assert.Single(Rows(r));

    /// <summary>A TCP listener standing in for an RPC endpoint: counts connections; never answers.</summary>
    private sealed class SilentEndpoint : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly List<TcpClient> _clients = [];
        private int _connections;

        public SilentEndpoint()
        {
            _listener.Start();
            _ = AcceptLoop();
        }

        public string Url => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/api/v2";

        public int Connections => Volatile.Read(ref _connections);

        private async Task AcceptLoop()
        {
            try
            {
                while (true)
                {
                    var c = await _listener.AcceptTcpClientAsync();
                    Interlocked.Increment(ref _connections);
                    lock (_clients)
                    {
                        _clients.Add(c); // held open and never answered
                    }
                }
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
            }
        }

        public void Dispose()
        {
            _listener.Stop();
            lock (_clients)
            {
                _clients.ForEach(c => c.Dispose());
            }
        }
    }

    [Fact]
    public void Economics_is_off_by_default_and_never_connects_to_a_configured_endpoint()
    {
        using var rpc = new SilentEndpoint();
        var env = new Dictionary<string, string>
        {
            ["P2P_ECONOMICS_TESTNET_RPC"] = rpc.Url,
            ["P2P_ECONOMICS_MAINNET_RPC"] = rpc.Url,
            ["P2P_ECONOMICS_LOCAL_RPC"] = rpc.Url,
        };
        var r = Sql(env,
            "SELECT count(*) AS n FROM p2p_query('SELECT * FROM range(1000)')",
            "SELECT * FROM p2p_status()",
            "SELECT * FROM p2p_economics()");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("\"key\":\"node_id\"", r.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("\"key\":\"network\"", r.Stdout, StringComparison.Ordinal); // p2p_status shows a network only when economics is on
        Assert.Contains("\"enabled\":false", r.Stdout, StringComparison.Ordinal);
        Assert.Contains(rpc.Url, r.Stdout, StringComparison.Ordinal); // configured (shown), yet never contacted
        foreach (var call in new[] { "p2p_wallet()", "p2p_fees()", "p2p_admin_params()", "p2p_contracts()", "p2p_stake(1)", "p2p_unstake(1)" })
        {
            var e = Sql(env, $"SELECT * FROM {call}");
            Assert.Equal(1, e.ExitCode);
            Assert.Contains("economics is off: SELECT * FROM p2p_economics(enabled => true)", e.Stderr, StringComparison.Ordinal);
        }
        Thread.Sleep(500);
        Assert.Equal(0, rpc.Connections);

        // The same endpoint is contacted as soon as economics is on: the listener can see a connection.
        var on = Sql(env, "SELECT * FROM p2p_economics(enabled => true, network => 'local', rpc => '" + rpc.Url + "')",
            "SELECT * FROM p2p_set('economics.rpc_timeout_ms', '300')", "SELECT * FROM p2p_wallet(generate => true)");
        Assert.Equal(1, on.ExitCode);
        Assert.True(rpc.Connections > 0);
    }

    [Fact]
    public async Task A_free_grid_with_an_endpoint_configured_runs_remote_queries_without_ever_connecting_to_it()
    {
        using var rpc = new SilentEndpoint();
        var env = new Dictionary<string, string>
        {
            ["P2P_ECONOMICS_TESTNET_RPC"] = rpc.Url,
            ["P2P_ECONOMICS_MAINNET_RPC"] = rpc.Url,
            ["P2P_ECONOMICS_LOCAL_RPC"] = rpc.Url,
        };
        // Three host processes and the requester, every one of them with the endpoint configured and economics off.
        var (started, seed) = GridUpProcess.Start(Path.Combine(_dir, "grid"), environment: env);
        using var grid = started;
        try
        {
            var r = Sql(env,
                $"SELECT count(*) AS peers FROM p2p_join(bootstrap => ['{seed}'])",
                "SELECT n FROM p2p_query('SELECT count(*) AS n FROM range(12345)', replicas => 3, quorum => 2, prefer => 'remote')",
                "SELECT key, value FROM p2p_query_meta('SELECT count(*) AS n FROM range(777)', replicas => 3, quorum => 2, prefer => 'remote') WHERE key IN ('executed_locally', 'verified')",
                "SELECT * FROM p2p_status()",
                "SELECT * FROM p2p_economics()");
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Contains("{\"n\":12345}", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("{\"key\":\"executed_locally\",\"value\":\"false\"}", r.Stdout, StringComparison.Ordinal);
            Assert.Contains("{\"key\":\"verified\",\"value\":\"true\"}", r.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("\"key\":\"network\"", r.Stdout, StringComparison.Ordinal);
            await Task.Delay(500);
            Assert.Equal(0, rpc.Connections);
        }
        finally
        {
            if (!grid.HasExited)
            {
                grid.Kill(entireProcessTree: true);
                grid.WaitForExit(10_000);
            }
        }
    }

    [Fact]
    public void Mainnet_needs_confirmation_and_a_silent_or_absent_endpoint_fails_within_the_timeout()
    {
        var mainnet = Sql(null, "SELECT * FROM p2p_economics(network => 'mainnet')");
        Assert.Equal(1, mainnet.ExitCode);
        Assert.Contains("mainnet puts real TON at stake: add confirm_mainnet => true", mainnet.Stderr, StringComparison.Ordinal);
        var confirmed = One(Sql(null, "SELECT * FROM p2p_economics(network => 'mainnet', confirm_mainnet => true)"));
        Assert.Equal("mainnet", confirmed.GetProperty("network").GetString());
        Assert.True(confirmed.GetProperty("mainnet_confirmed").GetBoolean());
        Assert.Equal("https://toncenter.com/api/v2", confirmed.GetProperty("rpc").GetString());
        Assert.Equal(1, Sql(null, "SELECT * FROM p2p_economics(rail => 'carrier-pigeon')").ExitCode);

        // No wallet yet: the error says how to make one (no chain needed to know that).
        One(Sql(null, "SELECT * FROM p2p_economics(enabled => true, network => 'local', rpc => 'http://127.0.0.1:9/api/v2')"));
        var noWallet = Sql(null, "SELECT * FROM p2p_stake(1)");
        Assert.Equal(1, noWallet.ExitCode);
        Assert.Contains("no wallet for local-emulator: SELECT * FROM p2p_wallet(generate => true)", noWallet.Stderr, StringComparison.Ordinal);

        // Nothing listens on port 9: the error names the endpoint and the remedy.
        var down = Sql(null, "SELECT * FROM p2p_wallet(generate => true)");
        Assert.Equal(1, down.ExitCode);
        Assert.Contains("the TON API at http://127.0.0.1:9 failed", down.Stderr, StringComparison.Ordinal);
        Assert.Contains("./duckton chain up", down.Stderr, StringComparison.Ordinal);

        // An endpoint that accepts and never answers: two tries of rpc_timeout_ms (300 ms), not a hang.
        using var silent = new SilentEndpoint();
        One(Sql(null, $"SELECT * FROM p2p_economics(rpc => '{silent.Url}')"));
        One(Sql(null, "SELECT * FROM p2p_set('economics.rpc_timeout_ms', '300')"));
        var watch = Stopwatch.StartNew();
        var slow = Sql(null, "SELECT * FROM p2p_wallet()");
        Assert.Equal(1, slow.ExitCode);
        Assert.Contains("no reply within 0.3 s", slow.Stderr, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(60), watch.Elapsed.ToString());
        Assert.True(silent.Connections >= 2);
    }

    [Fact]
    public async Task On_the_local_chain_wallet_contracts_parameters_and_stake_work_to_the_nanoton()
    {
        await using var chain = await LocalChainProcess.StartAsync();
        var c = chain.Rpc;
        One(Sql(null, $"SELECT * FROM p2p_economics(enabled => true, network => 'local', rpc => '{c}')"));
        Assert.Contains("local-emulator", Sql(null, "SELECT * FROM p2p_status() WHERE key = 'network'").Stdout, StringComparison.Ordinal);

        // Import of a known mnemonic gives the known address; the secret is stored owner-only and shown nowhere.
        var source = Path.Combine(_dir, "words.txt");
        await File.WriteAllTextAsync(source, KnownMnemonic + "\n");
        var wallet = One(Sql(null, $"SELECT * FROM p2p_wallet(import => '{source}')"));
        Assert.Equal(KnownLocalAddress, wallet.GetProperty("address_raw").GetString());
        Assert.Equal("uninitialized", wallet.GetProperty("state").GetString());
        Assert.Equal(0, wallet.GetProperty("balance_nanoton").GetInt64());
        var stored = wallet.GetProperty("mnemonic_file").GetString()!;
        Assert.StartsWith(Path.Combine(_dir, "node"), stored, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(stored));
        Assert.Equal(KnownMnemonic, (await File.ReadAllTextAsync(stored)).Trim());
        var again = Sql(null, $"SELECT * FROM p2p_wallet(import => '{source}')");
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already has a local-emulator wallet", again.Stderr, StringComparison.Ordinal);

        // An empty wallet cannot deploy anything.
        var empty = Sql(null, "SELECT * FROM p2p_contracts(deploy => true)");
        Assert.Equal(1, empty.ExitCode);
        Assert.Contains("is empty: send it TON first", empty.Stderr, StringComparison.Ordinal);

        await chain.FundAsync(KnownLocalAddress, 50_000_000_000);
        Assert.Equal(50_000_000_000, One(Sql(null, "SELECT * FROM p2p_wallet()")).GetProperty("balance_nanoton").GetInt64());

        // The singletons are deployed once; a second call finds them and sends nothing.
        var first = Rows(Sql(null, "SELECT * FROM p2p_contracts(deploy => true)"));
        var second = Rows(Sql(null, "SELECT * FROM p2p_contracts(deploy => true)"));
        foreach (var name in new[] { "GlobalParams", "RecordAnchor" })
        {
            var a = first.Single(r => r.GetProperty("contract").GetString() == name);
            var b = second.Single(r => r.GetProperty("contract").GetString() == name);
            Assert.True(a.GetProperty("deployed_now").GetBoolean());
            Assert.False(b.GetProperty("deployed_now").GetBoolean());
            Assert.Equal(a.GetProperty("address").GetString(), b.GetProperty("address").GetString());
            Assert.Equal("active", b.GetProperty("state").GetString());
            Assert.True(b.GetProperty("code_matches").GetBoolean());
        }
        Assert.Equal("42c6eb2974675fd740576acc31af698de78af64596f0008fb491c3bdf0c25eac",
            first.Single(r => r.GetProperty("contract").GetString() == "GlobalParams").GetProperty("code_hash").GetString());

        // Parameters in force on chain beside the local configuration.
        var fees = Rows(Sql(null, "SELECT * FROM p2p_fees()"));
        var fee = fees.Single(r => r.GetProperty("parameter").GetString() == "platform_fee");
        Assert.Equal(1500, fee.GetProperty("on_chain").GetInt64());
        Assert.False(fee.GetProperty("differs").GetBoolean());
        One(Sql(null, "SELECT * FROM p2p_set('economics.fees.platform_fee_pct', '0.2')"));
        fee = Rows(Sql(null, "SELECT * FROM p2p_fees()")).Single(r => r.GetProperty("parameter").GetString() == "platform_fee");
        Assert.Equal(1500, fee.GetProperty("on_chain").GetInt64());
        Assert.Equal(2000, fee.GetProperty("local").GetInt64());
        Assert.True(fee.GetProperty("differs").GetBoolean());
        var admin = Rows(Sql(null, "SELECT * FROM p2p_admin_params()"));
        Assert.Equal(604800, admin.Single(r => r.GetProperty("parameter").GetString() == "unbonding").GetProperty("on_chain").GetInt64());
        Assert.Equal(4000, admin.Single(r => r.GetProperty("parameter").GetString() == "split_challenger").GetProperty("on_chain").GetInt64());

        // Stake 2 TON: the vault is deployed on first use; the wallet pays exactly the value sent plus its reported fees.
        var before = await chain.BalanceAsync(KnownLocalAddress);
        var stake = One(Sql(null, "SELECT * FROM p2p_stake(2)"));
        Assert.Equal("deploy+deposit", stake.GetProperty("action").GetString());
        Assert.Equal(2_000_000_000, stake.GetProperty("staked_nanoton").GetInt64());
        Assert.Equal(2_050_000_000, stake.GetProperty("sent_nanoton").GetInt64());
        var fees1 = stake.GetProperty("wallet_fees_nanoton").GetInt64();
        Assert.InRange(fees1, 1, 100_000_000);
        Assert.Equal(before - 2_050_000_000 - fees1, await chain.BalanceAsync(KnownLocalAddress));
        var vault = stake.GetProperty("vault").GetString()!;

        var more = One(Sql(null, "SELECT * FROM p2p_stake(0.5)"));
        Assert.Equal("deposit", more.GetProperty("action").GetString());
        Assert.Equal(2_500_000_000, more.GetProperty("staked_nanoton").GetInt64());
        Assert.Equal(vault, more.GetProperty("vault").GetString());

        // Unstake 1 TON: it cools down for the vault's 7 days; an early withdraw is refused before anything is sent.
        var unbond = One(Sql(null, "SELECT * FROM p2p_unstake(1)"));
        Assert.Equal(1_500_000_000, unbond.GetProperty("staked_nanoton").GetInt64());
        Assert.Equal(1_000_000_000, unbond.GetProperty("unbonding_nanoton").GetInt64());
        var readyAt = DateTimeOffset.Parse(unbond.GetProperty("withdrawable_at").GetString()!, CultureInfo.InvariantCulture);
        var now = DateTimeOffset.FromUnixTimeSeconds(await chain.NowAsync());
        Assert.InRange((readyAt - now).TotalSeconds, 604_800 - 120, 604_800);
        var early = Sql(null, "SELECT * FROM p2p_unstake(0, withdraw => true)");
        Assert.Equal(1, early.ExitCode);
        Assert.Contains("the cooldown is not over: 1 TON is withdrawable at", early.Stderr, StringComparison.Ordinal);
        var tooMuch = Sql(null, "SELECT * FROM p2p_unstake(5)");
        Assert.Equal(1, tooMuch.ExitCode);
        Assert.Contains("already cooling down", tooMuch.Stderr, StringComparison.Ordinal);

        await chain.AdvanceAsync(604_801);
        before = await chain.BalanceAsync(KnownLocalAddress);
        var withdraw = One(Sql(null, "SELECT * FROM p2p_unstake(0, withdraw => true)"));
        Assert.Equal(0, withdraw.GetProperty("unbonding_nanoton").GetInt64());
        Assert.Equal(1_500_000_000, withdraw.GetProperty("staked_nanoton").GetInt64());
        // The wallet paid the request (value + fees) and received exactly the 1 TON unbonded, less its receiving fees.
        var payout = await chain.LastIncomingAsync(KnownLocalAddress, vault);
        Assert.Equal(1_000_000_000, payout.Value);
        Assert.Equal(before - withdraw.GetProperty("sent_nanoton").GetInt64() - withdraw.GetProperty("wallet_fees_nanoton").GetInt64() + payout.Value - payout.Fee,
            await chain.BalanceAsync(KnownLocalAddress));

        // The words appear in no output: not in p2p_config(), not in any error printed above.
        var config = Sql(null, "SELECT * FROM p2p_config()");
        Assert.Contains("local.wallet.mnemonic_file", config.Stdout, StringComparison.Ordinal);
        foreach (var text in new[] { config.Stdout, config.Stderr, again.Stderr, empty.Stderr, early.Stderr })
        {
            Assert.DoesNotContain("slush rifle", text, StringComparison.Ordinal);
            Assert.DoesNotContain("mango", text, StringComparison.Ordinal);
        }
        // Nor in any file the node wrote (configuration, logs, stores) except the owner-only wallet file itself.
        var words = System.Text.Encoding.UTF8.GetBytes("slush rifle fox");
        var written = Directory.EnumerateFiles(Path.Combine(_dir, "node"), "*", SearchOption.AllDirectories).Where(f => f != stored).ToList();
        Assert.Contains(written, f => f.EndsWith("runtime.toml", StringComparison.Ordinal));
        Assert.All(written, f => Assert.True(File.ReadAllBytes(f).AsSpan().IndexOf(words) < 0, f));
    }
}

/// <summary>`duckton chain up --port 0` (the local @ton/sandbox emulator; no real TON), stopped by closing its stdin.</summary>
internal sealed class LocalChainProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    private LocalChainProcess(Process process, Uri rpc)
    {
        _process = process;
        Rpc = rpc;
    }

    public Uri Rpc { get; }

    public static async Task<LocalChainProcess> StartAsync()
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = CliRunner.RepoRoot,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "chain", "up", "--port", "0", "--exit-with-stdin" })
        {
            psi.ArgumentList.Add(a);
        }
        var p = Process.Start(psi)!;
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        var line = p.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(line, Task.Delay(TimeSpan.FromMinutes(10))) != line || line.Result is not { } ready || !ready.StartsWith("ready rpc=", StringComparison.Ordinal))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException("duckton chain up did not print its ready line");
        }
        _ = p.StandardOutput.ReadToEndAsync();
        return new LocalChainProcess(p, new Uri(ready["ready rpc=".Length..]));
    }

    private async Task<JsonElement> Get(string path)
    {
        var doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri(Rpc, path)));
        Assert.True(doc.RootElement.GetProperty("ok").GetBoolean(), doc.RootElement.ToString());
        return doc.RootElement.GetProperty("result").Clone();
    }

    private async Task Post(string path, object body)
    {
        using var r = await _http.PostAsJsonAsync(new Uri(Rpc, path), body);
        Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
    }

    public Task FundAsync(string address, long nanoton) =>
        Post("/local/fund", new Dictionary<string, string> { ["address"] = address, ["amount"] = nanoton.ToString(CultureInfo.InvariantCulture) });

    public Task AdvanceAsync(long seconds) => Post("/local/time", new Dictionary<string, long> { ["advance_seconds"] = seconds });

    public async Task<long> NowAsync() => (await Get("/local/now")).GetProperty("now").GetInt64();

    public async Task<long> BalanceAsync(string address) =>
        long.Parse((await Get("/api/v2/getAddressBalance?address=" + Uri.EscapeDataString(address))).GetString()!, CultureInfo.InvariantCulture);

    /// <summary>The newest transaction of <paramref name="account"/> whose inbound message came from <paramref name="from"/>: its value and fee.</summary>
    public async Task<(long Value, long Fee)> LastIncomingAsync(string account, string from)
    {
        var txs = await Get("/api/v2/getTransactions?limit=20&address=" + Uri.EscapeDataString(account));
        foreach (var tx in txs.EnumerateArray())
        {
            var source = tx.GetProperty("in_msg").GetProperty("source").GetString();
            if (source is { Length: > 0 } && SameAddress(source, from))
            {
                return (long.Parse(tx.GetProperty("in_msg").GetProperty("value").GetString()!, CultureInfo.InvariantCulture),
                    long.Parse(tx.GetProperty("fee").GetString()!, CultureInfo.InvariantCulture));
            }
        }
        throw new InvalidOperationException($"no transaction of {account} from {from}");
    }

    // Friendly forms differ only in their flags (bounceable, testnet); the 32-byte hash and workchain are what count.
    private static bool SameAddress(string a, string b) => Hash(a) == Hash(b);

    private static string Hash(string friendly)
    {
        var bytes = Convert.FromBase64String(friendly.Replace('-', '+').Replace('_', '/'));
        return Convert.ToHexString(bytes, 1, 33);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.Close();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
        _http.Dispose();
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Duckton.Cli.Tests;

/// <summary>
/// The economics runtime wired into the node, through real processes on `duckton chain up` (the local emulator; no real
/// TON): a host that staked from its node-key wallet shows its stake in the requester's <c>p2p_peers()</c>, and the
/// requester, as keeper, anchors the epoch holding its job's record in RecordAnchor (<c>p2p_job_proof</c> names the tx).
/// </summary>
public sealed partial class EconomicsWiringTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-econ-wiring-").FullName;
    private Process? _grid;

    public void Dispose()
    {
        GridUpProcess.Stop(_grid);
        Directory.Delete(_dir, recursive: true);
    }

    private string Requester => Path.Combine(_dir, "requester");

    private string GridRoot => Path.Combine(_dir, "grid");

    private static List<JsonObject> Sql(string configDir, params string[] commands)
    {
        var r = CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", configDir, "--format", "jsonlines",
            .. commands.SelectMany(c => new[] { "-c", c })], timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    private string StartGrid()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "up", "--hosts", "3", "--config-root", GridRoot })
        {
            psi.ArgumentList.Add(a);
        }
        _grid = Process.Start(psi)!;
        _grid.ErrorDataReceived += (_, _) => { };
        _grid.BeginErrorReadLine();
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(3))
        {
            var read = _grid.StandardOutput.ReadLineAsync();
            if (!read.Wait(TimeSpan.FromMinutes(3) - waited.Elapsed) || read.Result is not { } line)
            {
                break;
            }
            if (Seed().Match(line) is { Success: true } m)
            {
                _ = _grid.StandardOutput.ReadToEndAsync();
                return m.Groups[1].Value;
            }
        }
        throw new InvalidOperationException("grid up did not print its seed");
    }

    [GeneratedRegex(@"p2p_join\(bootstrap => \['([^']+)'\]\)")]
    private static partial Regex Seed();

    [Fact]
    public async Task A_staked_host_shows_its_stake_to_the_requester_and_the_keeper_anchors_the_epoch_of_its_job()
    {
        await using var chain = await LocalChainProcess.StartAsync();
        var on = $"SELECT enabled FROM p2p_economics(enabled => true, network => 'local', rpc => '{chain.Rpc}')";

        // The requester: its node key is its wallet; funded by the emulator's faucet; it deploys GlobalParams and RecordAnchor (keeper = its wallet).
        var rows = Sql(Requester, on, "SELECT address_raw, mnemonic_file FROM p2p_wallet(node_key => true)");
        var wallet = rows.Single(r => r.ContainsKey("address_raw"));
        var requesterWallet = (string)wallet["address_raw"]!;
        Assert.Equal(Path.Combine(Requester, "node_key"), (string)wallet["mnemonic_file"]!);
        await chain.FundAsync(requesterWallet, 20_000_000_000);
        var contracts = Sql(Requester, "SELECT contract, address FROM p2p_contracts(deploy => true)");
        var globalParams = (string)contracts.Single(r => (string)r["contract"]! == "GlobalParams")["address"]!;
        var anchor = (string)contracts.Single(r => (string)r["contract"]! == "RecordAnchor")["address"]!;

        // Host 0 (before the grid starts it): the same GlobalParams, its node-key wallet, 3 TON staked in its vault.
        var host0 = Path.Combine(GridRoot, "host-0");
        Directory.CreateDirectory(host0);
        rows = Sql(host0, on, $"SELECT * FROM p2p_set('economics.local.contracts.global_params', '{globalParams}')",
            "SELECT address_raw FROM p2p_wallet(node_key => true)", "SELECT value AS host_node_id FROM p2p_status() WHERE key = 'node_id'");
        var hostWallet = (string)rows.Single(r => r.ContainsKey("address_raw"))["address_raw"]!;
        var hostNodeId = (string)rows.Single(r => r.ContainsKey("host_node_id"))["host_node_id"]!;
        Assert.NotEqual(requesterWallet, hostWallet);
        await chain.FundAsync(hostWallet, 10_000_000_000);
        var stake = Sql(host0, "SELECT action, staked_nanoton FROM p2p_stake(3)").Single();
        Assert.Equal(("deploy+deposit", 3_000_000_000L), ((string)stake["action"]!, (long)stake["staked_nanoton"]!));

        // The grid (host 0 staked, hosts 1 and 2 not); the requester is the keeper, with one-second epochs.
        var seed = StartGrid();
        rows = Sql(Requester, "SELECT * FROM p2p_set('economics.records.keeper', 'true')", "SELECT * FROM p2p_set('economics.records.epoch_secs', '1')",
            $"SELECT count(*) AS peers FROM p2p_join(bootstrap => ['{seed}'])",
            "SELECT key, value FROM p2p_query_meta('SELECT 42 AS v, sum(range) AS s FROM range(500)', prefer => 'remote', replicas => 3, quorum => 2) WHERE key IN ('job_id', 'verified')",
            "SELECT node_id, stake_ton FROM p2p_peers() ORDER BY node_id");
        var meta = rows.Where(r => r.ContainsKey("key")).ToDictionary(r => (string)r["key"]!, r => (string)r["value"]!);
        Assert.Equal("true", meta["verified"]);
        var peers = rows.Where(r => r.ContainsKey("stake_ton")).ToList();
        Assert.Equal(3, peers.Count);
        // Read from each host's vault on the chain: 3 TON for host 0; 0 (no vault deployed, known, not unknown) for the others.
        Assert.All(peers, p => Assert.Equal((string)p["node_id"]! == hostNodeId ? 3.0 : 0.0, (double?)p["stake_ton"]));

        // The record's epoch window has ended: p2p_job_proof on the keeper seals it and anchors the root on chain.
        Thread.Sleep(1100);
        var proof = Sql(Requester, $"SELECT epoch, root, anchored, network, anchor_address, anchor_tx FROM p2p_job_proof('{meta["job_id"]}')").Single();
        Assert.True((bool)proof["anchored"]!, proof.ToJsonString());
        Assert.Equal("local", (string)proof["network"]!);
        Assert.Matches("^[0-9a-f]{64}$|^[A-Za-z0-9+/_-]{43}=?$", (string)proof["anchor_tx"]!);
        var epochs = Sql(Requester, "SELECT epoch, root, anchored, anchor_tx FROM p2p_epochs()");
        var epoch = epochs.Single(e => (long)e["epoch"]! == (long)proof["epoch"]!);
        Assert.True((bool)epoch["anchored"]!);
        Assert.Equal((string)proof["root"]!, (string)epoch["root"]!);
        Assert.Equal((string)proof["anchor_tx"]!, (string)epoch["anchor_tx"]!);
        // The anchor received the keeper wallet's submission: 0.05 TON of gas value.
        var received = await chain.LastIncomingAsync(anchor, ToFriendlyOf(requesterWallet, anchor));
        Assert.Equal(50_000_000, received.Value);
    }

    [Fact]
    public async Task A_paid_query_opens_an_escrow_sized_by_the_contract_formula_and_pays_exactly_the_winner_the_verifiers_and_the_treasury()
    {
        await using var chain = await LocalChainProcess.StartAsync();
        var on = $"SELECT enabled FROM p2p_economics(enabled => true, network => 'local', rpc => '{chain.Rpc}')";
        string WalletOf(string dir, params string[] before) =>
            (string)Sql(dir, [on, .. before, "SELECT address_raw FROM p2p_wallet(node_key => true)"]).Single(r => r.ContainsKey("address_raw"))["address_raw"]!;

        // The treasury (fee recipient) and the requester, which deploys GlobalParams with that treasury.
        var treasuryDir = Path.Combine(_dir, "treasury");
        var treasury = WalletOf(treasuryDir);
        var requester = WalletOf(Requester, $"SELECT * FROM p2p_set('economics.fee_recipient', '{treasury}')", "SELECT rail FROM p2p_economics(rail => 'ton')");
        await chain.FundAsync(requester, 20_000_000_000);
        var globalParams = (string)Sql(Requester, "SELECT contract, address FROM p2p_contracts(deploy => true)").Single(r => (string)r["contract"]! == "GlobalParams")["address"]!;
        var useParams = $"SELECT * FROM p2p_set('economics.local.contracts.global_params', '{globalParams}')";

        // Three hosts charging a fixed 1 TON per job; each wallet is deployed by its first request (a 1 TON stake).
        var hosts = new Dictionary<string, string>(); // wallet (raw) -> config dir
        foreach (var dir in new[] { treasuryDir }.Concat(Enumerable.Range(0, 3).Select(i => Path.Combine(GridRoot, $"host-{i}"))))
        {
            Directory.CreateDirectory(dir);
            var wallet = dir == treasuryDir ? treasury : WalletOf(dir, "SELECT * FROM p2p_set('economics.pricing.model', 'fixed')", "SELECT * FROM p2p_set('economics.pricing.unit_price', '1')");
            await chain.FundAsync(wallet, 3_000_000_000);
            Assert.Equal(1_000_000_000L, (long)Sql(dir, useParams, "SELECT staked_nanoton FROM p2p_stake(1)").Single(r => r.ContainsKey("staked_nanoton"))["staked_nanoton"]!);
            if (dir != treasuryDir)
            {
                hosts[wallet] = dir;
            }
        }
        var before = new Dictionary<string, long> { [treasury] = await chain.BalanceAsync(treasury) };
        foreach (var w in hosts.Keys)
        {
            before[w] = await chain.BalanceAsync(w);
        }

        var seed = StartGrid();
        var rows = Sql(Requester, $"SELECT count(*) AS peers FROM p2p_join(bootstrap => ['{seed}'])",
            "SELECT \"group\", key, value FROM p2p_query_meta('SELECT 42 AS v, sum(range) AS s FROM range(700)', payment => 'paid', prefer => 'remote', replicas => 3, quorum => 2)");
        var meta = rows.Where(r => r.ContainsKey("key")).ToDictionary(r => (string)r["group"]! + "." + (string)r["key"]!, r => (string?)r["value"]);
        Assert.True(meta["query.verified"] == "true", string.Join("\n", meta));
        Assert.True(meta["payment.state"] == "settled", string.Join("\n", meta));
        Assert.Equal("paid", meta["payment.mode"]);
        Assert.False(meta.ContainsKey("payment.settle_error"));

        // The legs: base 1 TON to the winner, 15 % to the treasury, 5 % to each agreeing verifier; B covers exactly those.
        var legs = meta.Where(m => m.Key.StartsWith("payment.leg_", StringComparison.Ordinal))
            .Select(m => (Role: m.Key["payment.leg_".Length..], To: m.Value!.Split(' ')[0], Nano: long.Parse(m.Value!.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture))).ToList();
        var commissions = legs.Count(l => l.Role.StartsWith("commission", StringComparison.Ordinal));
        Assert.InRange(commissions, 1, 2);
        Assert.Equal(1_000_000_000, legs.Single(l => l.Role == "winner").Nano);
        var platformFee = legs.Single(l => l.Role == "platform_fee");
        Assert.Equal((treasury, 150_000_000L), (platformFee.To, platformFee.Nano));
        Assert.All(legs.Where(l => l.Role.StartsWith("commission", StringComparison.Ordinal)), l => Assert.Equal(50_000_000, l.Nano));
        var locked = 1_000_000_000L + 150_000_000L + commissions * 50_000_000L;
        Assert.Equal(locked.ToString(System.Globalization.CultureInfo.InvariantCulture), meta["payment.locked_nanoton"]);
        Assert.Equal("0", meta["payment.refund_nanoton"]);

        // On chain, to the nanoton: each payee received exactly its leg from the escrow, and its balance rose by that less its receiving fee.
        var escrow = meta["payment.escrow"]!;
        foreach (var (_, to, nano) in legs)
        {
            Assert.True(to == treasury || hosts.ContainsKey(to), to);
            var (value, fee) = await chain.LastIncomingAsync(to, ChainAddresses.Friendly(escrow));
            Assert.Equal(nano, value);
            Assert.Equal(before[to] + nano - fee, await chain.BalanceAsync(to));
        }
        // Hosts that were not among the agreeing ones got nothing.
        foreach (var w in hosts.Keys.Where(w => legs.All(l => l.To != w)))
        {
            Assert.Equal(before[w], await chain.BalanceAsync(w));
        }
        Assert.Equal(50_000_000, await chain.BalanceAsync(escrow)); // the escrow keeps exactly its reserve
        // The settled escrow is on disk, closed: a restart has nothing to resume.
        var stored = File.ReadAllText(Directory.GetFiles(Path.Combine(Requester, "escrows"), "*.json").Single());
        Assert.Contains("\"State\": \"settled\"", stored, StringComparison.Ordinal);
    }

    [Fact]
    public void P2p_wallet_takes_one_source_of_its_key()
    {
        foreach (var args in new[] { "generate => true, node_key => true", "import => '/tmp/x', node_key => true", "generate => true, import => '/tmp/x'" })
        {
            var r = CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", Requester, "-c", $"SELECT * FROM p2p_wallet({args})"],
                timeout: TimeSpan.FromMinutes(2));
            Assert.Equal(1, r.ExitCode);
            Assert.Contains("p2p_wallet: give one of generate => true, import => '<file>' or node_key => true", r.Stderr, StringComparison.Ordinal);
        }
        // Economics off: node_key => true is refused like every wallet call.
        var off = CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", Requester, "-c", "SELECT * FROM p2p_wallet(node_key => true)"],
            timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(1, off.ExitCode);
        Assert.Contains("economics is off", off.Stderr, StringComparison.Ordinal);
    }

    /// <summary>The requester's wallet in the friendly form the emulator reports senders in (same hash; flags do not matter to the comparison).</summary>
    private static string ToFriendlyOf(string raw, string friendlyTemplate)
    {
        var template = Convert.FromBase64String(friendlyTemplate.Replace('-', '+').Replace('_', '/'));
        var parts = raw.Split(':');
        var bytes = new byte[36];
        bytes[0] = template[0];
        bytes[1] = (byte)sbyte.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        Convert.FromHexString(parts[1]).CopyTo(bytes, 2);
        // CRC bytes are not checked by the comparison (it looks at bytes 1..33 only).
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }
}

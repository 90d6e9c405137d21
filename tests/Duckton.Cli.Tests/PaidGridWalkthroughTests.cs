using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Duckton.Cli.Tests;

/// <summary>
/// The paid-grid walk-through of docs/TON.md ("Walk-through: a paid grid with a cheater"), as real processes on the local
/// emulator (no real TON): `duckton chain up`, a funded requester that deploys the contracts (it is the GlobalParams admin,
/// so the vaults' slasher, and the record keeper), `duckton grid up --hosts 5 --cheaters 1 --economics RPC`, paid queries
/// whose legs land to the nanoton, the SIMULATED cheater caught by a canary and slashed through its vault, and an anchored
/// epoch whose inclusion proof verifies.
/// </summary>
public sealed partial class PaidGridWalkthroughTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("duckton-walkthrough-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };
    private Process? _grid;

    public void Dispose()
    {
        if (_grid is { HasExited: false })
        {
            _grid.StandardInput.Close();
            _grid.Kill(entireProcessTree: true);
            _grid.WaitForExit(10_000);
        }
        _grid?.Dispose();
        _http.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private string Requester => Path.Combine(_dir, "requester");

    private static List<JsonObject> Sql(string configDir, params string[] commands)
    {
        var r = CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "sql", "--config-dir", configDir, "--format", "jsonlines",
            .. commands.SelectMany(c => new[] { "-c", c })], timeout: TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
    }

    private sealed record GridHost(int Index, string Wallet, string Vault, string NodeId, bool Cheater);

    [GeneratedRegex(@"^host (\d+): economics on \([^)]*\); wallet \S+ \((\S+)\); staked ([0-9.]+) TON in (\S+); price 1 TON per job$")]
    private static partial Regex EconomicsLine();

    [GeneratedRegex(@"^\S+ node_id=(\S+) (.*)$")]
    private static partial Regex ReadyLine();

    [GeneratedRegex(@"p2p_join\(bootstrap => \['([^']+)'\]\)")]
    private static partial Regex SeedLine();

    private (string Seed, List<GridHost> Hosts) StartGrid(Uri rpc, string globalParams)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "up", "--hosts", "5", "--cheaters", "1", "--economics", rpc.ToString(),
            "--global-params", globalParams, "--config-root", Path.Combine(_dir, "grid") })
        {
            psi.ArgumentList.Add(a);
        }
        _grid = Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        _grid.ErrorDataReceived += (_, e) => { lock (stderr) { stderr.AppendLine(e.Data); } };
        _grid.BeginErrorReadLine();
        var hosts = new List<GridHost>();
        (string Wallet, string Vault)? pending = null;
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromMinutes(3))
        {
            var read = _grid.StandardOutput.ReadLineAsync();
            if (!read.Wait(TimeSpan.FromMinutes(3) - waited.Elapsed) || read.Result is not { } line)
            {
                break;
            }
            if (EconomicsLine().Match(line) is { Success: true } e)
            {
                Assert.Equal("1", e.Groups[3].Value); // staked 1 TON (the default --stake)
                pending = (e.Groups[2].Value, e.Groups[4].Value);
            }
            else if (ReadyLine().Match(line) is { Success: true } r && pending is { } p)
            {
                hosts.Add(new GridHost(hosts.Count, p.Wallet, p.Vault, r.Groups[1].Value, r.Groups[2].Value.Contains("SIMULATED cheater", StringComparison.Ordinal)));
                pending = null;
            }
            else if (SeedLine().Match(line) is { Success: true } m)
            {
                _ = _grid.StandardOutput.ReadToEndAsync();
                return (m.Groups[1].Value, hosts);
            }
        }
        lock (stderr)
        {
            throw new InvalidOperationException("grid up --economics did not come up: " + stderr);
        }
    }

    // ------------------------------------------------------------------ the chain, read through its API

    private sealed record Tx(ulong Lt, string? Source, long InValue, IReadOnlyList<(string Destination, long Value, long FwdFee)> Out, long Fee, bool Bounced);

    private async Task<JsonElement> Api(Uri rpc, string path)
    {
        using var doc = JsonDocument.Parse(await _http.GetStringAsync(new Uri(rpc, path)));
        Assert.True(doc.RootElement.GetProperty("ok").GetBoolean(), doc.RootElement.ToString());
        return doc.RootElement.GetProperty("result").Clone();
    }

    private async Task<long> Balance(Uri rpc, string address) =>
        long.Parse((await Api(rpc, "/api/v2/getAddressBalance?address=" + Uri.EscapeDataString(address))).GetString()!, CultureInfo.InvariantCulture);

    private static long L(JsonElement e, string name) => long.Parse(e.GetProperty(name).GetString()!, CultureInfo.InvariantCulture);

    /// <summary>The account's transactions after logical time <paramref name="afterLt"/> (oldest first).</summary>
    private async Task<List<Tx>> Since(Uri rpc, string address, ulong afterLt)
    {
        var txs = await Api(rpc, "/api/v2/getTransactions?limit=100&address=" + Uri.EscapeDataString(address) + "&to_lt=" + afterLt.ToString(CultureInfo.InvariantCulture));
        var list = new List<Tx>();
        foreach (var t in txs.EnumerateArray())
        {
            var inMsg = t.GetProperty("in_msg");
            var outs = t.GetProperty("out_msgs").EnumerateArray().Select(o => (Raw(o.GetProperty("destination").GetString()!), L(o, "value"), L(o, "fwd_fee"))).ToList();
            var source = inMsg.GetProperty("source").GetString();
            list.Add(new Tx(ulong.Parse(t.GetProperty("transaction_id").GetProperty("lt").GetString()!, CultureInfo.InvariantCulture),
                string.IsNullOrEmpty(source) ? null : Raw(source), L(inMsg, "value"), outs, L(t, "fee"), inMsg.GetProperty("bounced").GetBoolean()));
        }
        Assert.True(list.Count < 100, "more transactions than one page");
        list.Reverse();
        return list;
    }

    private async Task<ulong> LastLt(Uri rpc, string address)
    {
        var txs = await Api(rpc, "/api/v2/getTransactions?limit=1&address=" + Uri.EscapeDataString(address));
        return txs.GetArrayLength() == 0 ? 0 : ulong.Parse(txs[0].GetProperty("transaction_id").GetProperty("lt").GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>A friendly or raw address as raw <c>0:hex</c> (the form the CLI prints payees in).</summary>
    private static string Raw(string address)
    {
        if (address.Contains(':', StringComparison.Ordinal))
        {
            return address.ToLowerInvariant();
        }
        var bytes = Convert.FromBase64String(address.Replace('-', '+').Replace('_', '/'));
        return $"{(sbyte)bytes[1]}:{Convert.ToHexStringLower(bytes, 2, 32)}";
    }

    [Fact]
    public void Grid_up_economics_options_that_do_not_fit_are_usage_errors_before_anything_starts()
    {
        const string Gp = "0:1111111111111111111111111111111111111111111111111111111111111111";
        foreach (var (args, message) in new (string[] Args, string Message)[]
        {
            (["--economics", "http://127.0.0.1:9/api/v2"], "--economics needs --global-params ADDR"),
            (["--economics", "not a url", "--global-params", Gp], "is not an http(s) URL"),
            (["--economics", "http://127.0.0.1:9/api/v2", "--global-params", "nope"], "--global-params 'nope' is not a TON address"),
            (["--global-params", Gp], "--global-params goes with --economics RPC"),
            (["--economics", "http://127.0.0.1:9/api/v2", "--global-params", Gp, "--stake", "0"], "--stake must be at least 1"),
        })
        {
            var r = CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "up", "--hosts", "1", "--config-root", Path.Combine(_dir, "unused"), .. args],
                timeout: TimeSpan.FromMinutes(2));
            Assert.True(r.ExitCode == 2, r.Stdout + r.Stderr);
            Assert.Contains(message, r.Stderr, StringComparison.Ordinal);
            Assert.Empty(r.Stdout.Trim());
        }
        // A chain that is not there: the first host's setup fails with the reason, and nothing is left running.
        var down = CliRunner.Run("dotnet", [Path.Combine(AppContext.BaseDirectory, "duckton.dll"), "grid", "up", "--hosts", "1", "--config-root", Path.Combine(_dir, "down"),
            "--economics", "http://127.0.0.1:9/api/v2", "--global-params", Gp], timeout: TimeSpan.FromMinutes(2));
        Assert.Equal(1, down.ExitCode);
        Assert.Contains("host 0: economics setup failed: the TON API at http://127.0.0.1:9 failed", down.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paid_queries_on_a_staked_grid_pay_every_leg_to_the_nanoton_the_cheater_is_slashed_and_a_job_proof_verifies()
    {
        var started = Stopwatch.StartNew();
        await using var chain = await LocalChainProcess.StartAsync();
        var rpc = chain.Rpc;
        var on = $"SELECT enabled FROM p2p_economics(enabled => true, network => 'local', rpc => '{rpc}')";
        string WalletOf(string dir, params string[] before) =>
            (string)Sql(dir, [on, .. before, "SELECT address_raw FROM p2p_wallet(node_key => true)"]).Single(r => r.ContainsKey("address_raw"))["address_raw"]!;

        // The treasury (fee recipient; its wallet is deployed by a first request so payments to it are not bounced).
        var treasuryDir = Path.Combine(_dir, "treasury");
        var treasury = WalletOf(treasuryDir);
        // The requester: node-key wallet, funded by the faucet; it deploys GlobalParams (so it is the admin, the vaults'
        // slasher) and RecordAnchor (so it is the keeper), with one-second epochs.
        var requester = WalletOf(Requester, $"SELECT * FROM p2p_set('economics.fee_recipient', '{treasury}')", "SELECT rail FROM p2p_economics(rail => 'ton')",
            "SELECT * FROM p2p_set('economics.records.keeper', 'true')", "SELECT * FROM p2p_set('economics.records.epoch_secs', '1')",
            // Patient with offers and commits: five hosts, their sandboxes and the chain share a loaded 2-core machine.
            "SELECT * FROM p2p_set('scheduler.offer_timeout_ms', '10000')", "SELECT * FROM p2p_set('scheduler.dispatch_timeout_ms', '120000')");
        await chain.FundAsync(requester, 30_000_000_000);
        var contracts = Sql(Requester, "SELECT contract, address FROM p2p_contracts(deploy => true)");
        var globalParams = (string)contracts.Single(r => (string)r["contract"]! == "GlobalParams")["address"]!;
        await chain.FundAsync(treasury, 2_000_000_000);
        Sql(treasuryDir, $"SELECT * FROM p2p_set('economics.local.contracts.global_params', '{globalParams}')", "SELECT staked_nanoton FROM p2p_stake(1)");

        // The grid: 5 hosts (host 4 the SIMULATED cheater), each funded, staked 1 TON and priced at 1 TON per job by grid up itself.
        var (seed, hosts) = StartGrid(rpc, globalParams);
        Assert.Equal(5, hosts.Count);
        var cheater = hosts.Single(h => h.Cheater);
        var parties = hosts.Select(h => h.Wallet).Append(treasury).Append(requester).ToList();
        var before = new Dictionary<string, (long Balance, ulong Lt)>();
        foreach (var w in parties)
        {
            before[w] = (await Balance(rpc, w), await LastLt(rpc, w));
        }
        var vaultBefore = await Balance(rpc, cheater.Vault);

        // Paid queries. The first one vets every newcomer with a canary: the cheater signs a wrong answer (evidence) and
        // the requester, as slasher, slashes its vault in the background.
        var commands = new List<string> { $"SELECT count(*) AS peers FROM p2p_join(bootstrap => ['{seed}'])" };
        for (var q = 0; q < 3; q++)
        {
            commands.Add($"SELECT {q} AS q, \"group\", key, value FROM p2p_query_meta('SELECT {q} AS q, sum(range) AS s FROM range({600 + q})', payment => 'paid', prefer => 'remote', replicas => 3, quorum => 2)");
        }
        var rows = Sql(Requester, [.. commands]);
        var legs = new List<(string To, long Nano, string Escrow, string Role)>();
        var jobs = new List<string>();
        for (var q = 0; q < 3; q++)
        {
            var meta = rows.Where(r => r.ContainsKey("key") && (int)r["q"]! == q).ToDictionary(r => (string)r["group"]! + "." + (string)r["key"]!, r => (string?)r["value"]);
            Assert.True(meta["query.verified"] == "true" && meta["payment.state"] == "settled", string.Join("\n", meta));
            jobs.Add(meta["query.job_id"]!);
            foreach (var leg in meta.Where(m => m.Key.StartsWith("payment.leg_", StringComparison.Ordinal)))
            {
                var parts = leg.Value!.Split(' ');
                legs.Add((parts[0], long.Parse(parts[1], CultureInfo.InvariantCulture), Raw(meta["payment.escrow"]!), leg.Key));
            }
            Assert.Equal(1_000_000_000, legs.Single(l => l.Escrow == Raw(meta["payment.escrow"]!) && l.Role == "payment.leg_winner").Nano);
        }
        Assert.DoesNotContain(legs, l => l.To == cheater.Wallet); // never selected after failing its canary

        // The slashes: one per piece of evidence (the canary's wrong answer; under load the cheater may also have been
        // in a real job before its canary answered, and its commit contradicting the certificate is a second piece).
        // Later requester processes (joining starts their slasher round) see every record final.
        List<JsonObject> records = [];
        for (var attempt = 0; attempt < 6; attempt++)
        {
            rows = Sql(Requester, $"SELECT count(*) AS peers FROM p2p_join(bootstrap => ['{seed}'])",
                $"SELECT job_id, verdict, slash_state, slash_nanoton, slash_tx FROM p2p_receipts(worker => '{cheater.NodeId}') WHERE slash_state IS NOT NULL");
            records = Directory.Exists(Path.Combine(Requester, "slashes"))
                ? [.. Directory.GetFiles(Path.Combine(Requester, "slashes"), "*.json").Select(f => JsonNode.Parse(File.ReadAllText(f))!.AsObject())]
                : [];
            if (records.Count > 0 && records.All(r => (string)r["State"]! is "slashed" or "no_stake") && records.Any(r => (string)r["State"]! == "slashed"))
            {
                break;
            }
            Thread.Sleep(2000);
        }
        // (no_stake: a later piece found the vault already emptied by a 100 % slash.)
        Assert.True(records.All(r => (string)r["State"]! is "slashed" or "no_stake") && records.Any(r => (string)r["State"]! == "slashed"), "the cheater was not slashed: " + string.Join("\n", records.Select(r => r.ToJsonString())));
        Assert.All(records, r => Assert.Equal(cheater.NodeId, (string)r["NodeId"]!));
        var receiptRows = rows.Where(r => r.ContainsKey("slash_state")).ToList();
        foreach (var r in records.Where(r => (string)r["State"]! == "slashed"))
        {
            // Each is linked from the cheater's Incorrect receipt of that job, with its amount and the vault's transaction.
            var receipt = receiptRows.First(x => (string)x["job_id"]! == (string)r["JobId"]!);
            Assert.Equal(("Incorrect", "slashed", (long)r["AmountNanoton"]!, (string)r["VaultTx"]!),
                ((string)receipt["verdict"]!, (string)receipt["slash_state"]!, (long)receipt["slash_nanoton"]!, (string)receipt["slash_tx"]!));
            Assert.Equal(Convert.ToUInt64(((string)r["EvidenceHash"]!)[..16], 16), (ulong)r["QueryId"]!);
            // A wrong canary costs slash_wrong_result_pct (15 %), a commit contradicting a certificate slash_cheat_pct (100 %).
            Assert.Equal((string)r["Kind"]! == "wrong_canary" ? 1500 : 10000, (int)r["Bps"]!);
        }
        // Each amount is floor(held · bps / 10000) of what the vault held when it was taken (1 TON staked at first).
        var amounts = records.Where(r => (string)r["State"]! == "slashed").Select(r => (long)r["AmountNanoton"]!).ToList();
        var orders = new List<List<JsonObject>> { records, Enumerable.Reverse(records).ToList() };
        Assert.Contains(orders, order =>
        {
            var held = 1_000_000_000L;
            foreach (var r in order)
            {
                if ((long)r["AmountNanoton"]! != held * (int)r["Bps"]! / 10_000)
                {
                    return false;
                }
                held -= (long)r["AmountNanoton"]!;
            }
            return true;
        });
        static long Share(long amount, int bps) => amount * bps / 10_000;

        // Every party's balance change is exactly its legs, less the fees its own transactions paid (measured on chain).
        foreach (var w in parties)
        {
            var txs = await Since(rpc, w, before[w].Lt);
            var delta = await Balance(rpc, w) - before[w].Balance;
            var inValue = txs.Sum(t => t.InValue);
            var outValue = txs.Sum(t => t.Out.Sum(o => o.Value + o.FwdFee));
            var fees = txs.Sum(t => t.Fee);
            Assert.True(inValue - outValue - fees == delta, $"{w}: in {inValue} − out {outValue} − fees {fees} ≠ Δ {delta}");
            var fromEscrows = txs.Where(t => t.Source is { } s && legs.Any(l => l.Escrow == s)).Select(t => t.InValue).Order().ToList();
            if (w != requester)
            {
                // (The requester gets each escrow's unused gas back: measured in the identity above, not a leg.)
                Assert.Equal(legs.Where(l => l.To == w).Select(l => l.Nano).Order().ToList(), fromEscrows);
            }
            var fromVault = txs.Where(t => t.Source == Raw(cheater.Vault)).Select(t => t.InValue).Order().ToList();
            if (w == requester)
            {
                Assert.Equal(amounts.Select(a => Share(a, 4000)).Order().ToList(), fromVault); // the challenger's 40 % of each
                var toVault = txs.SelectMany(t => t.Out).Where(o => o.Destination == Raw(cheater.Vault)).ToList();
                Assert.Equal(amounts.Select(_ => 50_000_000L).ToList(), toVault.Select(o => o.Value).ToList()); // one slash message each, 0.05 TON of gas value
            }
            else if (w == treasury)
            {
                // The treasury's 10 % and the redundancy pool's 30 % of each (the fee recipient stands for both).
                Assert.Equal(amounts.SelectMany(a => new[] { Share(a, 1000), Share(a, 3000) }).Order().ToList(), fromVault);
            }
            else
            {
                // Hosts only receive: Δ = their legs − the fees of receiving them. The cheater earned nothing.
                Assert.Equal(0, outValue);
                Assert.Equal(legs.Where(l => l.To == w).Sum(l => l.Nano) - fees, delta);
                Assert.Empty(fromVault);
            }
        }
        // The vault paid out 80 % of each slash and kept the burnt 20 % (plus each slash message's gas value less its fees).
        var slashTxs = (await Since(rpc, Raw(cheater.Vault), 0)).Where(t => t.Source == requester).ToList();
        Assert.Equal(amounts.Count, slashTxs.Count);
        Assert.Equal(vaultBefore + slashTxs.Sum(t => 50_000_000 - t.Fee - t.Out.Sum(o => o.Value + o.FwdFee)), await Balance(rpc, cheater.Vault));
        Assert.Equal(amounts.Sum(a => Share(a, 4000) + Share(a, 3000) + Share(a, 1000)), slashTxs.Sum(t => t.Out.Sum(o => o.Value)));

        // The stake shrank where everybody reads it: p2p_peers() shows 1 TON less the slashes for the cheater (0.85 after
        // the canary's 15 %), 1 TON for the others.
        // The record keeper anchored the epoch of the first job; its inclusion proof verifies.
        Thread.Sleep(1100);
        // (The first p2p_peers() starts the stake reads, a free remote query gives them time, the second shows them.)
        rows = Sql(Requester, $"SELECT count(*) AS peers FROM p2p_join(bootstrap => ['{seed}'])", "SELECT count(*) AS warm FROM p2p_peers()",
            "SELECT count(*) AS free_rows FROM p2p_query('SELECT 7 AS x', prefer => 'remote', replicas => 3, quorum => 2)",
            "SELECT node_id, stake_ton AS stake_now FROM p2p_peers()",
            $"SELECT anchored, anchor_tx, proof FROM p2p_job_proof('{jobs[0]}')");
        var stakes = rows.Where(r => r.ContainsKey("stake_now")).ToDictionary(r => (string)r["node_id"]!, r => (double?)r["stake_now"]);
        Assert.Equal((1_000_000_000 - amounts.Sum()) / 1e9, stakes[cheater.NodeId]);
        Assert.True(amounts.Sum() > 0);
        Assert.All(hosts.Where(h => !h.Cheater), h => Assert.Equal(1.0, stakes[h.NodeId]));
        var proof = rows.Single(r => r.ContainsKey("proof"));
        Assert.True((bool)proof["anchored"]!, proof.ToJsonString());
        var verified = Sql(Requester, $"SELECT valid, error, job_id FROM p2p_verify_proof('{((string)proof["proof"]!).Replace("'", "''", StringComparison.Ordinal)}')").Single();
        Assert.True((bool)verified["valid"]!, verified.ToJsonString());
        Assert.Equal(jobs[0], (string)verified["job_id"]!);
        Assert.True(started.Elapsed < TimeSpan.FromMinutes(6), $"the walk-through took {started.Elapsed}");
    }
}

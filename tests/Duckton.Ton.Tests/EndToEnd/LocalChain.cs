using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Duckton.Core.Crypto;
using Duckton.Ton.Addresses;
using Duckton.Ton.Rpc;
using Duckton.Ton.Wallets;

namespace Duckton.Ton.Tests.EndToEnd;

/// <summary>
/// One `duckton chain up --port 0` (the local @ton/sandbox emulator behind a toncenter-v2 API), started through the
/// repository's ./duckton script for the whole test class, stopped by closing its stdin.
/// </summary>
public sealed class LocalChain : IAsyncLifetime
{
    private Process? _process;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(60) };

    public Uri Rpc { get; private set; } = null!;

    public ToncenterClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var root = Path.GetFullPath(Path.Combine(GoldenVectors.ScriptDirectory, "..", "..", ".."));
        var psi = new ProcessStartInfo("bash") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = root };
        foreach (var a in new[] { Path.Combine(root, "duckton"), "chain", "up", "--port", "0", "--exit-with-stdin" })
        {
            psi.ArgumentList.Add(a);
        }
        _process = Process.Start(psi)!;
        var stderr = new System.Text.StringBuilder();
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        _process.BeginErrorReadLine();
        // The first run builds the CLI and runs npm ci: minutes on a loaded machine.
        var readLine = _process.StandardOutput.ReadLineAsync();
        if (await Task.WhenAny(readLine, Task.Delay(TimeSpan.FromMinutes(15))) != readLine || readLine.Result is not { } line)
        {
            _process.Kill(entireProcessTree: true);
            lock (stderr)
            {
                throw new InvalidOperationException("duckton chain up did not print its ready line: " + stderr);
            }
        }
        Assert.StartsWith("ready rpc=http://127.0.0.1:", line);
        Rpc = new Uri(line["ready rpc=".Length..]);
        Client = new ToncenterClient(new ToncenterOptions(Rpc, MaxAttempts: 2, RequestTimeout: TimeSpan.FromSeconds(60)));
        _ = _process.StandardOutput.ReadToEndAsync();
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_process is { HasExited: false })
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
        _process?.Dispose();
        _http.Dispose();
    }

    private Uri Local(string path) => new(Rpc, "/local/" + path);

    private async Task<JsonElement> PostLocal(string path, object body)
    {
        using var response = await _http.PostAsJsonAsync(Local(path), body);
        var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(doc.RootElement.GetProperty("ok").GetBoolean(), doc.RootElement.ToString());
        return doc.RootElement.GetProperty("result").Clone();
    }

    /// <summary>Credits an account directly (the emulator's faucet: no message, no transaction).</summary>
    public Task FundAsync(TonAddress address, Coins amount) =>
        PostLocal("fund", new Dictionary<string, string> { ["address"] = address.ToRaw(), ["amount"] = amount.Nanoton.ToString(CultureInfo.InvariantCulture) });

    public async Task<long> NowAsync()
    {
        using var response = await _http.GetAsync(Local("now"));
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("result").GetProperty("now").GetInt64();
    }

    public async Task AdvanceAsync(long seconds) =>
        await PostLocal("time", new Dictionary<string, long> { ["advance_seconds"] = seconds });

    public Task<Coins> BalanceAsync(TonAddress address) => Client.GetAddressBalanceAsync(address);

    /// <summary>A fresh wallet v5r1 with its own key, funded by the faucet and deployed by its first (empty) request.</summary>
    public async Task<TonWallet> NewWalletAsync(decimal fundTon)
    {
        var key = Ed25519Key.Generate();
        var wallet = new TonWallet(Client, new WalletV5R1(key.PublicKey), key);
        await FundAsync(wallet.Address, Coins.FromTon(fundTon));
        var tx = await SendAsync(wallet);
        Assert.True(tx.Outcome!.Succeeded, $"wallet deploy failed: {tx.Outcome}");
        Assert.True((await Client.GetAddressInformationAsync(wallet.Address)).IsActive);
        return wallet;
    }

    /// <summary>Signs with the wallet's seqno and the chain's clock (which tests move), sends, and returns the wallet's transaction.</summary>
    public async Task<TonTransaction> SendAsync(TonWallet wallet, params OutMessage[] messages)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(await NowAsync());
        var transfer = await wallet.PrepareAsync(messages, TimeSpan.FromMinutes(2), now);
        var tx = await wallet.SendAndConfirmAsync(transfer, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        Assert.True(tx.Outcome!.Succeeded, $"wallet request failed: {tx.Outcome}");
        return tx;
    }

    /// <summary>The newest transaction of <paramref name="account"/> caused by a message from <paramref name="from"/>.</summary>
    public async Task<TonTransaction> LastFromAsync(TonAddress account, TonAddress from)
    {
        var txs = await Client.GetTransactionsAsync(account, 20);
        return txs.First(t => t.InMessage?.Source == from);
    }
}

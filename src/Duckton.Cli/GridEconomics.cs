using System.Globalization;
using System.Net.Http.Json;
using Duckton.Core.Configuration;
using Duckton.Node.Economics;
using Duckton.Ton;
using Microsoft.Extensions.Logging;

namespace Duckton.Cli;

/// <summary>
/// <c>grid up --economics RPC --global-params ADDR</c>: before a host starts, its configuration turns economics on for
/// the local chain at <see cref="Rpc"/> with the requester's GlobalParams, its node key becomes its wallet (so peers find
/// its vault), the emulator's faucet (<c>/local/fund</c>, local chain only) funds it with the stake plus 1 TON of gas,
/// it stakes <see cref="StakeTon"/> and prices every job at <see cref="PriceTon"/> (fixed model).
/// </summary>
internal sealed record GridEconomics(string Rpc, string GlobalParams, int StakeTon, int PriceTon)
{
    /// <summary>Gas money each host gets on top of its stake.</summary>
    public const long GasNanoton = 1_000_000_000;

    /// <summary>Why the options do not fit together, or null.</summary>
    public static string? Problem(string? rpc, string? globalParams, int stake, int price)
    {
        if (rpc is null)
        {
            return globalParams is not null ? "--global-params goes with --economics RPC" : null;
        }
        if (!Uri.TryCreate(rpc.Trim(), UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https"))
        {
            return $"--economics '{rpc}' is not an http(s) URL; give the local chain's RPC, e.g. --economics http://127.0.0.1:8081/api/v2 (duckton chain up prints it)";
        }
        if (string.IsNullOrWhiteSpace(globalParams))
        {
            return "--economics needs --global-params ADDR: the GlobalParams the requester deployed (SELECT address FROM p2p_contracts(deploy => true) WHERE contract = 'GlobalParams')";
        }
        if (!Duckton.Ton.Addresses.TonAddress.TryParse(globalParams.Trim(), out _))
        {
            return $"--global-params '{globalParams}' is not a TON address";
        }
        return stake < 1 ? "--stake must be at least 1 (whole TON)" : price < 0 ? "--price must be 0 or more (whole TON)" : null;
    }

    /// <summary>What one host ended up with.</summary>
    public sealed record Prepared(string Wallet, string WalletRaw, string Vault, decimal StakedTon);

    /// <summary>Configures, funds and stakes the host whose configuration directory is <paramref name="dir"/> (idempotent: a host already staked is not funded again).</summary>
    public Prepared Prepare(string dir, ILogger log)
    {
        var store = new ConfigStore(dir);
        store.Set([
            new("economics.enabled", "true"),
            new("economics.network", "local"),
            new("economics.local.rpc", Rpc),
            new("economics.local.contracts.global_params", GlobalParams),
            new("economics.pricing.model", "fixed"),
            new("economics.pricing.unit_price", PriceTon.ToString(CultureInfo.InvariantCulture)),
        ]);
        using var host = new EconomicsHost(store, logger: log);
        var runtime = host.Runtime();
        var wallet = runtime.TryWallet()?.Address ?? runtime.UseNodeKeyAsWallet();
        var want = Coins.FromTon(StakeTon);
        var vault = runtime.VaultAsync().GetAwaiter().GetResult();
        if (vault.State.Staked >= want)
        {
            return new Prepared(runtime.Show(wallet), wallet.ToRaw(), runtime.Show(vault.Vault, true), (decimal)EconomicsRuntime.Nano(vault.State.Staked) / 1_000_000_000m);
        }
        var missing = want - vault.State.Staked;
        using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) })
        {
            // The emulator's faucet: local chain only (no real TON API has it).
            var amount = EconomicsRuntime.Nano(missing) + GasNanoton;
            using var r = http.PostAsJsonAsync(new Uri(new Uri(Rpc), "/local/fund"),
                new Dictionary<string, string> { ["address"] = wallet.ToRaw(), ["amount"] = amount.ToString(CultureInfo.InvariantCulture) }).GetAwaiter().GetResult();
            if (!r.IsSuccessStatusCode)
            {
                throw new EconomicsException($"the local chain's faucet ({Rpc}) refused to fund {runtime.Show(wallet)}: HTTP {(int)r.StatusCode} "
                    + r.Content.ReadAsStringAsync().GetAwaiter().GetResult() + " (is it the emulator of duckton chain up?)");
            }
        }
        var op = runtime.StakeAsync(missing).GetAwaiter().GetResult();
        return new Prepared(runtime.Show(wallet), wallet.ToRaw(), runtime.Show(op.Vault, true), (decimal)EconomicsRuntime.Nano(op.State.Staked) / 1_000_000_000m);
    }
}
